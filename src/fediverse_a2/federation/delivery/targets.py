"""What a delivery's inbox URL means for sending: its policy host, its peer, its URL.

These are asked several times per delivery, so each is cached for about a batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import httpx

from ...hosts import HostError, host_of, parse_origin
from ...store.deliveries import Claimed

__all__ = ["inbox_host", "interleaved", "peer_key", "url_of"]


@functools.lru_cache(maxsize=512)
def inbox_host(inbox: str) -> str:
    """The policy host of an inbox URL (a shared inbox may live on another domain than its actor)."""
    try:
        return host_of(inbox)
    except HostError:
        return ""


@functools.lru_cache(maxsize=512)
def url_of(inbox: str) -> tuple[httpx.URL, str] | None:
    """The URL as it is sent, and as it is signed (httpx's normal form); None if invalid."""
    try:
        url = httpx.URL(inbox)
    except httpx.InvalidURL:
        return None
    return url, str(url)


@functools.lru_cache(maxsize=512)
def peer_key(inbox: str) -> str:
    """Which peer a delivery goes to, for the per-host limits, the breaker and the remembered scheme."""
    try:
        return parse_origin(inbox).authority
    except HostError:
        return inbox


def interleaved(claimed: Sequence[Claimed]) -> list[Claimed]:
    """The batch in turns over its peers (a, b, c, a, b, c, ...), keeping the order within each.

    The queue hands out deliveries in inbox order, so a big instance's personal inboxes come
    in a row; taking turns spreads the requests in flight over the peers (fairer, and fewer
    parallel connections per host: the others are reused) and signs them in sending order.
    """
    turn: dict[str, int] = {}
    keyed = []
    for index, c in enumerate(claimed):
        peer = peer_key(c.inbox)
        keyed.append((turn.get(peer, 0), index, c))
        turn[peer] = turn.get(peer, 0) + 1
    return [c for _, _, c in sorted(keyed, key=lambda k: k[:2])]
