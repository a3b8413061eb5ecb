"""The client's address for every route, decided once: behind a trusted proxy, its X-Forwarded-For.

An ASGI middleware that replaces the connection's peer (`scope["client"]`) with the address
`client_address.TrustedProxies` picks, so sign-in throttling, the inbox's limit on failed
signatures and anything else that reads `request.client` see the visitor, not the proxy.
Without `server.trusted_proxies` nothing changes and the header is ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.types import ASGIApp, Scope

from ..client_address import TrustedProxies, parse_networks

__all__ = ["ClientAddress"]


class ClientAddress:
    """ASGI middleware: `scope["client"]` becomes the client behind the trusted proxies."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.app = app
        self.proxies = TrustedProxies(parse_networks(trusted))

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] == "http":
            peer = scope.get("client")
            forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
            client = self.proxies.client(peer[0] if peer else None, forwarded)
            scope = {**scope, "client": (client, peer[1] if peer and client == peer[0] else 0)}
        await self.app(scope, receive, send)
