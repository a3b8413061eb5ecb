"""/interact: "Volgen" on a profile and "Reageren" on a post for a visitor with a fediverse account.

GET shows a form for the visitor's handle (remembered in a cookie); POST looks their server up
and answers 303 to its remote-interaction page (services/interaction.py). A handle that cannot
be used gets the form again with a clear message, never a redirect.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..runtime import Runtime
from ..services.interaction import Target, interaction_url, local_target
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["HANDLE_COOKIE", "InteractPages"]

HANDLE_COOKIE = "a2_handle"
HANDLE_SECONDS = 365 * 86400


class InteractPages:
    """GET and POST /interact?uri=URL of a local member or post."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages

    async def interact(self, request: Request) -> Response:
        if request.method == "GET":
            target = await local_target(self.rt, request.query_params.get("uri", "")[:500])
            if target is None:
                return await self.pages.error(request, 404)
            handle = request.cookies.get(HANDLE_COOKIE, "")[:300]
            return await self._form(request, target, handle)
        form = await self.security.form(request)
        uri, raw_handle = form.get("uri"), form.get("handle")
        target = await local_target(self.rt, uri[:500]) if isinstance(uri, str) else None
        if target is None:
            return await self.pages.error(request, 400)
        handle = raw_handle.strip()[:300] if isinstance(raw_handle, str) else ""
        try:
            url = await interaction_url(self.rt, handle, target.url)
        except UserError as exc:
            return await self._form(request, target, handle, error=exc, status=400)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            HANDLE_COOKIE, handle, max_age=HANDLE_SECONDS, path="/", httponly=True, samesite="lax",
            secure=self.rt.config.instance.base_url.startswith("https:"),
        )  # fmt: skip
        return response

    async def _form(
        self, request: Request, target: Target, handle: str, error: UserError | None = None, status: int = 200
    ) -> Response:
        return await self.render.page(
            request, "interact.html", status=status, target=target, handle=handle,
            follow=self.rt.urls.username(target.url) is not None,
            error=self.render.error_text(request, error) if error else None,
        )  # fmt: skip
