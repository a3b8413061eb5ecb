"""The client's address behind trusted proxies (client_address.py): plain functions."""

from __future__ import annotations

import pytest

from fediverse_a2.client_address import TrustedProxies, canonical_ip, parse_networks

PROXY = TrustedProxies(parse_networks(["10.0.0.0/8", "::1"]))
NONE = TrustedProxies(())


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # an untrusted peer: the header is ignored
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # rightmost untrusted hop
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # several headers, in order
        ("10.0.0.2", ["10.0.0.4, 10.0.0.3"], "10.0.0.4"),  # every hop a proxy: the leftmost
        ("10.0.0.2", [], "10.0.0.2"),  # no header: the proxy itself
        ("10.0.0.2", ["junk, 10.0.0.3"], "10.0.0.3"),  # an unreadable hop ends the walk
        ("10.0.0.2", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("10.0.0.2", ["198.51.100.1:1234"], "198.51.100.1"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # a mapped peer is its IPv4 address
        ("::1", ["::ffff:198.51.100.1"], "198.51.100.1"),
    ],
)
def test_client_behind_trusted_proxies(peer: str, forwarded: list[str], expected: str) -> None:
    assert PROXY.client(peer, forwarded) == expected


def test_without_trusted_proxies_the_header_never_counts() -> None:
    assert NONE.client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"
    assert NONE.client(None, ["198.51.100.1"]) == "unknown"


def test_canonical_ip_and_networks() -> None:
    assert canonical_ip(" 2001:DB8:0::1 ") == "2001:db8::1"
    assert canonical_ip("example.org") is None and canonical_ip("") is None
    assert [str(n) for n in parse_networks(["192.168.1.7", "fd00::/8"])] == ["192.168.1.7/32", "fd00::/8"]
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_networks(["proxy.example"])
