"""One gate per route: every route of the app declares who may use it, in the route table (app.py).

    gate.route("/posts/new", editor.new, Access.MEMBER, methods=GET_POST)
    gate.route("/api/v1/statuses", api.post_status, Access.token("write:statuses"), methods=["POST"])

Deny is the default: `Gate.check(routes)` refuses, when the app is built, any route that did
not come through `Gate.route` (so an undeclared route cannot ship), and a token route while no
token authenticator is plugged in. The gate runs before the handler and either refuses or puts
who is asking on the request:

* `Access.VISITOR`: everyone, signed in or not. `request.state.member` is the member or None.
* `Access.MEMBER`, `Access.MODERATOR`, `Access.ADMIN`: a signed-in member (session cookie) with
  at least that role. A visitor gets 303 to the sign-in page, which comes back here afterwards
  (`next=`, a path on this site); a member without the role gets the 403 page.
  `request.state.member` is the member (`member_of(request)` gives it typed).
* `Access.SIGNED`: other servers. The handler verifies the HTTP signature over the body (the
  inbox: federation/inbox.py), because the cheaper checks on the body come first.
* `Access.token(*scopes)`: a bearer token (`Authorization: Bearer ...`) holding one of the scopes
  (Mastodon's rules, oauth/scopes.py: `read` covers `read:statuses`; no scope: any token),
  resolved by the pluggable `TokenAuthenticator` (an async callable: token -> Grant or None; the
  app plugs in services.apps.token_grant). No token or an unknown one: 401; a token without the
  scope: 403; an app's own token where a member is needed: 422; as JSON, as Mastodon answers.
  `optional=True` lets a request without a token through as a visitor (a token that is sent must
  still be good); `user=False` also accepts an app's own token (client credentials).
  `request.state.grant` is the Grant, `request.state.member` its member.

What an object allows (only a post's author edits it) stays with the handler: the gate decides
who may use a route, not what may be done to each thing behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

import orjson
from starlette.convertors import register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..hosts import same_origin
from ..models import Member
from ..oauth.scopes import covers
from .ids import IdConvertor
from .links import Links, normal_path
from .security import WebSecurity

__all__ = [
    "Access",
    "Gate",
    "GatedRoute",
    "Grant",
    "Level",
    "TokenAuthenticator",
    "UndeclaredRoute",
    "grant_of",
    "handed_to",
    "member_of",
    "viewer_of",
]

# Routes name ids as {post_id:id}: 1 to 18 digits, so a number the database cannot hold is a 404.
register_url_convertor("id", IdConvertor())

Endpoint = Callable[[Request], Awaitable[Response]]
Forbidden = Callable[[Request], Awaitable[Response]]


class Level(StrEnum):
    """Who a route is for."""

    VISITOR = "visitor"
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SIGNED = "signed"
    TOKEN = "token"


@dataclass(frozen=True, slots=True)
class Access:
    """A route's declared access: a level, and for a token the scopes of which it needs one."""

    level: Level
    scopes: tuple[str, ...] = ()  # token: one of these (none: any token)
    optional: bool = False  # token: a request without one passes as a visitor
    user: bool = True  # token: it must belong to a member (not only to an app)

    VISITOR: ClassVar[Access]
    MEMBER: ClassVar[Access]
    MODERATOR: ClassVar[Access]
    ADMIN: ClassVar[Access]
    SIGNED: ClassVar[Access]

    @staticmethod
    def token(*scopes: str, optional: bool = False, user: bool = True) -> Access:
        """A bearer token holding one of `scopes` (Mastodon's: `read` covers `read:statuses`)."""
        if any(not scope or " " in scope for scope in scopes):
            raise ValueError(f"scopes are single words such as read:statuses, not {scopes!r}")
        return Access(Level.TOKEN, scopes, optional, user)

    def allows(self, member: Member | None) -> bool:
        """Whether a session's member (None: a visitor) may use a route of this session level."""
        if self.level == Level.VISITOR:
            return True
        if member is None:
            return False
        if self.level == Level.MODERATOR:
            return member.is_moderator
        if self.level == Level.ADMIN:
            return member.is_admin
        return self.level == Level.MEMBER

    def __str__(self) -> str:
        if self.level != Level.TOKEN:
            return self.level.value
        flags = ("?" if self.optional else "") + ("" if self.user else "+app")
        return f"token:{'|'.join(self.scopes) or '*'}{flags}"


Access.VISITOR = Access(Level.VISITOR)
Access.MEMBER = Access(Level.MEMBER)
Access.MODERATOR = Access(Level.MODERATOR)
Access.ADMIN = Access(Level.ADMIN)
Access.SIGNED = Access(Level.SIGNED)


class Grant(Protocol):
    """What a bearer token grants: its member (None for an app's own token) and its scopes."""

    @property
    def member(self) -> Member | None: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...


TokenAuthenticator = Callable[[str], Awaitable[Grant | None]]
"""Resolves a bearer token to what it grants (None: unknown, expired or revoked)."""


class UndeclaredRoute(TypeError):
    """A route without a declared access (or a token route without an authenticator)."""


class GatedRoute(Route):
    """A Route with its declared access; its endpoint runs only behind the gate."""

    def __init__(
        self, path: str, endpoint: Endpoint, *, access: Access, methods: Sequence[str], name: str | None = None
    ) -> None:
        super().__init__(path, endpoint, methods=list(methods), name=name)
        self.access = access


# -- what handlers read ------------------------------------------------------------------------


def viewer_of(request: Request) -> Member | None:
    """The signed-in member of a gated request, or None for a visitor."""
    member: Member | None = getattr(request.state, "member", None)
    return member


def member_of(request: Request) -> Member:
    """The member of a request the gate let through as a member (or higher, or a user's token)."""
    member = viewer_of(request)
    if member is None:  # a handler of a VISITOR route asked: a mistake in the route table
        raise RuntimeError(f"{request.url.path} is not declared for members")
    return member


def grant_of(request: Request) -> Grant | None:
    """The Grant of a token route's request (None for a visitor on an optional-token route)."""
    grant: Grant | None = getattr(request.state, "grant", None)
    return grant


def handed_to(route: BaseRoute) -> list[BaseRoute]:
    """The routes of the app a route hands its requests to (a Mount's, or an app with `routes`)."""
    if isinstance(route, Mount):
        return list(route.routes)
    inner = getattr(getattr(route, "endpoint", None), "routes", None)  # a handler function has none
    return list(inner) if isinstance(inner, list | tuple) else []


# -- the gate ----------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    """The bearer token sent; '' for an Authorization header that holds none."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _token_refusal(status: int, message: str, challenge: str | None = None) -> Response:
    headers = {"Vary": "Authorization"} | ({"WWW-Authenticate": challenge} if challenge else {})
    body = orjson.dumps({"error": message})
    return Response(body, status_code=status, headers=headers, media_type="application/json")


_INVALID = "The access token is invalid"


@dataclass
class Gate:
    """Builds the app's routes with their access, and checks every request against it."""

    security: WebSecurity
    links: Links
    forbidden: Forbidden  # the 403 page
    tokens: TokenAuthenticator | None = None
    _routes: list[GatedRoute] = field(default_factory=list)

    def route(
        self, path: str, endpoint: Endpoint, access: Access, *, methods: Sequence[str] = ("GET",),
        name: str | None = None,
    ) -> GatedRoute:  # fmt: skip
        """A route that runs `endpoint` only for whom `access` admits."""
        if access.level == Level.TOKEN and self.tokens is None:
            raise UndeclaredRoute(f"{path} needs a bearer token but no token authenticator is plugged in")

        async def gated(request: Request) -> Response:
            refusal = await self.refusal(request, access)
            return refusal if refusal is not None else await endpoint(request)

        gated.__name__ = gated.__qualname__ = getattr(endpoint, "__name__", "endpoint")
        route = GatedRoute(path, gated, access=access, methods=methods, name=name)
        self._routes.append(route)
        return route

    async def refusal(self, request: Request, access: Access) -> Response | None:
        """None when `access` admits the request (who asks is then on request.state), else the answer."""
        request.state.grant = None
        if access.level == Level.SIGNED:
            request.state.member = None
            return None
        if access.level == Level.TOKEN:
            return await self._token(request, access)
        member = await self.security.member(request)  # sets request.state.member
        if access.allows(member):
            return None
        if member is None:
            return RedirectResponse(self.links.login(self._back(request)), status_code=303)
        return await self.forbidden(request)

    def _back(self, request: Request) -> str | None:
        """Where sign-in should come back to: this page, or for a form the page it was sent from."""
        if request.method in ("GET", "HEAD"):
            query = request.url.query
            return normal_path(request.scope["path"]) + (f"?{query}" if query else "")
        referer = request.headers.get("referer", "")
        if same_origin(referer, self.links.base):
            return "/" + referer.split("://", 1)[1].partition("/")[2]
        return None

    async def _token(self, request: Request, access: Access) -> Response | None:
        assert self.tokens is not None  # route() refused token routes without an authenticator
        request.state.member = None
        token = _bearer(request)
        if token is None:
            if access.optional:
                return None
            return _token_refusal(401, _INVALID, 'Bearer realm="Doorkeeper"')
        grant = await self.tokens(token) if token and len(token) <= 512 else None
        if grant is None:
            return _token_refusal(401, _INVALID, 'Bearer error="invalid_token"')
        if not covers(grant.scopes, access.scopes):
            return _token_refusal(403, "This action is outside the authorized scopes")
        if access.user and grant.member is None:
            return _token_refusal(422, "This method requires an authenticated user")
        request.state.grant = grant
        request.state.member = grant.member
        return None

    @staticmethod
    def check(routes: Iterable[BaseRoute]) -> None:
        """Refuse (UndeclaredRoute) any route without a declared access; static files are open reads.

        A route that hands its requests to another app (a Mount, or the client API's own router)
        is declared by that app's routes, which must all be gated.
        """
        for route in routes:
            if isinstance(route, GatedRoute):
                continue
            if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
                continue  # GET and HEAD of files only; StaticFiles answers 405 to the rest
            inner = handed_to(route)
            if inner:
                Gate.check(inner)
                continue
            raise UndeclaredRoute(f"route {getattr(route, 'path', route)!r} declares no access: use Gate.route")

    @property
    def routes(self) -> list[GatedRoute]:
        """Every route this gate made, in order."""
        return list(self._routes)
