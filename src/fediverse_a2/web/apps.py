"""Apps on the web: the authorisation page an app sends its member to, and /settings/apps.

`/oauth/authorize` checks the app's request first (an unknown app or a redirect URI it did not
register is refused here, never redirected), then a signed-out visitor signs in through
/login and comes back, then the member sees which app asks (name, website) for which scopes
and where they will be sent, and approves or denies. With `urn:ietf:wg:oauth:2.0:oob` the
code is shown on the page to copy. `/settings/apps` lists the apps the member let in, each
with a button that takes its access away.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..models import Member
from ..oauth.redirects import OOB, form_action_source
from ..runtime import Runtime
from ..services import apps, oauth
from ..services.oauth import Consent, OAuthAnswer, OAuthCall, OAuthService
from .confirm import Ask, ask
from .forms import field
from .gate import member_of, viewer_of
from .ids import parse_id
from .render import Renderer
from .security import WebSecurity, content_security_policy

__all__ = ["AppPages"]

AUTHORIZE = "/oauth/authorize"
_NOT_CARRIED = ("csrf", "decision")


def scope_texts(scopes: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    """What to show for each scope: a text key and its values (`read:statuses`: "Read: posts")."""
    out: list[tuple[str, dict[str, str]]] = []
    for scope in scopes:
        family, _, part = scope.partition(":")
        if part:
            out.append((f"scope_{family}_part", {"part": f"scope_part_{part}"}))
        else:
            out.append((f"scope_{family}", {}))
    return out


class AppPages:
    """GET/POST /oauth/authorize and /settings/apps."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, service: OAuthService) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.service = service
        self.allow_http = rt.config.federation.allow_private_network

    def _call(self, params: list[tuple[str, str]]) -> OAuthCall:
        return OAuthCall("GET", f"{self.rt.urls.base}{AUTHORIZE}", {}, tuple(params))

    async def _answer(self, request: Request, answer: OAuthAnswer) -> Response:
        """Back to the app (code or error), or shown here: an oob code, or a request that cannot go back."""
        location = answer.location
        if location is not None and location.startswith(OOB):
            code, error = oauth.code_of(answer)
            return await self.render.page(request, "oauth_authorize.html", code=code, denied=error is not None)
        if location is not None:
            return RedirectResponse(location, status_code=302)
        body = answer.body if isinstance(answer.body, dict) else {}
        detail = str(body.get("error_description") or body.get("error") or "")
        return await self.render.page(
            request, "oauth_authorize.html", status=answer.status if answer.status >= 400 else 400, failed=detail
        )

    async def authorize(self, request: Request) -> Response:
        """GET: check the request, sign in, ask the member; POST: the member's decision."""
        member = viewer_of(request)
        decision = None
        if request.method == "GET":
            params = list(request.query_params.multi_items())
        else:
            form = await self.security.form(request)
            params = [(k, v) for k, v in form.multi_items() if k not in _NOT_CARRIED and isinstance(v, str)]
            decision = field(form, "decision", 20)
        checked = await self.service.consent(self._call(params), member)
        if isinstance(checked, OAuthAnswer):
            return await self._answer(request, checked)
        if member is None:  # the request is sound: sign in, and come back to it
            return RedirectResponse(self.render.links.login(f"{AUTHORIZE}?{urlencode(params)}"), status_code=303)
        if decision is None:
            return await self._consent_page(request, member, checked)
        approve = decision == "approve"
        return await self._answer(request, await self.service.authorize(self._call(params), member, approve))

    async def _consent_page(self, request: Request, member: Member, consent: Consent) -> Response:
        page = await self.render.page(
            request, "oauth_authorize.html", consent=consent, scopes=scope_texts(consent.scopes),
            oob=consent.redirect_uri == OOB,
        )  # fmt: skip
        # The approval's answer redirects to the app: its scheme (or origin) must be a form-action.
        page.headers["Content-Security-Policy"] = content_security_policy(
            self.allow_http, form_action_source(consent.redirect_uri)
        )
        return page

    async def settings(self, request: Request) -> Response:
        """The apps the member let in, each with the way to take its access away (/settings/apps/revoke)."""
        member = member_of(request)
        return await self.render.page(
            request, "settings_apps.html", apps=await apps.authorised_apps(self.rt, member),
            revoked=request.query_params.get("revoked") == "1",
        )  # fmt: skip

    async def revoke(self, request: Request) -> Response:
        """GET ?app=ID: asks first; POST: every token the app holds for the member ends."""
        member = member_of(request)
        if request.method == "POST":
            form = await self.security.form(request)
            app_id = parse_id(field(form, "app", 20))
        else:
            app_id = parse_id(request.query_params.get("app"))
        mine = await apps.authorised_apps(self.rt, member)
        found = next((a for a in mine if a.app_id == app_id), None)
        if found is None:
            page = "settings_apps.html"
            return await self.render.page(request, page, status=404, apps=mine, error_key="app_not_found")
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("app_revoke_title", app=found.name), t("app_revoke_explain"), t("app_revoke_confirm"),
                "/settings/apps", fields=(("app", str(found.app_id)),),
            )  # fmt: skip
            return await ask(self.render, request, question)
        await apps.revoke_app(self.rt, member, found.app_id)
        return RedirectResponse(f"{self.rt.urls.base}/settings/apps?revoked=1", status_code=303)
