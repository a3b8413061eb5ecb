"""Safety of the HTML side: security headers, the session cookie, CSRF, and form bodies within limits.

* Every HTML page gets a strict Content-Security-Policy (no inline script, no framing),
  `X-Content-Type-Options: nosniff` (on every response) and a Referrer-Policy.
* The session cookie is HttpOnly and SameSite=Lax; on an https base_url it is also Secure
  with the `__Host-` prefix. It holds a random id; the database keeps only its hash.
* Every form that changes something carries a CSRF token, and the request's Origin (or,
  without one, its Referer) must be this instance. The token is an HMAC of the session id
  (or, for a visitor, of a random pre-session cookie), so nothing is stored for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..accounts.tokens import csrf_token, new_token, tokens_equal
from ..hosts import origin_of
from ..models import Member
from ..request_body import BodyError, read_body
from ..runtime import Runtime
from ..services.accounts import member_for_session

__all__ = ["CSRF_FIELD", "RefuseNul", "SecurityHeaders", "WebSecurity"]

CSRF_FIELD = "csrf"
FORM_LIMIT = 256_000  # bytes of a form without uploads
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def content_security_policy(allow_http: bool, form_target: str | None = None) -> str:
    """The policy of every page: our own scripts, styles and images only (remote images come
    through the media proxy, web/media_proxy.py, so readers never contact another host).

    `form_target`: one more place a form's answer may lead (the consent page redirects to the
    app's own scheme, `ivory:`, which browsers check against form-action too).
    """
    remote = "https: http:" if allow_http else "https:"
    forms = f"'self' {remote} {form_target}" if form_target else f"'self' {remote}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            # Remote interaction redirects (POST -> 303 -> the visitor's own server) are form
            # navigations too, and browsers apply form-action to where they lead.
            f"form-action {forms}",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """ASGI middleware: nosniff on every response; CSP, framing and referrer rules on HTML."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.common = [(b"x-content-type-options", b"nosniff")]
        self.html = [
            (b"content-security-policy", csp.encode()),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k == b"content-type"), b"")
                headers += self.common
                if content_type.startswith(b"text/html"):
                    # A page that set its own policy (a wider form-action) keeps it.
                    own = any(k == b"content-security-policy" for k, _ in headers)
                    headers += self.html[1:] if own else self.html
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseNul:
    """ASGI middleware: 400 for a NUL character in the path or query, which no link of ours holds.

    PostgreSQL cannot store NUL in text, and no browser sends one from a form or a link: such a
    request is refused before any route looks at it (forms are checked in `WebSecurity.form`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        query = scope.get("query_string", b"")
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in query or b"\x00" in query):
            await PlainTextResponse("NUL characters are not allowed in a URL", status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class WebSecurity:
    """Sessions, CSRF and form reading for the HTML routes."""

    def __init__(self, rt: Runtime, secret: bytes) -> None:
        self.rt = rt
        self.secret = secret
        self.https = rt.urls.origin.scheme == "https"
        prefix = "__Host-" if self.https else ""
        self.session_cookie = f"{prefix}a2_session"
        self.visitor_cookie = f"{prefix}a2_visitor"

    # -- sessions --------------------------------------------------------------------------

    def session_id(self, request: Request) -> str | None:
        """The session id the browser sent, if any."""
        return request.cookies.get(self.session_cookie) or None

    async def member(self, request: Request) -> Member | None:
        """The signed-in member of this request (looked up once per request)."""
        if "member" not in request.state._state:
            session = self.session_id(request)
            request.state.member = await member_for_session(self.rt, session) if session else None
        member: Member | None = request.state.member
        return member

    def _cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", secure=self.https, httponly=True, samesite="lax")

    def set_session(self, response: Response, session_id: str, max_age: int) -> None:
        """Give the browser its (new) session id."""
        self._cookie(response, self.session_cookie, session_id, max_age)

    def clear_session(self, response: Response) -> None:
        """Make the browser forget its session id."""
        response.delete_cookie(self.session_cookie, path="/", secure=self.https, httponly=True, samesite="lax")

    # -- CSRF ------------------------------------------------------------------------------

    def csrf_for(self, request: Request) -> str:
        """The token this request's forms carry; gives a visitor a pre-session cookie when needed."""
        session = self.session_id(request)
        if session:
            return csrf_token(self.secret, "s:" + session)
        visitor = request.cookies.get(self.visitor_cookie) or getattr(request.state, "new_visitor", None)
        if not visitor:
            visitor = request.state.new_visitor = new_token()
        return csrf_token(self.secret, "v:" + visitor)

    def finish(self, request: Request, response: Response) -> Response:
        """Set the visitor cookie on the response when this request made one."""
        visitor = getattr(request.state, "new_visitor", None)
        if visitor:
            self._cookie(response, self.visitor_cookie, visitor, None)
        return response

    def _same_origin(self, request: Request) -> bool:
        source = request.headers.get("origin")
        if source is None or source == "null":
            source = request.headers.get("referer")
        return source is not None and origin_of(source) == self.rt.urls.origin

    def _token_ok(self, request: Request, sent: str) -> bool:
        session = self.session_id(request)
        visitor = request.cookies.get(self.visitor_cookie)
        expected = [csrf_token(self.secret, "s:" + session)] if session else []
        if visitor:
            expected.append(csrf_token(self.secret, "v:" + visitor))
        return bool(sent) and any(tokens_equal(sent, e) for e in expected)

    async def form(self, request: Request, limit: int = FORM_LIMIT, max_files: int = 0) -> FormData:
        """The request's form, after the origin and CSRF checks; HTTPException 403/413/400 otherwise.

        Nothing is changed by a refused request: the caller acts only on what this returns.
        """
        if not self._same_origin(request):
            raise HTTPException(403, "this form must be sent from this site (Origin or Referer)")
        try:
            request._body = await read_body(request, limit)  # starlette's form parser reads the cached body
        except BodyError as exc:
            raise HTTPException(exc.status, f"the form: {exc.reason}") from None
        try:
            form = await request.form(max_files=max_files, max_fields=100, max_part_size=limit)
        except (ValueError, KeyError, HTTPException) as exc:
            raise HTTPException(400, f"unreadable form: {getattr(exc, 'detail', None) or exc}") from None
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not self._token_ok(request, sent):
            await form.close()  # uploads of a refused form are spooled files: let them go now
            raise HTTPException(403, "the form's security token is missing or out of date; reload the page")
        if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
            await form.close()
            raise HTTPException(400, "the form contains a NUL character")
        return form
