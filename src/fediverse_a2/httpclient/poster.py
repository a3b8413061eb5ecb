"""The delivery client: POSTs over HTTP/1.1, guarded, kept alive per host, bounded.

A fan-out sends thousands of small POSTs whose answer is only a status (and Retry-After);
httpx's client, auth flow, cookie jar and pool cost ~1 ms of CPU each, three times the
signature. `Poster` does just that job with the same rules as the shared client:

* the target check and the address guard of `guard.py` (http/https only, never this instance,
  every resolved address allowed; the connection goes to a vetted IP, never to the name);
* TLS with SNI and certificate verification against the same trust store (`ssl_context`,
  honouring `ca_file`);
* the limits of `FetchSettings`: connect timeout, a deadline for the whole request, a read
  timeout between reads, a Content-Length over `max_bytes` refused (http11.py);
* no cookies, no redirects (a delivery is never redirected), no proxies from the environment.

Idle connections are kept per (scheme, host, port) for `KEEPALIVE` seconds, at most
`max_idle` in all (the least recently used go first). A kept-alive connection the server
closed before answering is retried once on a fresh connection.
"""

from __future__ import annotations

import asyncio
import re
import resource
import ssl
from collections import OrderedDict
from collections.abc import Mapping

import httpx

from ..hosts import DEFAULT_PORTS
from .guard import check_target, vetted_addresses
from .http11 import Connection, Response, ServerClosed
from .resolve import Resolver, SystemResolver
from .settings import FetchError, FetchSettings
from .transport import ssl_context

__all__ = ["DRAIN", "KEEPALIVE", "Poster", "Response"]

KEEPALIVE = 5.0
DRAIN = 65536  # body bytes read to keep a connection; a longer answer costs its connection
_BAD_VALUE = re.compile(r"[\r\n\0]")
_BAD_NAME = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")

_Key = tuple[str, str, int]


def _default_max_idle() -> int:
    """Idle connections kept: up to 1024, never more than a quarter of the file descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1024 if soft == resource.RLIM_INFINITY else max(8, min(1024, soft // 4))


class Poster:
    """POSTs with the shared client's guard and limits, on kept-alive HTTP/1.1 connections."""

    def __init__(self, settings: FetchSettings, resolver: Resolver | None = None, *, max_idle: int = 0) -> None:
        self.settings = settings
        self.resolver = resolver or SystemResolver()
        self.max_idle = max_idle or _default_max_idle()
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[_Key, list[Connection]] = {}
        self._lru: OrderedDict[Connection, _Key] = OrderedDict()
        self._fixed = f"User-Agent: {settings.user_agent}\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n"
        self.connections_made = 0  # for tests and benchmarks: how often keep-alive did not apply

    async def post(self, url: httpx.URL, headers: Mapping[str, str], body: bytes) -> Response:
        """POST `body` to `url` with `headers` (Host among them or taken from the URL); FetchError on failure."""
        settings = self.settings
        check_target(url.scheme, url.host, url.port, settings)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.total_timeout
        request = self._request(url, headers, body)
        key = (url.scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS[url.scheme])
        conn = self._take(key, loop.time())
        if conn is not None:
            try:
                return await self._exchange(key, conn, request, deadline)
            except ServerClosed:
                pass  # it closed while idle: once more on a new connection
        conn = await self._connect(key, deadline)
        return await self._exchange(key, conn, request, deadline)

    def _request(self, url: httpx.URL, headers: Mapping[str, str], body: bytes) -> bytes:
        host = url.netloc.decode("ascii")
        lines = []
        for name, value in headers.items():
            if _BAD_NAME.search(name) or _BAD_VALUE.search(value):
                raise FetchError(f"refused: invalid request header {name!r}")
            if name.lower() == "host":
                host = value  # the signed Host
            elif name.lower() != "content-length":
                lines.append(f"{name}: {value}\r\n")
        head = (
            f"POST {url.raw_path.decode('ascii')} HTTP/1.1\r\nHost: {host}\r\n{self._fixed}"
            f"{''.join(lines)}Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("utf-8") + body

    async def _exchange(self, key: _Key, conn: Connection, request: bytes, deadline: float) -> Response:
        settings = self.settings
        response = await conn.exchange(request, deadline=deadline, max_bytes=settings.max_bytes, drain=DRAIN)
        if conn.usable:
            self._put(key, conn)
        return response

    async def _connect(self, key: _Key, deadline: float) -> Connection:
        scheme, host, port = key
        settings = self.settings
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if scheme == "https" else None
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + settings.connect_timeout)):
                ips = await vetted_addresses(self.resolver, host, port, settings)
        except TimeoutError:
            raise FetchError(f"ConnectTimeout: resolving {host} timed out") from None
        last: Exception | None = None
        for ip in ips:
            try:
                async with asyncio.timeout_at(min(deadline, loop.time() + settings.connect_timeout)):
                    _, conn = await loop.create_connection(
                        lambda: Connection(settings.read_timeout, settings.total_timeout),
                        ip,
                        port,
                        ssl=context,
                        server_hostname=host if context is not None else None,
                        ssl_handshake_timeout=settings.connect_timeout if context is not None else None,
                    )
            except TimeoutError:
                last = FetchError(f"ConnectTimeout: connecting to {ip} port {port} timed out")
            except ssl.SSLError as exc:  # a certificate problem is not fixed by the next address
                raise FetchError(f"ConnectError: {exc}") from None
            except OSError as exc:
                last = FetchError(f"ConnectError: {exc}")
            else:
                self.connections_made += 1
                return conn
        assert last is not None
        raise last

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl_context(self.settings.ca_file)  # loading the trust store takes a while: once
        return self._ssl

    # -- the idle connections ------------------------------------------------------------

    def _take(self, key: _Key, now: float) -> Connection | None:
        stack = self._idle.get(key)
        while stack:
            conn = stack.pop()
            del self._lru[conn]
            if conn.usable and now - conn.idle_since < KEEPALIVE:
                if not stack:
                    del self._idle[key]
                return conn
            conn.close()
        self._idle.pop(key, None)
        return None

    def _put(self, key: _Key, conn: Connection) -> None:
        conn.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(key, []).append(conn)
        self._lru[conn] = key
        while len(self._lru) > self.max_idle or self._expired_first(conn.idle_since):
            oldest, oldest_key = self._lru.popitem(last=False)
            stack = self._idle[oldest_key]
            stack.remove(oldest)
            if not stack:
                del self._idle[oldest_key]
            oldest.close()

    def _expired_first(self, now: float) -> bool:
        oldest = next(iter(self._lru), None)
        return oldest is not None and now - oldest.idle_since >= KEEPALIVE

    @property
    def idle(self) -> int:
        """How many connections are kept open for reuse."""
        return len(self._lru)

    def close(self) -> None:
        """Drop every idle connection."""
        for conn in self._lru:
            conn.close()
        self._lru.clear()
        self._idle.clear()
