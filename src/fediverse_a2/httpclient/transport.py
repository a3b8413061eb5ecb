"""The guarded connection layer under every outbound request.

`GuardedBackend` is httpcore's network backend: every TCP connection the pool opens (first
request, after a redirect, after a pooled connection was dropped) resolves the host, refuses
if ANY resulting address is forbidden (`netguard`), and connects to one of the checked IPs
itself, so the name is never resolved twice (no DNS rebinding window). TLS still uses the
host name: httpcore passes `server_hostname` to `start_tls` separately, so SNI and
certificate checks are unaffected by connecting to an IP.

`GuardedTransport` is httpx's transport on that backend. For every request (GETs and the
delivery engine's POSTs alike) it enforces http/https only, never this instance itself (by
name here, by the addresses it resolves to in the backend), a
total deadline (covering the body too, against slow drips: CVE-2023-36461) and a response
size cap (by Content-Length up front and by counting). Refusals raise `FetchError`; network
and protocol failures raise the usual `httpx` exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import Any, NoReturn

import httpcore
import httpx

from .guard import check_target, vetted_addresses
from .resolve import Resolver, SystemResolver
from .settings import FetchError, FetchSettings

__all__ = ["MAX_BYTES", "GuardedBackend", "GuardedTransport", "content_length", "ssl_context"]

# The request extension that sets a request's own body limit instead of FetchSettings.max_bytes.
MAX_BYTES = "fediverse_a2.max_bytes"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then lets `delegate` connect to a checked IP."""

    def __init__(
        self,
        resolver: Resolver,
        settings: FetchSettings,
        *,
        delegate: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.resolver = resolver
        self.settings = settings
        self.delegate = delegate or httpcore.AnyIOBackend()

    async def addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The checked addresses for host:port; FetchError if any of them is forbidden or this instance."""
        try:
            return await vetted_addresses(self.resolver, host, port, self.settings, timeout=timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first checked address that answers (never re-resolving the name)."""
        last: Exception | None = None
        for ip in await self.addresses(host, port, timeout):
            try:
                return await self.delegate.connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Never used: outbound traffic is TCP only."""
        raise FetchError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Used by httpcore between retries."""
        await self.delegate.sleep(seconds)


# httpcore exception -> httpx exception, most specific first (as httpx's own transport does).
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _reraise_mapped(exc: Exception) -> NoReturn:
    """Raise the httpx exception for an httpcore one; others (e.g. FetchError) unchanged."""
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            raise target(str(exc) or type(exc).__name__) from exc
    raise exc


class _LimitedStream(httpx.AsyncByteStream):
    """A response body under the request's deadline and the size cap."""

    def __init__(self, stream: Any, deadline: float, max_bytes: int, total_timeout: float) -> None:
        self._stream = stream
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._total_timeout = total_timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        chunks = aiter(self._stream)
        while True:
            # The deadline covers each read but never a yield: a timeout scope must not
            # stay open while the consumer runs.
            try:
                async with asyncio.timeout_at(self._deadline):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise FetchError(f"timed out: no complete response within {self._total_timeout:g} s") from None
            except Exception as exc:
                _reraise_mapped(exc)
            received += len(chunk)
            if received > self._max_bytes:
                raise FetchError(f"response larger than {self._max_bytes} bytes")
            yield chunk

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


@functools.lru_cache(maxsize=8)
def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The default trust store (certifi's, as httpx uses), plus an extra CA file when given.

    Loading the store takes ~0.1 s, so each process does it once per CA file, when first needed
    (the delivery client and this transport share it; httpcore only sets ALPN to http/1.1).
    """
    context = httpx.create_ssl_context(trust_env=False)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError(f"cannot load CA file {ca_file}: {exc}") from None
    return context


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx.AsyncHTTPTransport's job, with the guarded backend, a deadline and a size cap."""

    def __init__(
        self,
        settings: FetchSettings,
        resolver: Resolver | None = None,
        *,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.settings = settings
        self.backend = GuardedBackend(resolver or SystemResolver(), settings, delegate=network_backend)
        self._pool: httpcore.AsyncConnectionPool | None = None  # made by the first request

    def _connection_pool(self) -> httpcore.AsyncConnectionPool:
        if self._pool is None:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context(self.settings.ca_file),
                max_connections=self.settings.max_connections,
                max_keepalive_connections=self.settings.max_connections,
                keepalive_expiry=5.0,
                network_backend=self.backend,
            )
        return self._pool

    def _check_target(self, url: httpx.URL) -> None:
        check_target(url.scheme, url.host, url.port, self.settings)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; the response body streams under the same deadline."""
        self._check_target(request.url)
        settings = self.settings
        deadline = asyncio.get_running_loop().time() + settings.total_timeout
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions={k: v for k, v in request.extensions.items() if k != MAX_BYTES},
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._connection_pool().handle_async_request(core_request)
        except TimeoutError:
            raise FetchError(f"timed out: no response within {settings.total_timeout:g} s") from None
        except Exception as exc:
            _reraise_mapped(exc)
        # A request may set its own limit (the media proxy reads images larger than a JSON document).
        limit = request.extensions.get(MAX_BYTES)
        max_bytes = limit if isinstance(limit, int) and limit > 0 else settings.max_bytes
        stream = _LimitedStream(response.stream, deadline, max_bytes, settings.total_timeout)
        length = content_length(response.headers)
        if length is not None and length > max_bytes and request.method != "HEAD":
            # Refused before reading a byte of the body.
            await stream.aclose()
            raise FetchError(f"response larger than {max_bytes} bytes (Content-Length {length})")
        return httpx.Response(
            status_code=response.status, headers=response.headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._pool is not None:
            await self._pool.aclose()


def content_length(headers: Iterable[tuple[bytes, bytes]] | httpx.Headers) -> int | None:
    """The Content-Length header as a number, or None when absent or unusable."""
    items = headers.raw if isinstance(headers, httpx.Headers) else headers
    for name, value in items:
        if name.lower() == b"content-length":
            try:
                return int(value.split(b",")[0].strip())
            except ValueError:
                return None  # h11 rejects the response itself
    return None
