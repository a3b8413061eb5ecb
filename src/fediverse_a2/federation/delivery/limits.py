"""How many deliveries may be in flight: in all, and per peer (one slow host never takes every slot)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["PeerLimits"]


class PeerLimits:
    """At most `concurrency` requests in flight, and at most `per_host` to any one peer."""

    def __init__(self, concurrency: int, per_host: int) -> None:
        self.per_host = per_host
        self._all = asyncio.Semaphore(concurrency)
        self._peers: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, peer: str) -> AsyncIterator[None]:
        """Wait for a slot of this peer, then for one of all; hold both for the block."""
        slots = self._peers.get(peer)
        if slots is None:
            slots = self._peers[peer] = asyncio.Semaphore(self.per_host)
        async with slots, self._all:
            yield
