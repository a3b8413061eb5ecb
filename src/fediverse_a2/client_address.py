"""PURE: which address a request comes from, behind the reverse proxies the admin trusts.

The direct peer is the client, unless it is one of `server.trusted_proxies` (addresses or
networks): then the client is the rightmost hop of `X-Forwarded-For` that is not itself a
trusted proxy. Each proxy appends the address it saw, so everything right of that hop was
written by proxies we trust, and everything left of it may be made up by the client. Without
a trusted peer the header is ignored, whatever it says. Addresses are compared and returned
in one canonical form (an IPv4-mapped IPv6 address is the IPv4 address it reaches).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from .hosts import HostError, canonical_host, is_ip, split_hostport

__all__ = ["Network", "TrustedProxies", "canonical_ip", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32  # hops read from the right: a longer chain of trusted proxies is not a real setup


def canonical_ip(text: str | None) -> str | None:
    """The canonical form (hosts.py's) of an address as a peer or a forwarding hop gives it
    (`[v6]`, an optional port); None when it is not an IP address."""
    if not text:
        return None
    try:
        host, _port = split_hostport(text.strip())
        canonical = canonical_host(host)
    except HostError:
        return None
    return canonical if is_ip(canonical) else None


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`); ValueError naming a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(networks)


class TrustedProxies:
    """The reverse proxies whose `X-Forwarded-For` is believed."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)

    def trusts(self, address: str) -> bool:
        """Whether a canonical address is one of the trusted proxies."""
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address: the peer's, or when the peer is trusted the rightmost untrusted hop.

        `forwarded_for` holds every X-Forwarded-For header value, in order. A hop that is not an
        address stops the walk at the last trusted hop read (it can only come from the client).
        """
        address = canonical_ip(peer)
        if address is None:
            return peer or "unknown"
        if not self.networks or not self.trusts(address):
            return address
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops[-MAX_HOPS:]):
            ip = canonical_ip(hop)
            if ip is None:
                break
            address = ip
            if not self.trusts(ip):
                break
        return address
