"""EXPERIMENT: the delivery client on aiohttp's client, with the shared guard in its resolver."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from .guard import check_target, vetted_addresses
from .poster import DRAIN, KEEPALIVE, _BAD_NAME, _BAD_VALUE
from .resolve import Resolver, SystemResolver
from .settings import FetchError, FetchSettings
from .transport import ssl_context

__all__ = ["AioPoster"]


class _GuardedResolver(AbstractResolver):
    def __init__(self, resolver: Resolver, settings: FetchSettings) -> None:
        self.resolver, self.settings = resolver, settings

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        ips = await vetted_addresses(
            self.resolver, host, port, allow_private_network=self.settings.allow_private_network
        )
        return [
            ResolveResult(hostname=host, host=ip, port=port, family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                          proto=0, flags=socket.AI_NUMERICHOST)
            for ip in ips
        ]  # fmt: skip

    async def close(self) -> None:
        pass


class _Response:
    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: Any) -> None:
        self.status, self.headers = status, headers

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else str(value)


class AioPoster:
    """POSTs through one aiohttp ClientSession (created on first use in the running loop)."""

    def __init__(self, settings: FetchSettings, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.resolver = resolver or SystemResolver()
        self._session: aiohttp.ClientSession | None = None
        self.connections_made = 0

    def _open(self) -> aiohttp.ClientSession:
        s = self.settings
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(self.resolver, s),
            ssl=ssl_context(s.ca_file),
            limit=0,
            limit_per_host=0,
            keepalive_timeout=KEEPALIVE,
            use_dns_cache=False,
            enable_cleanup_closed=False,
        )
        timeout = aiohttp.ClientTimeout(total=s.total_timeout, sock_connect=s.connect_timeout, sock_read=s.read_timeout)
        return aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
            auto_decompress=False, headers={"User-Agent": s.user_agent, "Accept-Encoding": "identity"},
            skip_auto_headers=("Content-Type",),
        )  # fmt: skip

    async def post(self, url: httpx.URL, headers: Mapping[str, str], body: bytes) -> _Response:
        """POST `body` to `url`; FetchError on failure."""
        s = self.settings
        check_target(url.scheme, url.host, url.port, s)
        for name, value in headers.items():
            if _BAD_NAME.search(name) or _BAD_VALUE.search(value):
                raise FetchError(f"refused: invalid request header {name!r}")
        if self._session is None:
            self._session = self._open()
        try:
            async with self._session.post(str(url), data=body, headers=dict(headers), allow_redirects=False) as resp:
                length = resp.content_length
                if length is not None and length > s.max_bytes:
                    raise FetchError(f"response larger than {s.max_bytes} bytes (Content-Length {length})")
                await resp.content.read(DRAIN)
                return _Response(resp.status, resp.headers)
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(f"timed out: no response within {s.total_timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None

    @property
    def idle(self) -> int:
        return 0

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            connector = session.connector
            if connector is not None:
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    return
                asyncio.get_running_loop().create_task(session.close())
