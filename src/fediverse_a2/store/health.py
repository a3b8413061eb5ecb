"""The state of the three queues and of remote domains, for /healthz, /metrics and /admin/health.

Read from the tables themselves, so every process gives the same answer. Each queue counts
the rows still waiting or in work (inbox items `queued`, deliveries and mails `pending`),
which its index on state keeps to the live part of the table, never the whole history.
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
    leased: int  # held by a worker now, or parked until a retry time
    oldest_at: float | None  # when the oldest of them was queued
    due_since: float | None  # since when the longest-waiting due, unleased one could have been taken


@dataclass(frozen=True)
class FailingDomain:
    domain: str
    waiting: int  # deliveries waiting for a retry
    attempts: int  # the most attempts any of them has had
    failed_days: int  # days with failures (7 make it unavailable)
    unavailable: bool
    last_error: str | None
    last_attempt_at: float | None


# queue -> (table, waiting state, when queued, when due again)
_QUEUES = {
    "inbox": ("inbox_items", "queued", "received_at", "COALESCE(locked_until, received_at)"),
    "deliveries": ("deliveries", "pending", "created_at", "next_attempt_at"),
    "mail": ("outgoing_mail", "pending", "created_at", "next_attempt_at"),
}


async def ping(db: Executor) -> bool:
    """Whether the database answers a statement."""
    return bool(await db.fetchval("SELECT 1") == 1)


async def queue_states(db: Executor, now: float) -> list[QueueState]:
    """Each queue's depth, leases and oldest and longest-waiting due item."""
    out = []
    for name, (table, state, queued, due) in _QUEUES.items():
        leased = "locked_until IS NOT NULL AND locked_until > ?"
        if name == "inbox":  # an inbox item is due unless leased or parked (both set locked_until)
            free = "(locked_until IS NULL OR locked_until <= ?)"
        else:
            free = f"{due} <= ? AND (locked_until IS NULL OR locked_until <= ?)"
        row = await db.fetchone(
            f"""SELECT COUNT(*) AS depth,
                       COALESCE(SUM(CASE WHEN {leased} THEN 1 ELSE 0 END), 0) AS leased,
                       MIN({queued}) AS oldest_at,
                       MIN(CASE WHEN {free} THEN {due} END) AS due_since
                FROM {table} WHERE state = ?""",
            (now, now, state) if name == "inbox" else (now, now, now, state),
        )
        assert row is not None
        oldest, due_since = optional_float(row["oldest_at"]), optional_float(row["due_since"])
        out.append(QueueState(name, int(row["depth"]), int(row["leased"]), oldest, due_since))
    return out


async def failing_domains(db: Executor, limit: int = 50) -> list[FailingDomain]:
    """Domains with deliveries waiting for a retry, or marked unavailable; most waiting first."""
    rows = await db.fetchall(
        """SELECT f.domain, f.waiting, f.attempts, f.last_attempt_at,
                  (SELECT COUNT(*) FROM domain_failures x WHERE x.domain = f.domain) AS failed_days,
                  COALESCE((SELECT s.unavailable FROM domain_status s WHERE s.domain = f.domain), 0) AS unavailable,
                  (SELECT d.last_error FROM deliveries d WHERE d.domain = f.domain AND d.state = 'pending'
                     AND d.attempts > 0 ORDER BY d.updated_at DESC LIMIT 1) AS last_error
           FROM (SELECT domain, COUNT(*) AS waiting, MAX(attempts) AS attempts, MAX(updated_at) AS last_attempt_at
                   FROM deliveries WHERE state = 'pending' AND attempts > 0 GROUP BY domain
                 UNION ALL
                 SELECT s.domain, 0, 0, s.updated_at FROM domain_status s WHERE s.unavailable <> 0
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.domain = s.domain AND d.state = 'pending'
                                     AND d.attempts > 0)) f
           ORDER BY f.waiting DESC, f.domain LIMIT ?""",
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
    """How many domains have deliveries waiting for a retry, and how many are marked unavailable."""
    failing = await db.fetchval(
        "SELECT COUNT(DISTINCT domain) FROM deliveries WHERE state = 'pending' AND attempts > 0"
    )
    unavailable = await db.fetchval("SELECT COUNT(*) FROM domain_status WHERE unavailable <> 0")
    return int(failing or 0), int(unavailable or 0)
