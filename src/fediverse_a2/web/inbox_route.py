"""The inbox as a lean ASGI route: POST /inbox and POST /users/{username}/inbox, below Starlette's
routing, Request and Response.

The inbox is the one route that remote servers hit thousands of times a second; Starlette's
request machinery (routing, the Request object and its URL, the Response object, the
exception middleware) cost about as much CPU as the signature check. This middleware sits
inside the others (the client address behind trusted proxies is decided once, by
web/proxies.py, and SecurityHeaders still adds its headers) and answers the inbox's paths
itself: every check stays in `InboxEndpoint`, which reads only an `InboxRequest`. An
unreachable database is a 503 with Retry-After (as for every other route, app.py); any other
error raised here still reaches Starlette's ServerErrorMiddleware (500). Every other path goes on
to Starlette unchanged, and so do the inboxes' other methods (the route table answers them: 405
with Allow: POST). The route table (web/gate.py) still declares both inboxes, with the endpoints
of `InboxEndpoints`: the same answers, for a request that reaches Starlette's router.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from ..federation.inbox import InboxAnswer, InboxEndpoint, InboxRequest
from ..store.db import DatabaseUnavailable

__all__ = ["InboxEndpoints", "InboxRoute"]

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

_SHARED = "/inbox"
_PERSONAL_PREFIX, _PERSONAL_SUFFIX = "/users/", "/inbox"
_JSON = (b"content-type", b"application/json")
# The database server is restarting: the sender retries later (Mastodon does on 503), nothing was stored.
_UNAVAILABLE = InboxAnswer(503, "temporarily unavailable", {"Retry-After": "5"})


def _username(path: str) -> str | None:
    """The member of /users/{username}/inbox (a name without '/', as Starlette's `{username}` matches)."""
    if not (path.startswith(_PERSONAL_PREFIX) and path.endswith(_PERSONAL_SUFFIX)):
        return None
    name = path[len(_PERSONAL_PREFIX) : -len(_PERSONAL_SUFFIX)]
    return name if name and "/" not in name else None


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Names lower-cased (ASGI servers send them so; a hand-made scope may not), values stripped,
    repeated fields joined with ", " (what signatures.lower_headers does)."""
    out: dict[str, str] = {}
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1").strip()
        out[name] = value if name not in out else f"{out[name]}, {value}"
    return out


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _encoded(answer: InboxAnswer) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = b"" if answer.error is None else orjson.dumps({"error": answer.error})
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append(_JSON)
    if answer.headers:
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    return body, headers


async def _answer(send: Send, answer: InboxAnswer) -> None:
    body, headers = _encoded(answer)
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _dispatch(endpoint: InboxEndpoint, scope: Scope, receive: Receive, username: str | None) -> InboxAnswer:
    """The inbox's answer to one POST, from the ASGI scope and body."""
    client = scope.get("client")
    request = InboxRequest(
        method="POST",
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=_headers(scope["headers"]),
        client=client[0] if client else "unknown",
        chunks=_chunks(receive),
    )
    try:
        if username is None:
            return await endpoint.shared(request)
        return await endpoint.personal(request, username)
    except DatabaseUnavailable:
        return _UNAVAILABLE


class InboxEndpoints:
    """The inboxes as Starlette endpoints, for the route table: the same answers as InboxRoute gives
    (which, in front of the router, takes every POST to these paths first)."""

    def __init__(self, endpoint: InboxEndpoint) -> None:
        self.endpoint = endpoint

    async def shared(self, request: Request) -> Response:
        """POST /inbox."""
        return self._response(await _dispatch(self.endpoint, request.scope, request.receive, None))

    async def personal(self, request: Request) -> Response:
        """POST /users/{username}/inbox."""
        username = request.path_params["username"]
        return self._response(await _dispatch(self.endpoint, request.scope, request.receive, username))

    @staticmethod
    def _response(answer: InboxAnswer) -> Response:
        body, headers = _encoded(answer)
        response = Response(body, status_code=answer.status)
        response.raw_headers = headers
        return response


class InboxRoute:
    """ASGI middleware: POSTs to the inbox's two paths answered by `InboxEndpoint`, everything else passed on."""

    def __init__(self, app: ASGIApp, endpoint: InboxEndpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        username = None if path == _SHARED else _username(path)
        if path != _SHARED and username is None:
            await self.app(scope, receive, send)
            return
        await _answer(send, await _dispatch(self.endpoint, scope, receive, username))
