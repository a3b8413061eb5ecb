"""The one runner of the leased queues: claim, keep leased while working, hand back, reclaim.

Every worker of a leased queue (the deliverer, the inbox worker, the mail sender) does the
same around its own work, so it is written once here:

    work = LeasedWork(db, deliveries.QUEUE, owner, lease_seconds)
    items = await work.claim(limit)          # dead owners' leases back first (reclaim.py)
    async with work.held(items) as pending:  # renewed every third of the lease ...
        ...                                  # ... while ids are in `pending`: discard an id
                                             # once its outcome is written

A lease is renewed only for items still in `pending` and still this owner's (store/queue.py),
so a slow item never loses its lease and a finished one is never leased again. When the block
is cancelled (the worker stops on SIGTERM), the items still pending are handed back at once,
so another worker, on this host or another, need not wait for their leases to run out. When
the database goes away meanwhile (DatabaseUnavailable), the items still pending are handed back
by the next claim, once it is reachable again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Generic, TypeVar

from ..leases import LeaseOwner
from ..store.db import DatabaseUnavailable, Executor
from ..store.queue import Item, LeasedQueue
from .reclaim import Reclaimer

__all__ = ["LeasedWork"]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Item)


class LeasedWork(Generic[T]):
    """One owner's work on one leased queue."""

    def __init__(
        self,
        db: Executor,
        queue: LeasedQueue[Any, T],
        owner: LeaseOwner,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.queue, self.owner = db, queue, owner
        self.lease = lease_seconds
        self.clock = clock
        self._owner = str(owner)
        self.reclaimer = Reclaimer(db, queue, owner, lease_seconds / 3, clock)
        self._owed: set[int] = set()  # leases to hand back once the database is reachable again

    async def claim(self, limit: int) -> list[T]:
        """Take back dead owners' leases when due, then lease up to `limit` due items to this owner."""
        if self._owed:
            await self.queue.hand_back(self.db, sorted(self._owed), self._owner)
            self._owed.clear()
        await self.reclaimer.run_due()
        return await self.queue.claim(self.db, self.clock(), self.lease, limit, self._owner)

    @contextlib.asynccontextmanager
    async def held(self, items: Iterable[T]) -> AsyncIterator[set[int]]:
        """Keep the items' leases while the block runs; yields the set of ids still pending."""
        pending = {item.id for item in items}
        keeper = asyncio.get_running_loop().create_task(self._keep(pending))
        try:
            yield pending
        except asyncio.CancelledError:
            await self._hand_back(pending)
            raise
        except DatabaseUnavailable:
            self._owed.update(pending)
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep(self, pending: set[int]) -> None:
        """Extend the leases of the pending items every third of the lease time."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.queue.renew(self.db, sorted(pending), self.clock() + self.lease, self._owner)
            except DatabaseUnavailable as exc:  # tried again a third of the lease later
                log.warning("%s: could not renew %d leases: %s", self.queue.table, len(pending), exc)

    async def _hand_back(self, pending: set[int]) -> None:
        if not pending:
            return
        try:
            released = await self.queue.hand_back(self.db, sorted(pending), self._owner)
        except Exception as exc:  # the leases still run out, or a restart here takes them back
            log.warning("%s: could not hand back %d leases: %s", self.queue.table, len(pending), exc)
        else:
            log.info("%s: handed back %d unfinished leases", self.queue.table, released)
