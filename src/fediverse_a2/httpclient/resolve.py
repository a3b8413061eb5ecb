"""Turning host names into addresses: the system resolver, or a fixed table in tests; and this
instance's own listening addresses (`own_sockets`), which the guard refuses under any name."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Protocol

import psutil

from .settings import FetchError

__all__ = ["OwnSockets", "Resolver", "StaticResolver", "SystemResolver", "own_sockets"]

OwnSockets = tuple[frozenset[tuple[str, int]], frozenset[str]]
_EVERY_ADDRESS = ("", "0.0.0.0", "::")


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


async def own_sockets(host: str, port: int) -> OwnSockets:
    """(listeners, local addresses) of a server bound to host:port: the addresses the host names
    (a name such as `localhost` is resolved once, here), and for a listener on every address
    this machine's own addresses, which then reach it too."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        addresses = [host.strip("[]") or "0.0.0.0"]
    except ValueError:
        addresses = [] if host else ["0.0.0.0"]
        if host:
            try:
                addresses = await SystemResolver().resolve(host, port)
            except FetchError:
                addresses = []  # serve would fail to bind it anyway
    listeners = frozenset((address, port) for address in addresses)
    local: frozenset[str] = frozenset()
    if any(address in _EVERY_ADDRESS for address in addresses):
        local = frozenset(
            str(entry.address).split("%", 1)[0]
            for entries in psutil.net_if_addrs().values()
            for entry in entries
            if entry.family in (socket.AF_INET, socket.AF_INET6)
        )
    return listeners, local
