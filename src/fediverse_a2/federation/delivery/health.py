"""Domain health: a domain that failed on `UNAVAILABLE_AFTER_DAYS` different days is skipped.

Counted once per round, after all of its outcomes: the domains whose deliveries failed for a
reason of theirs (a retry, or no answer at all) get a failure day, and the domains that took a
delivery are healthy again. A domain marked unavailable is skipped until a delivery to it
succeeds or it sends us a valid signed activity (`Workers.domain_seen`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from ...store import domain_health
from ...store.db import Database

__all__ = ["UNAVAILABLE_AFTER_DAYS", "DomainHealth"]

UNAVAILABLE_AFTER_DAYS = 7


class DomainHealth:
    """The domains marked unavailable (kept in memory), and counting a round's failures."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self.db, self.clock = db, clock
        self.unavailable: set[str] = set()

    async def refresh(self) -> None:
        """Reload the set of domains marked unavailable."""
        self.unavailable = await domain_health.unavailable_domains(self.db)

    async def record(self, failing: Iterable[str], healthy: Iterable[str]) -> None:
        """Count one round: a failure day for each failing domain, a clean slate for each healthy one."""
        failing, healthy = set(failing), set(healthy) - set(failing)
        if not failing and not healthy:
            return
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        async with self.db.transaction() as tx:
            for domain in sorted(failing):
                if await domain_health.record_failure(tx, domain, day) >= UNAVAILABLE_AFTER_DAYS:
                    await domain_health.set_unavailable(tx, domain, True, now)
                    self.unavailable.add(domain)
            for domain in sorted(healthy):
                await domain_health.clear(tx, domain)
                if domain in self.unavailable:
                    await domain_health.set_unavailable(tx, domain, False, now)
                    self.unavailable.discard(domain)

    async def clear(self, domain: str) -> None:
        """`domain` is available again (it sent us a valid signed activity)."""
        self.unavailable.discard(domain)
        async with self.db.transaction() as tx:
            await domain_health.set_unavailable(tx, domain, False)
            await domain_health.clear(tx, domain)
