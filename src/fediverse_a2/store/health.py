"""The state of the three queues and of remote domains, for /healthz, /metrics and /admin/health.

Read from the tables themselves, so every process gives the same answer, and cheaply enough to
be asked every few seconds with a long backlog (on SQLite the statements run on the web
process's event loop): each question walks an index of the queue's waiting rows (`state` first)
and reads at most one table row, never the whole history and never every waiting row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import Executor
from .sql import optional_float

__all__ = ["FailingDomain", "QueueState", "domain_counts", "failing_domains", "ping", "queue_states"]


@dataclass(frozen=True)
class QueueState:
    queue: str  # inbox | deliveries | mail
    depth: int  # waiting or in work
    oldest_at: float | None  # when the oldest of them was queued
    due_since: float | None  # since when the first free one that is due could have been taken


@dataclass(frozen=True)
class FailingDomain:
    domain: str
    waiting: int  # deliveries waiting for a retry
    attempts: int  # the most attempts any of them has had
    failed_days: int  # days with failures (7 make it unavailable)
    unavailable: bool
    last_error: str | None
    last_attempt_at: float | None


# queue -> (table, waiting state, when queued, when due, the order its index keeps)
_QUEUES = {
    # An inbox item is taken oldest first; a parked one (a transient failure) is due again at
    # locked_until, as is one whose lease ran out.
    "inbox": ("inbox_items", "queued", "received_at", "COALESCE(locked_until, received_at)", "id"),
    "deliveries": ("deliveries", "pending", "created_at", "next_attempt_at", "next_attempt_at"),
    "mail": ("outgoing_mail", "pending", "created_at", "next_attempt_at", "next_attempt_at"),
}


async def ping(db: Executor) -> bool:
    """Whether the database answers a statement."""
    return bool(await db.fetchval("SELECT 1") == 1)


async def queue_states(db: Executor, now: float) -> list[QueueState]:
    """Each queue's depth, its oldest item, and the first free item that is due."""
    out = []
    for name, (table, state, queued, due, order) in _QUEUES.items():
        # One pass over the (state, ...) index alone; the oldest is the lowest id (ids grow with time).
        row = await db.fetchone(f"SELECT COUNT(*) AS depth, MIN(id) AS first FROM {table} WHERE state = ?", (state,))
        depth, first = (int(row["depth"]), row["first"]) if row is not None else (0, None)
        oldest = None if first is None else await db.fetchval(f"SELECT {queued} FROM {table} WHERE id = ?", (first,))
        # In the index's order: stops at the first that no worker holds (those held are few, and first).
        ready = "" if name == "inbox" else f" AND {due} <= ?"
        params = (state, now) if name == "inbox" else (state, now, now)
        due_since = await db.fetchval(
            f"SELECT {due} FROM {table} WHERE state = ?{ready} AND (locked_until IS NULL OR locked_until <= ?) "
            f"ORDER BY {order} LIMIT 1",
            params,
        )
        out.append(QueueState(name, depth, optional_float(oldest), optional_float(due_since)))
    return out


async def failing_domains(db: Executor, limit: int = 50) -> list[FailingDomain]:
    """Domains with deliveries waiting for a retry, or marked unavailable; most waiting first.

    One pass over the retrying deliveries (a window per domain gives the count, the most
    attempts and the last error at once), joined with the two small per-domain tables."""
    rows = await db.fetchall(
        """WITH retrying AS (
               SELECT domain, waiting, attempts, last_attempt_at, last_error FROM (
                   SELECT domain, last_error,
                          COUNT(*) OVER per_domain AS waiting,
                          MAX(attempts) OVER per_domain AS attempts,
                          MAX(updated_at) OVER per_domain AS last_attempt_at,
                          ROW_NUMBER() OVER (PARTITION BY domain ORDER BY updated_at DESC, id DESC) AS n
                   FROM deliveries WHERE state = 'pending' AND attempts > 0
                   WINDOW per_domain AS (PARTITION BY domain)) ranked
               WHERE n = 1),
           listed AS (
               SELECT domain, waiting, attempts, last_attempt_at, last_error FROM retrying
               UNION ALL
               SELECT s.domain, 0, 0, s.updated_at, NULL FROM domain_status s
               WHERE s.unavailable <> 0 AND s.domain NOT IN (SELECT domain FROM retrying))
           SELECT l.domain, l.waiting, l.attempts, l.last_attempt_at, l.last_error,
                  (SELECT COUNT(*) FROM domain_failures f WHERE f.domain = l.domain) AS failed_days,
                  COALESCE((SELECT s.unavailable FROM domain_status s WHERE s.domain = l.domain), 0) AS unavailable
           FROM listed l ORDER BY l.waiting DESC, l.domain LIMIT ?""",
        (limit,),
    )
    return [
        FailingDomain(
            domain=r["domain"], waiting=int(r["waiting"]), attempts=int(r["attempts"]),
            failed_days=int(r["failed_days"]), unavailable=bool(r["unavailable"]), last_error=r["last_error"],
            last_attempt_at=optional_float(r["last_attempt_at"]),
        )
        for r in rows
    ]  # fmt: skip


async def domain_counts(db: Executor) -> tuple[int, int]:
    """How many domains failed since their last success (a failure day recorded and not cleared
    by a delivery that worked), and how many are marked unavailable. Both tables are small."""
    failing = await db.fetchval("SELECT COUNT(DISTINCT domain) FROM domain_failures")
    unavailable = await db.fetchval("SELECT COUNT(*) FROM domain_status WHERE unavailable <> 0")
    return int(failing or 0), int(unavailable or 0)
