"""The one outbound HTTP client (SSRF-guarded, pooled, size- and time-limited) and ActivityPub GETs.

Where the guard sits: `create_http_client` builds an `httpx.AsyncClient` on `GuardedTransport`,
an `httpx.AsyncBaseTransport` over an `httpcore.AsyncConnectionPool` whose network backend is
`GuardedBackend`. Every TCP connection the pool opens (first request, after a redirect, after a
pooled connection was dropped) goes through `GuardedBackend.connect_tcp`, which resolves the host
with the `Resolver`, refuses if ANY resulting address is forbidden (see `netguard`), and connects
to one of the checked IPs itself, so the name is never resolved twice (no DNS rebinding window).
TLS still uses the hostname: httpcore passes `server_hostname` to `start_tls` separately, so SNI
and certificate checks are unaffected by connecting to an IP.

The transport also enforces, for every request (GETs and the delivery engine's POSTs alike):
http/https only, a total deadline (`total_timeout`, covering the body too, against slow drips:
CVE-2023-36461) and a response size cap (`max_bytes`, by Content-Length up front and by counting).
Refusals raise `FetchError`; network and protocol failures raise the usual `httpx` exceptions.

Per-host limits: `max_connections_per_host` is not enforced here; the delivery engine holds a
semaphore per host and reads it from the settings. The pool limits only `max_connections`.

`fetch_object` adds the ActivityPub rules on top: Accept header, manual same-site redirects,
federation policy per hop, ActivityPub content types only (CVE-2024-25623), and `id` == URL.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import orjson

from ..netguard import address_refusal, is_forbidden_address, is_ip_literal

__all__ = [
    "AP_ACCEPT",
    "FetchError",
    "FetchSettings",
    "GuardedBackend",
    "GuardedClient",
    "GuardedTransport",
    "Resolver",
    "StaticResolver",
    "SystemResolver",
    "create_http_client",
    "fetch_object",
    "is_forbidden_address",
    "parse_json_document",
    "read_limited",
]

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# ld+json is accepted with or without the ActivityStreams profile: several servers omit it,
# and the origin rule (id == URL) is what actually ties a document to its host.
AP_MEDIA_TYPES = frozenset({"application/activity+json", "application/ld+json"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FetchSettings:
    """Limits and policy for every outbound request."""

    allow_private_network: bool = False
    max_bytes: int = 1_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # per socket read
    total_timeout: float = 30.0  # whole request including the body
    max_redirects: int = 3
    user_agent: str = "fediverse-a2/0.1"
    max_connections: int = 200
    max_connections_per_host: int = 8  # enforced by the delivery engine, not the pool


class FetchError(Exception):
    """An outbound request was refused or failed; `reason` is short and human readable."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __str__(self) -> str:
        return self.reason


# -- resolving ---------------------------------------------------------------------------


class Resolver(Protocol):
    """Turns a host name into IP address strings."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo), without blocking the event loop."""

    async def resolve(self, host: str, port: int) -> list[str]:
        """All TCP addresses for `host`, in the order the system prefers."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class StaticResolver:
    """A fixed name -> addresses table (tests); unknown names fail."""

    def __init__(self, table: Mapping[str, str | Iterable[str]]) -> None:
        self.table = {
            name.lower().rstrip("."): [ips] if isinstance(ips, str) else list(ips) for name, ips in table.items()
        }

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses listed for `host`."""
        try:
            return list(self.table[host.lower().rstrip(".")])
        except KeyError:
            raise FetchError(f"cannot resolve {host}") from None


# -- the connection layer ----------------------------------------------------------------


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then lets `delegate` connect to a checked IP."""

    def __init__(
        self,
        resolver: Resolver,
        *,
        allow_private_network: bool = False,
        delegate: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.resolver = resolver
        self.allow_private_network = allow_private_network
        self.delegate = delegate or httpcore.AnyIOBackend()

    async def addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The checked addresses for host:port; FetchError if any of them is forbidden."""
        if is_ip_literal(host):
            ips = [host]
        else:
            try:
                async with asyncio.timeout(timeout):
                    ips = await self.resolver.resolve(host, port)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        if not ips:
            raise FetchError(f"cannot resolve {host}: no addresses")
        for ip in ips:
            # ANY bad address refuses the host: otherwise a name listing a public and a
            # private address would reach the private one whenever the public one fails.
            reason = address_refusal(ip, allow_private_network=self.allow_private_network)
            if reason is not None:
                raise FetchError(f"refused: {ip} is {reason}")
        return ips

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
        self.backend = GuardedBackend(
            resolver or SystemResolver(),
            allow_private_network=settings.allow_private_network,
            delegate=network_backend,
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
            keepalive_expiry=5.0,
            network_backend=self.backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; the response body streams under the same deadline."""
        if request.url.scheme not in DEFAULT_PORTS or not request.url.host:
            raise FetchError(f"refused: only http(s) URLs are fetched, not {request.url.scheme or 'no'} scheme")
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
            extensions=request.extensions,
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._pool.handle_async_request(core_request)
        except TimeoutError:
            raise FetchError(f"timed out: no response within {settings.total_timeout:g} s") from None
        except Exception as exc:
            _reraise_mapped(exc)
        stream = _LimitedStream(response.stream, deadline, settings.max_bytes, settings.total_timeout)
        length = _content_length(response.headers)
        if length is not None and length > settings.max_bytes and request.method != "HEAD":
            # Refused before reading a byte of the body.
            await stream.aclose()
            raise FetchError(f"response larger than {settings.max_bytes} bytes (Content-Length {length})")
        return httpx.Response(
            status_code=response.status, headers=response.headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()


def _content_length(headers: Iterable[tuple[bytes, bytes]] | httpx.Headers) -> int | None:
    """The Content-Length header as a number, or None when absent or unusable."""
    items = headers.raw if isinstance(headers, httpx.Headers) else headers
    for name, value in items:
        if name.lower() == b"content-length":
            try:
                return int(value.split(b",")[0].strip())
            except ValueError:
                return None  # h11 rejects the response itself
    return None


class GuardedClient(httpx.AsyncClient):
    """An httpx.AsyncClient that remembers the FetchSettings it was built with."""

    fetch_settings: FetchSettings


def create_http_client(
    settings: FetchSettings,
    resolver: Resolver | None = None,
    *,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
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
    return client


def _settings_of(client: httpx.AsyncClient) -> FetchSettings:
    return getattr(client, "fetch_settings", None) or FetchSettings()


# -- reading -----------------------------------------------------------------------------


async def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """The (decoded) body of a streamed response, FetchError beyond `max_bytes`."""
    length = _content_length(response.headers)
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


def parse_json_document(body: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """A JSON object from untrusted bytes; ValueError with a short message otherwise."""
    try:
        # orjson rejects trailing data, invalid UTF-8 and nesting deeper than 1024.
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(str(exc).splitlines()[0][:120] if str(exc) else "malformed JSON") from None
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    return doc


# -- ActivityPub GETs --------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in; ValueError if malformed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port  # ValueError on a bad port
    return scheme, (parts.hostname or "").rstrip("."), port or DEFAULT_PORTS.get(scheme)


def _checked_url(url: str) -> tuple[str, str]:
    """(url without fragment, host) for an http(s) URL; FetchError otherwise."""
    try:
        scheme, host, _ = _origin(url)
    except ValueError:
        raise FetchError("malformed URL") from None
    if scheme not in DEFAULT_PORTS:
        raise FetchError(f"refused: only http(s) URLs are fetched, not {scheme or 'no'} scheme")
    if not host:
        raise FetchError("URL has no host")
    return url.split("#", 1)[0], host


def _same_url(a: str, b: str) -> bool:
    """Equal, or equal once scheme/host case and default ports are normalised."""
    if a == b:
        return True
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return _origin(a) == _origin(b) and (pa.path, pa.query, pa.fragment) == (pb.path, pb.query, pb.fragment)
    except ValueError:
        return False


def _check_host(host: str, is_host_allowed: Callable[[str], bool]) -> None:
    if not is_host_allowed(host):
        raise FetchError("blocked domain")


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _get_once(
    client: httpx.AsyncClient, url: str, auth: httpx.Auth | None, accept: str, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """One GET: (body, None) on success or (None, Location) on a redirect."""
    kwargs: dict[str, Any] = {"auth": auth} if auth is not None else {}
    async with client.stream("GET", url, headers={"Accept": accept}, **kwargs) as response:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without Location", status=status)
            return None, location
        if status >= 400:
            raise FetchError(f"HTTP {status}", status=status)
        if status != 200:
            raise FetchError(f"unexpected HTTP {status}", status=status)
        media = _media_type(response)
        if media not in AP_MEDIA_TYPES:
            # CVE-2024-25623: anything else may be an upload or a page an attacker controls.
            raise FetchError(f"not an ActivityPub document (Content-Type {media or 'missing'})", status=status)
        return await read_limited(response, max_bytes), None


async def _get_document(
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.Auth | None,
    accept: str,
    is_host_allowed: Callable[[str], bool],
    settings: FetchSettings,
) -> tuple[dict[str, Any], str]:
    """(document, final URL), following at most max_redirects same-site redirects."""
    current, host = _checked_url(url)
    _check_host(host, is_host_allowed)
    for _ in range(settings.max_redirects + 1):
        body, location = await _get_once(client, current, auth, accept, settings.max_bytes)
        if body is not None:
            try:
                return parse_json_document(body), current
            except ValueError as exc:
                raise FetchError(f"invalid JSON: {exc}") from None
        target, target_host = _checked_url(urljoin(current, location or ""))
        # Policy first, so a redirect to a blocked domain is reported as such.
        _check_host(target_host, is_host_allowed)
        if _origin(target) != _origin(current):
            raise FetchError(f"cross-site redirect to {target_host}")
        current = target
    raise FetchError(f"more than {settings.max_redirects} redirects")


def _doc_id(doc: dict[str, Any]) -> str:
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise FetchError("document has no id")
    return doc_id


async def _fetch_checked(
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.Auth | None,
    accept: str,
    is_host_allowed: Callable[[str], bool],
    settings: FetchSettings,
) -> dict[str, Any]:
    doc, final_url = await _get_document(client, url, auth, accept, is_host_allowed, settings)
    doc_id = _doc_id(doc)
    if _same_url(doc_id, final_url):
        return doc
    # The document claims another id: believe it only as served by that id's own origin.
    refetch_url, _ = _checked_url(doc_id)
    doc, final_url = await _get_document(client, refetch_url, auth, accept, is_host_allowed, settings)
    if _same_url(_doc_id(doc), final_url):
        return doc
    raise FetchError("id does not match URL")


def _network_reason(exc: httpx.HTTPError) -> str:
    """A short reason for an httpx failure."""
    kinds: tuple[tuple[type[httpx.HTTPError], str], ...] = (
        (httpx.ConnectTimeout, "connect timed out"),
        (httpx.ReadTimeout, "read timed out"),
        (httpx.TimeoutException, "timed out"),
        (httpx.ConnectError, "connection failed"),
        (httpx.RemoteProtocolError, "protocol error"),
        (httpx.NetworkError, "network error"),
    )
    kind = next((text for cls, text in kinds if isinstance(exc, cls)), type(exc).__name__)
    detail = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{kind}: {detail}" if detail else kind


async def fetch_object(
    client: httpx.AsyncClient,
    url: str,
    *,
    auth: httpx.Auth | None = None,
    is_host_allowed: Callable[[str], bool] = lambda h: True,
    accept: str = AP_ACCEPT,
) -> dict[str, Any]:
    """GET an ActivityPub document whose id is where it was fetched from; FetchError otherwise."""
    settings = _settings_of(client)
    try:
        # One budget for the whole lookup (redirects and the id refetch included).
        async with asyncio.timeout(settings.total_timeout):
            return await _fetch_checked(client, url, auth, accept, is_host_allowed, settings)
    except TimeoutError:
        raise FetchError(f"timed out after {settings.total_timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(_network_reason(exc)) from None
