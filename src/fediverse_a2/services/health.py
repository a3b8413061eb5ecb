"""The service's health: does the database answer, how deep and how old are the queues, which
remote domains fail. One report for /healthz, /metrics and the admin page."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from ..metrics import QueueGauge
from ..runtime import Runtime
from ..store import health as health_store
from ..store.health import FailingDomain, QueueState
from ..store.migrations import schema_version

__all__ = ["Health", "check", "failing_domains", "metrics_text"]

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Health:
    database: bool  # the database answered within DATABASE_TIMEOUT
    schema: int | None
    queues: tuple[QueueGauge, ...]
    checked_at: float

    @property
    def ok(self) -> bool:
        """Whether the service can do its work (the process answers: that much is given)."""
        return self.database


def _gauge(state: QueueState, now: float) -> QueueGauge:
    return QueueGauge(
        queue=state.queue, depth=state.depth,
        oldest_age=max(0.0, now - state.oldest_at) if state.oldest_at is not None else 0.0,
        lag=max(0.0, now - state.due_since) if state.due_since is not None else 0.0,
    )  # fmt: skip


async def check(rt: Runtime) -> Health:
    """Ask the database for the queues' state; a database that fails or hangs is reported, not raised."""
    now = time.time()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            await health_store.ping(rt.db)
            schema = await schema_version(rt.db)
            states = await health_store.queue_states(rt.db, now)
    except Exception as exc:  # whatever the driver raises: the answer is "the database does not answer"
        log.warning("health check: the database does not answer: %s", exc)
        return Health(database=False, schema=None, queues=(), checked_at=now)
    return Health(database=True, schema=schema, queues=tuple(_gauge(s, now) for s in states), checked_at=now)


async def failing_domains(rt: Runtime, limit: int = 50) -> list[FailingDomain]:
    """The remote domains deliveries fail to, most waiting first (for the admin page)."""
    return await health_store.failing_domains(rt.db, limit)


async def metrics_text(rt: Runtime) -> bytes:
    """/metrics: the counts of every process of this serve, and the state of the queues now."""
    report = await check(rt)
    failing, unavailable = await health_store.domain_counts(rt.db) if report.database else (0, 0)
    return rt.metrics.exposition(report.database, report.queues, failing, unavailable)
