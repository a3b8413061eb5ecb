"""Taking back the leases of dead processes on this host, so a restart never waits them out.

A worker calls `Reclaimer.run_due()` before each claim: the first call (the start of a
process) looks at once, later calls at most every `every` seconds. Only owners that
`leases.is_dead_here` proves dead are released; a live worker's lease, on this host or
another, is never touched (it renews it while the work is in flight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..leases import LeaseOwner, is_dead_here, parse_owner
from ..store import leases as lease_store
from ..store.db import Executor

__all__ = ["Reclaimer", "hand_back"]

log = logging.getLogger(__name__)


class Reclaimer:
    """Releases, on one queue table, the leases whose owner died on this host."""

    def __init__(self, db: Executor, table: str, me: LeaseOwner, every: float, clock: Callable[[], float]) -> None:
        self.db, self.table, self.me = db, table, me
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
        for value in await lease_store.live_owners(self.db, self.table, now):
            owner = parse_owner(value)
            if owner is not None and is_dead_here(owner, self.me):
                dead.append(value)
        if not dead:
            return 0
        released = await lease_store.release_owners(self.db, self.table, dead)
        log.info("%s: took back %d leases of %d dead process(es) on this host", self.table, released, len(dead))
        return released


async def hand_back(db: Executor, owner: LeaseOwner) -> int:
    """Give every lease `owner` (this process, stopping) holds back to its queue, so another
    worker or the next start takes the work at once instead of waiting the lease out."""
    released = 0
    for table in lease_store.QUEUES:
        released += await lease_store.release_owners(db, table, [str(owner)])
    if released:
        log.info("handed back %d leases on stopping", released)
    return released
