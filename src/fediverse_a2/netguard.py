"""Which IP addresses outbound requests may connect to (SSRF rules); pure functions, no I/O.

Two levels:

* `is_forbidden_address(ip)`: True for everything that is not plain public unicast:
  loopback, private, CGNAT, link-local, unique-local, unspecified, multicast, broadcast,
  reserved, documentation and benchmarking ranges, IETF special-purpose blocks, and any
  IPv6 form that embeds a forbidden IPv4 address (mapped, 6to4, NAT64). Anything that
  does not parse is forbidden too (fail closed).
* With `allow_private_network` (local development and tests) only `ALWAYS_FORBIDDEN`
  stays refused: unspecified (connecting to 0.0.0.0 reaches the local host on Linux),
  multicast, limited broadcast and 240/4, and the cloud metadata addresses.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["address_refusal", "is_forbidden_address", "is_ip_literal", "is_loopback", "parse_ip"]

_V4 = IPv4Network
_V6 = IPv6Network

# (network, what it is); the first match names the reason. Sources: IANA IPv4/IPv6
# Special-Purpose Address Registries (RFC 6890 and updates).
_V4_RANGES: tuple[tuple[IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("100.64.0.0/10"), "a shared (CGNAT) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.0.0.0/24"), "an IETF protocol address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a 6to4 relay address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "a broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
)

_V6_RANGES: tuple[tuple[IPv6Network, str], ...] = (
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    # IPv4-compatible addresses are deprecated (RFC 4291) and have no legitimate use.
    (_V6("::/96"), "an IPv4-compatible address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    # Includes Teredo (2001::/32), whose embedded IPv4 is obfuscated; nothing federates there.
    (_V6("2001::/23"), "an IETF protocol address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("fc00::/7"), "a unique-local (private) address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address"),
    (_V6("ff00::/8"), "a multicast address"),
)

# Only 2000::/3 is allocated as global unicast; everything outside it is reserved.
_V6_GLOBAL_UNICAST = _V6("2000::/3")
_NAT64 = _V6("64:ff9b::/96")

# Refused even with allow_private_network: never a sensible unicast destination, or
# (metadata) the classic SSRF target on cloud hosts.
_ALWAYS_V4 = (_V4("0.0.0.0/8"), _V4("224.0.0.0/4"), _V4("240.0.0.0/4"), _V4("169.254.169.254/32"))
_ALWAYS_V6 = (_V6("::/128"), _V6("ff00::/8"), _V6("fd00:ec2::254/128"))

IPAddress = IPv4Address | IPv6Address


def parse_ip(value: str) -> IPAddress | None:
    """The address in `value` (brackets and an IPv6 zone id are dropped), or None."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # fe80::1%eth0: the zone does not change the range
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_loopback(value: str | None) -> bool:
    """Whether an address (a peer's, as a server sees it) is this machine's loopback, in any
    spelling (an IPv4-mapped IPv6 address included)."""
    ip = parse_ip(value or "")
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip is not None and ip.is_loopback


def is_ip_literal(host: str) -> bool:
    """Whether a URL host is an IP address rather than a name."""
    return parse_ip(host) is not None


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or well-known NAT64 address leads to."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _v4_reason(ip: IPv4Address) -> str | None:
    for network, what in _V4_RANGES:
        if ip in network:
            return what
    # Belt and braces: whatever the running Python also considers non-global.
    return None if ip.is_global else "a non-global address"


def _v6_reason(ip: IPv6Address) -> str | None:
    embedded = _embedded_v4(ip)
    if embedded is not None:
        # A translated address goes where its IPv4 part goes.
        inner = _v4_reason(embedded)
        return f"{inner} (embedded in IPv6)" if inner else None
    for network, what in _V6_RANGES:
        if ip in network:
            return what
    if ip not in _V6_GLOBAL_UNICAST:
        return "a reserved address"
    return None if ip.is_global else "a non-global address"


def _always_forbidden(ip: IPAddress) -> bool:
    if isinstance(ip, IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return _always_forbidden(embedded)
        return any(ip in net for net in _ALWAYS_V6)
    return any(ip in net for net in _ALWAYS_V4)


def address_refusal(value: str, *, allow_private_network: bool = False) -> str | None:
    """Why connecting to this IP is refused ("a private address"...), or None if allowed."""
    ip = parse_ip(value)
    if ip is None:
        return "not an IP address"
    reason = _v4_reason(ip) if isinstance(ip, IPv4Address) else _v6_reason(ip)
    if reason is None:
        return None
    if allow_private_network and not _always_forbidden(ip):
        return None
    return reason


def is_forbidden_address(ip: str) -> bool:
    """True unless `ip` is public unicast (the rule without allow_private_network)."""
    return address_refusal(ip) is not None
