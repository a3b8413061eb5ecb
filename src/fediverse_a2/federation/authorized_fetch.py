"""Authorized fetch: with `[federation] authorized_fetch = true`, ActivityPub GETs must be signed.

The signature is verified by the same function as the inbox's, bound to this instance (a
signature made for another server never passes), and the signer's domain must be allowed.
WebFinger, NodeInfo, the instance actor and key documents stay open (they don't pass
through this guard), so that peers can verify our own signed fetches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..hosts import HostError, host_of
from ..runtime import Runtime
from ..signatures import KeyLookup, SignatureError, parse_signatures, verify_request

__all__ = ["Guard", "make_fetch_guard"]

Guard = Callable[[Request], Awaitable[Response | None]]


def make_fetch_guard(rt: Runtime, lookup: KeyLookup) -> Guard:
    """A guard for ActivityPub GETs: None to serve, or the refusal to send."""

    async def open_guard(request: Request) -> Response | None:
        return None

    async def signed_guard(request: Request) -> Response | None:
        url = rt.urls.base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            candidates = parse_signatures(request.method, request.headers)
            for candidate in candidates:
                if not rt.policy.is_allowed(host_of(candidate.key_id)):
                    return JSONResponse({"error": "domain not allowed"}, status_code=403)
            verified = await verify_request(request.method, url, request.headers, None, lookup, candidates=candidates)
            host = host_of(verified.owner)
        except SignatureError as exc:
            return JSONResponse({"error": f"signed fetch required: {exc.reason}"}, status_code=401)
        except HostError:
            return JSONResponse({"error": "key or owner is not an http(s) URL"}, status_code=401)
        if not rt.policy.is_allowed(host):
            return JSONResponse({"error": "domain not allowed"}, status_code=403)
        return None

    return signed_guard if rt.config.federation.authorized_fetch else open_guard
