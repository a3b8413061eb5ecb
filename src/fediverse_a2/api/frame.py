"""The frame of the client API: one declaration per endpoint, and everything every endpoint shares.

An `Endpoint` names its path, methods, handler and `Access` (who may call it: anyone, any
app token, or a member's token with one of some scopes), the web's one declaration of access
(web/gate.py). `ApiApp` serves a list of them, each route made by the app's Gate:

* the bearer token is checked by the gate, before the handler runs: a missing, unknown or
  revoked token is 401, a token without the scope 403, an app's own token on a member's route
  422 (as Mastodon answers);
* errors are `{"error": "…"}` with the right status, also for unknown paths and methods;
* a path asked with a trailing slash answers the same as without;
* CORS as Mastodon has it (any origin, no credentials, `Link` exposed), preflights included;
* parameters from the query and the body (JSON, form or multipart, or no Content-Type at
  all) are read once, within the endpoint's size limit, into `ApiCall.params`.

A handler is `async def handler(call: ApiCall) -> Response`; it raises `ApiError` (or a
service's `UserError`, answered 422) to refuse.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from ..errors import NotFound, UserError
from ..models import Member
from ..runtime import Runtime
from ..services.apps import TokenGrant
from ..web.gate import Access, Gate, grant_of
from .params import ParamError, Params, read_params

__all__ = [
    "ANYONE",
    "NO_TOKEN",
    "ApiApp",
    "ApiCall",
    "ApiError",
    "Endpoint",
    "Handler",
    "any_token",
    "json",
    "member",
]

log = logging.getLogger(__name__)

BODY_LIMIT = 1_000_000  # JSON and forms; endpoints with uploads declare their own
CORS_EXPOSED = ["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id"]
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class ApiError(Exception):
    """A refusal: answered as `{"error": message}` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# The API's names for the gate's declarations. The token needs one of the scopes (Mastodon's
# `doorkeeper_authorize! :read, :'read:accounts'`); none named: any token.
ANYONE = Access.token(optional=True, user=False)  # anyone; a token that is sent must still be valid
NO_TOKEN = Access.VISITOR  # the OAuth endpoints: Authorization carries the app's own credentials


def any_token(*scopes: str) -> Access:
    """Any valid token, an app's own (client_credentials) included."""
    return Access.token(*scopes, user=False)


def member(*scopes: str) -> Access:
    """A member's token holding one of these scopes."""
    return Access.token(*scopes)


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer (orjson: fast, and non-ASCII kept as is)."""
    return Response(orjson.dumps(data), status_code=status, headers=headers, media_type="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json({"error": message}, status, headers)


@dataclass
class ApiCall:
    """One API request, as a handler gets it: the checked token and the parameters read once."""

    rt: Runtime
    request: Request
    grant: TokenGrant | None
    params: Params
    path: dict[str, Any] = field(default_factory=dict)

    @property
    def member(self) -> Member:
        """The member the token acts for (the frame guarantees one on `member(...)` endpoints)."""
        if self.grant is None or self.grant.member is None:
            raise ApiError(422, "This method requires an authenticated user")
        return self.grant.member

    @property
    def viewer(self) -> Member | None:
        """The member behind the token, if any (public endpoints show relationships to them)."""
        return self.grant.member if self.grant is not None else None


Handler = Callable[[ApiCall], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    """One route of the API: declared once, with who may call it."""

    path: str
    handler: Handler
    access: Access
    methods: tuple[str, ...] = ("GET",)
    body_limit: int = BODY_LIMIT
    max_files: int = 0


def _grant(request: Request) -> TokenGrant | None:
    """The token the gate checked for this request (None: no token on an open endpoint)."""
    grant = grant_of(request)
    if grant is not None and not isinstance(grant, TokenGrant):
        raise TypeError("the app's token authenticator must be services.apps.token_grant")
    return grant


class ApiApp:
    """An ASGI app serving the API's endpoints (mounted by app.py under /api/ and /oauth/…)."""

    def __init__(self, rt: Runtime, endpoints: Sequence[Endpoint], gate: Gate) -> None:
        self.rt = rt
        self.endpoints = tuple(endpoints)
        self.routes = [gate.route(e.path, self._serve(e), e.access, methods=e.methods) for e in self.endpoints]
        self.router = Router(routes=list(self.routes), redirect_slashes=False, default=self._not_found)
        self.app = CORSMiddleware(
            self._dispatch, allow_origins=["*"], allow_methods=CORS_METHODS, allow_headers=["*"],
            expose_headers=CORS_EXPOSED, max_age=7200,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            trimmed = path.rstrip("/") or "/"
            scope = {**scope, "path": trimmed, "raw_path": trimmed.encode()}
        try:
            await self.router(scope, receive, send)
        except HTTPException as exc:  # 405 from the router
            status = exc.status_code
            message = "Method not allowed" if status == 405 else str(exc.detail)
            await _error(status, message, dict(exc.headers or {}))(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(404, "Record not found")(scope, receive, send)

    def _serve(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        rt = self.rt

        async def serve(request: Request) -> Response:
            params: Params | None = None
            try:
                grant = _grant(request)
                params = await read_params(request, endpoint.body_limit, endpoint.max_files)
                call = ApiCall(rt, request, grant, params, dict(request.path_params))
                response = await endpoint.handler(call)
                if grant is not None:
                    response.headers.setdefault("Cache-Control", "private, no-store")
            except ApiError as exc:
                response = _error(exc.status, exc.message, exc.headers)
            except ParamError as exc:
                response = _error(exc.status, exc.message)
            except NotFound as exc:
                response = _error(404, str(exc) or "Record not found")
            except UserError as exc:
                response = _error(422, str(exc))
            except Exception:
                log.exception("API %s %s failed", request.method, request.url.path)
                response = _error(500, "Something went wrong on our side")
            finally:
                if params is not None:
                    await params.close()
            response.headers.setdefault("Vary", "Authorization, Origin")
            return response

        return serve
