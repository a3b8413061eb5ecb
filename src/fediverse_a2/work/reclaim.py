"""Taking back the leases of dead processes on this host, so a restart never waits them out.

A worker calls `Reclaimer.run_due()` before each claim (work/leased.py does): the first call
(the start of a process) looks at once, later calls at most every `every` seconds. Only owners
that `leases.is_dead_here` proves dead are released; a live worker's lease, on this host or
another, is never touched (it renews it while the work is in flight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..leases import LeaseOwner, is_dead_here, parse_owner
from ..store.db import Executor
from ..store.queue import LeasedQueue

__all__ = ["Reclaimer"]

log = logging.getLogger(__name__)


class Reclaimer:
    """Releases, on one leased queue, the leases whose owner died on this host."""

    def __init__(
        self, db: Executor, queue: LeasedQueue[Any, Any], me: LeaseOwner, every: float, clock: Callable[[], float]
    ) -> None:
        self.db, self.queue, self.me = db, queue, me
        self.every, self.clock = every, clock
        self._next = float("-inf")

    async def run_due(self) -> int:
        """Look now if it is time (always on the first call); how many leases were released."""
        now = self.clock()
        if now < self._next:
            return 0
        self._next = now + self.every
        return await self.run(now)

    async def run(self, now: float) -> int:
        """Release the live-looking leases of owners that are dead on this host."""
        dead = []
        for value in await self.queue.live_owners(self.db, now):
            owner = parse_owner(value)
            if owner is not None and is_dead_here(owner, self.me):
                dead.append(value)
        if not dead:
            return 0
        released = await self.queue.release_owners(self.db, dead)
        log.info("%s: took back %d leases of %d dead process(es) on this host", self.queue.table, released, len(dead))
        return released
