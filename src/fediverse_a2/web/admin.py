"""Admin pages: membership requests (approve creates the member and an invitation link)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..models import Member
from ..runtime import Runtime
from ..services.membership import approve, pending_requests, reject
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["AdminPages"]


class AdminPages:
    """/admin/requests (admins only)."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages

    async def _admin(self, request: Request) -> Member | Response:
        member = await self.security.member(request)
        if member is None:
            return RedirectResponse(f"{self.rt.urls.base}/login?next={request.url.path}", status_code=303)
        if not member.is_admin:
            return await self.pages.error(request, 403)
        return member

    async def requests(self, request: Request) -> Response:
        """GET: the waiting requests; POST: approve (with a username) or reject one."""
        admin = await self._admin(request)
        if isinstance(admin, Response):
            return admin
        approved = error = None
        if request.method == "POST":
            form = await self.security.form(request)
            raw_id, decision, username = form.get("request"), form.get("decision"), form.get("username")
            try:
                if not isinstance(raw_id, str) or not raw_id.isdigit():
                    raise UserError("no such request", key="request_not_pending")
                if decision == "approve":
                    chosen = username.strip() if isinstance(username, str) and username.strip() else None
                    member, link = await approve(self.rt, int(raw_id), admin, chosen)
                    approved = (member, link)
                elif decision == "reject":
                    await reject(self.rt, int(raw_id), admin)
                else:
                    raise UserError("choose approve or reject", key="request_not_pending")
            except UserError as exc:
                error = self.render.error_text(request, exc)
        return await self.render.page(
            request, "admin_requests.html", status=400 if error else 200, requests=await pending_requests(self.rt),
            approved=approved, error=error,
        )  # fmt: skip
