"""The two checks every outbound connection passes, whichever client makes it.

`check_target`: http/https only, a host, never this instance itself by name. `vetted_addresses`:
resolve the host once and refuse it if ANY address is forbidden (`netguard`) or reaches one of
this instance's own listening sockets (`hosts.reaches_listener`: `localhost` is us when we
listen on 127.0.0.1); the caller then connects only to those addresses, so the name is never
resolved twice (no DNS rebinding window). The httpx transport (transport.py) and the delivery
client (poster.py) both call these, so the rule has one implementation.
"""

from __future__ import annotations

import asyncio

from ..hosts import DEFAULT_PORTS, HostError, Origin, canonical_host, is_ip, reaches_listener
from ..netguard import address_refusal
from .resolve import Resolver
from .settings import FetchError, FetchSettings

__all__ = ["check_target", "vetted_addresses"]


def check_target(scheme: str, host: str, port: int | None, settings: FetchSettings) -> None:
    """FetchError unless scheme://host:port may be requested at all (before any resolving)."""
    if scheme not in DEFAULT_PORTS or not host:
        raise FetchError(f"refused: only http(s) URLs are fetched, not {scheme or 'no'} scheme")
    if settings.self_origins:
        try:
            canonical = canonical_host(host)
        except HostError as exc:
            raise FetchError(f"refused: {exc}") from None
        if Origin(scheme, canonical, port or DEFAULT_PORTS[scheme]) in settings.self_origins:
            raise FetchError("refused: that URL is this instance itself")


async def vetted_addresses(
    resolver: Resolver, host: str, port: int, settings: FetchSettings, *, timeout: float | None = None
) -> list[str]:
    """The addresses of host:port, every one allowed; FetchError if any is forbidden or is this instance.

    TimeoutError when resolving takes longer than `timeout`.
    """
    try:
        canonical = canonical_host(host)
    except HostError as exc:
        raise FetchError(f"refused: {exc}") from None
    if is_ip(canonical):
        ips = [canonical]  # 127.1, 0x7f000001 and ::ffff:… are checked as what they reach
    else:
        async with asyncio.timeout(timeout):
            ips = await resolver.resolve(canonical, port)
    if not ips:
        raise FetchError(f"cannot resolve {host}: no addresses")
    for ip in ips:
        if reaches_listener(ip, port, settings.listeners, settings.local_addresses):
            raise FetchError(f"refused: {host} port {port} is this instance itself")
        # ANY bad address refuses the host: otherwise a name listing a public and a
        # private address would reach the private one whenever the public one fails.
        reason = address_refusal(ip, allow_private_network=settings.allow_private_network)
        if reason is not None:
            raise FetchError(f"refused: {ip} is {reason}")
    return ips
