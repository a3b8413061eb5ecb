"""Authorized fetch: with `[federation] authorized_fetch = true`, ActivityPub GETs must be signed.

WebFinger, NodeInfo, the instance actor and key documents stay open (they don't pass
through this guard), so that peers can verify our own signed fetches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..runtime import Runtime
from ..signatures import KeyLookup, SignatureError, verify_request
from .policy import host_of

__all__ = ["make_fetch_guard"]

Guard = Callable[[Request], Awaitable[Response | None]]


def make_fetch_guard(rt: Runtime, lookup: KeyLookup) -> Guard:
    """A guard for ActivityPub GETs: None to serve, or the refusal to send."""

    async def open_guard(request: Request) -> Response | None:
        return None

    async def signed_guard(request: Request) -> Response | None:
        url = rt.urls.base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            verified = await verify_request(request.method, url, request.headers, None, lookup)
        except SignatureError as exc:
            return JSONResponse({"error": f"signed fetch required: {exc.reason}"}, status_code=401)
        try:
            host = host_of(verified.owner)
        except ValueError:
            return JSONResponse({"error": "key owner is not an http(s) actor"}, status_code=401)
        if not rt.policy.is_allowed(host):
            return JSONResponse({"error": "domain not allowed"}, status_code=403)
        return None

    return signed_guard if rt.config.federation.authorized_fetch else open_guard
