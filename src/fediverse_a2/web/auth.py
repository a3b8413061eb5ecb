"""Signing in and out, choosing a password through an invitation or a reset link, asking to join."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..runtime import Runtime
from ..services import accounts, password_reset
from ..services.membership import request_membership
from .forms import text_field
from .links import MAX_TARGET, local_target
from .render import Renderer
from .security import WebSecurity

__all__ = ["AuthPages"]

SESSION_SECONDS = accounts.SESSION_DAYS * 86400


def _next(value: str) -> str:
    """Where to go after signing in: a path on this site in normal form (never an open redirect)."""
    return local_target(value) or "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class AuthPages:
    """/login, /logout, /invite/{token}, /password/forgot, /password/reset/{token}, /join."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity) -> None:
        self.rt = rt
        self.render = render
        self.security = security

    async def login(self, request: Request) -> Response:
        """GET: the sign-in form; POST: check it, start a fresh session, go on."""
        if request.method == "GET":
            return await self.render.page(request, "login.html", next=_next(request.query_params.get("next", "")))
        form = await self.security.form(request)
        username, password = text_field(form, "username", 64), text_field(form, "password", 1024)
        next_path = _next(text_field(form, "next", MAX_TARGET))
        try:
            signed = await accounts.sign_in(
                self.rt, username, password, _address(request), self.security.session_id(request)
            )
        except accounts.Throttled as exc:
            page = await self.render.page(
                request, "login.html", status=429, error="login_throttled", username=username, next=next_path
            )
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        except UserError:
            return await self.render.page(
                request, "login.html", status=401, error="login_wrong", username=username, next=next_path
            )
        response = RedirectResponse(self.rt.urls.base + next_path, status_code=303)  # a path of ours only
        self.security.set_session(response, signed.session_id, SESSION_SECONDS)
        return response

    async def logout(self, request: Request) -> Response:
        """POST only: end the session."""
        await self.security.form(request)
        session = self.security.session_id(request)
        if session:
            await accounts.end_session(self.rt, session)
        response = RedirectResponse(self.rt.urls.base + "/", status_code=303)
        self.security.clear_session(response)
        return response

    async def invite(self, request: Request) -> Response:
        """GET: choose a password; POST: set it (the link then no longer works) and sign in."""
        token = request.path_params["token"]
        member = await accounts.invited_member(self.rt, token)
        if member is None:
            return await self.render.page(request, "invite.html", status=404, invalid=True)
        if request.method == "GET":
            return await self.render.page(request, "invite.html", invited=member)
        form = await self.security.form(request)
        password, again = text_field(form, "password", 1100), text_field(form, "password_again", 1100)
        if password != again:
            return await self.render.page(request, "invite.html", status=400, invited=member, error="passwords_differ")
        try:
            signed = await accounts.use_invite(self.rt, token, password)
        except UserError as exc:
            error = self.render.error_text(request, exc)
            return await self.render.page(request, "invite.html", status=400, invited=member, error_text=error)
        response = RedirectResponse(self.rt.urls.base + "/", status_code=303)
        self.security.set_session(response, signed.session_id, SESSION_SECONDS)
        return response

    async def join(self, request: Request) -> Response:
        """GET: the membership request form ("Word lid"); POST: store it for the admins."""
        if request.method == "GET":
            return await self.render.page(request, "join.html", values={})
        form = await self.security.form(request)
        values = {
            "name": text_field(form, "name", 200),
            "email": text_field(form, "email", 320),
            "organisation": text_field(form, "organisation", 200),
            "motivation": text_field(form, "motivation", 5000),
        }
        try:
            await request_membership(self.rt, **values)
        except UserError as exc:
            error = self.render.error_text(request, exc)
            return await self.render.page(request, "join.html", status=400, values=values, error_text=error)
        return await self.render.page(request, "join.html", done=True, values={})

    async def forgot(self, request: Request) -> Response:
        """GET: ask for a reset link (field `email`); POST: mail it. The answer never tells whether
        the address is known."""
        mail = self.rt.config.mail.enabled
        if request.method == "GET":
            return await self.render.page(request, "password_forgot.html", mail=mail, email="")
        form = await self.security.form(request)
        email = text_field(form, "email", 400)
        try:
            await password_reset.request_reset(self.rt, email, _address(request))
        except accounts.Throttled as exc:
            page = await self.render.page(
                request, "password_forgot.html", status=429, mail=mail, email=email, error="reset_throttled"
            )
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        except UserError as exc:
            error = self.render.error_text(request, exc)
            return await self.render.page(
                request, "password_forgot.html", status=400, mail=mail, email=email, error_text=error
            )
        return await self.render.page(request, "password_forgot.html", mail=mail, sent=True)

    async def reset(self, request: Request) -> Response:
        """GET: choose a new password through a mailed link; POST: set it (the link then no longer works)."""
        token = request.path_params["token"]
        member = await password_reset.reset_member(self.rt, token)
        if member is None:
            return _private(await self.render.page(request, "password_reset.html", status=404, invalid=True))
        if request.method == "GET":
            return _private(await self.render.page(request, "password_reset.html", member=member))
        form = await self.security.form(request)
        password, again = text_field(form, "password", 1100), form.get("password_again")
        if again is not None and again != password:  # the page asks twice; the route needs `password` only
            return _private(await self.render.page(
                request, "password_reset.html", status=400, member=member, error="passwords_differ"
            ))  # fmt: skip
        try:
            await password_reset.use_reset(self.rt, token, password)
        except UserError as exc:
            if exc.key == "reset_invalid":  # used or ended a moment ago
                return _private(await self.render.page(request, "password_reset.html", status=404, invalid=True))
            error = self.render.error_text(request, exc)
            return _private(await self.render.page(
                request, "password_reset.html", status=400, member=member, error_text=error
            ))  # fmt: skip
        return _private(await self.render.page(request, "password_reset.html", done=True))


def _private(response: Response) -> Response:
    """A page reached through a secret link is never kept by a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response
