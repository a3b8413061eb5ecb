"""Turning host names into addresses: the system resolver, or a fixed table in tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Mapping
from typing import Protocol

from .settings import FetchError

__all__ = ["Resolver", "StaticResolver", "SystemResolver"]


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
