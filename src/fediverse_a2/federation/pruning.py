"""Pruning raw inbox bodies after `inbox.keep_raw_days` (0: keep them forever).

Only the bodies go: the inbox row keeps its activity id, so a replayed activity is still
refused as a duplicate, and tombstones live in a table of their own, untouched. Work is done
in chunks (each its own short write) and at most every PRUNE_EVERY seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..runtime import Runtime
from ..store import inbox as inbox_store

__all__ = ["PRUNE_EVERY", "InboxPruner"]

DAY = 86_400.0
PRUNE_EVERY = 3_600.0
MAX_CHUNKS = 100  # per run: a huge first backlog is worked off over several runs


class InboxPruner:
    """Empties old raw bodies; `run_once` for tests, `run_due` from housekeeping."""

    def __init__(self, rt: Runtime, clock: Callable[[], float] = time.time) -> None:
        self.rt, self.clock = rt, clock
        self.keep_days = rt.config.inbox.keep_raw_days
        self._next = float("-inf")

    async def run_due(self) -> int:
        """Prune if the last run is PRUNE_EVERY seconds ago (or there was none)."""
        now = self.clock()
        if self.keep_days <= 0 or now < self._next:
            return 0
        self._next = now + PRUNE_EVERY
        return await self.run_once()

    async def run_once(self) -> int:
        """Prune every processed item received more than keep_raw_days ago; how many were pruned."""
        if self.keep_days <= 0:
            return 0
        before = self.clock() - self.keep_days * DAY
        pruned = 0
        for _ in range(MAX_CHUNKS):
            n = await inbox_store.prune_raw(self.rt.db, before)
            pruned += n
            if n < inbox_store.PRUNE_CHUNK:
                break
        return pruned
