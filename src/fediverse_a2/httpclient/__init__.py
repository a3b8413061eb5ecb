"""The one outbound HTTP client: SSRF-guarded at connect time, pooled, size- and time-limited.

`create_http_client` builds an `httpx.AsyncClient` on `GuardedTransport` (see transport.py).
Per-host limits: `max_connections_per_host` is not enforced here; the delivery engine holds
a semaphore per host and reads it from the settings. The pool limits only `max_connections`.
ActivityPub fetching (`federation.fetch`) and every other outbound request use this client,
except the delivery POSTs: they go through the client's `poster` (poster.py), a lean
HTTP/1.1 client with the same settings, resolver and guard, closed together with it.
"""

from __future__ import annotations

import httpcore
import httpx

from .poster import Poster
from .resolve import OwnSockets, Resolver, StaticResolver, SystemResolver, own_sockets
from .settings import FetchError, FetchSettings
from .transport import MAX_BYTES, GuardedBackend, GuardedTransport, content_length

__all__ = [
    "MAX_BYTES",
    "FetchError",
    "FetchSettings",
    "GuardedBackend",
    "GuardedClient",
    "GuardedTransport",
    "OwnSockets",
    "Poster",
    "Resolver",
    "StaticResolver",
    "SystemResolver",
    "create_http_client",
    "own_sockets",
    "poster_of",
    "read_limited",
    "settings_of",
]


class GuardedClient(httpx.AsyncClient):
    """An httpx.AsyncClient that remembers the FetchSettings it was built with, and its Poster."""

    fetch_settings: FetchSettings
    poster: Poster

    async def aclose(self) -> None:
        """Close the pooled connections, the poster's too."""
        self.poster.close()
        await super().aclose()


def create_http_client(
    settings: FetchSettings,
    resolver: Resolver | None = None,
    *,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> GuardedClient:
    """The shared client; `network_backend` replaces the real connector under the guard (tests)."""
    transport = GuardedTransport(settings, resolver, network_backend=network_backend)
    client = GuardedClient(
        transport=transport,
        # trust_env=False: environment proxies would be mounted as unguarded transports.
        trust_env=False,
        follow_redirects=False,
        max_redirects=settings.max_redirects,
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.total_timeout,
        ),
        # identity: a compressed body is only counted after decompression, so a small gzip
        # bomb could balloon in memory before the size cap sees it.
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "identity"},
    )
    client.fetch_settings = settings
    client.poster = Poster(settings, transport.backend.resolver)
    return client


def settings_of(client: httpx.AsyncClient) -> FetchSettings:
    """The settings a client was built with (defaults for a plain httpx client)."""
    return getattr(client, "fetch_settings", None) or FetchSettings()


def poster_of(client: httpx.AsyncClient) -> Poster:
    """The delivery client that goes with the shared client (same settings, resolver and guard)."""
    poster = getattr(client, "poster", None)
    if not isinstance(poster, Poster):
        raise TypeError("deliveries need the guarded client of create_http_client")
    return poster


async def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """The (decoded) body of a streamed response, FetchError beyond `max_bytes`."""
    length = content_length(response.headers)
    if length is not None and length > max_bytes:
        raise FetchError(f"response larger than {max_bytes} bytes (Content-Length {length})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
