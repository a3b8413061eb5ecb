"""The durable delivery queue, as a declared state machine.

States:   pending --(2xx)--> sent
          pending --(retryable failure, attempts left)--> pending (later next_attempt_at)
          pending --(permanent 4xx, or attempts used up)--> failed
          pending --(410 from the inbox)--> gone
          pending --(domain blocked or unavailable)--> skipped
sent, failed, gone and skipped are final. A claim is a lease (locked_until, lease_owner), not
a state: the owner renews it while the work is in flight; work leased by a process that died
is released at once by a process on its host (work/reclaim.py), or else claimed again once
the lease runs out. Claiming, leases and moves are the one leased queue of store/queue.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .db import Executor
from .queue import IllegalTransition, LeasedQueue, Move
from .sql import chunks, marks

__all__ = [
    "FINAL_STATES",
    "QUEUE",
    "TRANSITIONS",
    "Claimed",
    "DeliveryState",
    "FailedDelivery",
    "IllegalTransition",
    "Result",
    "claim",
    "delete_of_activities",
    "delete_of_member",
    "enqueue",
    "enqueue_followers",
    "failures",
    "pending_of_member",
    "reached_by_member",
    "record",
    "summary",
    "targets_of",
]


class DeliveryState(StrEnum):
    """The states of one delivery (stored as their string value)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    GONE = "gone"
    SKIPPED = "skipped"


_S = DeliveryState
TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.PENDING, _S.SENT, _S.FAILED, _S.GONE, _S.SKIPPED}),
        _S.SENT: frozenset(),
        _S.FAILED: frozenset(),
        _S.GONE: frozenset(),
        _S.SKIPPED: frozenset(),
    }
)


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to a worker."""

    id: int
    activity_id: int
    inbox: str
    domain: str
    recipient_uri: str | None
    attempts: int


def _claimed(r: Any) -> Claimed:
    return Claimed(r[0], r[1], r[2], r[3], r[4], r[5])


QUEUE: LeasedQueue[DeliveryState, Claimed] = LeasedQueue(
    table="deliveries",
    states=DeliveryState,
    waiting=DeliveryState.PENDING,
    transitions=TRANSITIONS,
    order="attempts, id",  # new deliveries before the retry backlog
    returning="id, activity_id, inbox, domain, recipient_uri, attempts",
    read=_claimed,
    touched="updated_at",
)
FINAL_STATES = QUEUE.final


@dataclass(frozen=True)
class Result:
    """The outcome of one attempt on a leased (pending) delivery: its next state and bookkeeping.

    Only a transition the machine allows from pending can be built, so an illegal one can
    never reach the database; `record` also updates only rows that are still pending.
    """

    id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    status: int | None
    error: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", QUEUE.check(DeliveryState.PENDING, self.state))


@dataclass(frozen=True)
class FailedDelivery:
    """A failed, skipped, gone or retrying delivery, with its activity's type (the `queue` views)."""

    id: int
    inbox: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: float
    type: str


async def enqueue_followers(db: Executor, activity_id: int, member_id: int, now: float) -> int:
    """Queue one delivery per distinct inbox of the member's followers (shared inbox preferred).

    Done in one INSERT ... SELECT, so a fan-out to 10,000 followers never holds the
    recipient list in Python memory.
    """
    return await db.execute(
        """INSERT INTO deliveries (activity_id, inbox, domain, recipient_uri, next_attempt_at, created_at, updated_at)
           SELECT ?, COALESCE(shared_inbox, inbox), MIN(domain),
                  CASE WHEN COUNT(*) = 1 AND MIN(shared_inbox) IS NULL THEN MIN(actor_uri) END,
                  ?, ?, ?
           FROM followers WHERE member_id = ?
           GROUP BY COALESCE(shared_inbox, inbox)
           ON CONFLICT (activity_id, inbox) DO NOTHING""",
        (activity_id, now, now, now, member_id),
    )


async def enqueue(db: Executor, activity_id: int, targets: Iterable[tuple[str, str, str | None]], now: float) -> None:
    """Queue deliveries to explicit (inbox, domain, recipient_uri) targets."""
    await db.executemany(
        "INSERT INTO deliveries (activity_id, inbox, domain, recipient_uri, next_attempt_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id, inbox) DO NOTHING",
        [(activity_id, inbox, domain, recipient, now, now, now) for inbox, domain, recipient in targets],
    )


async def claim(db: Executor, now: float, lease_seconds: float, limit: int, owner: str) -> list[Claimed]:
    """Lease up to `limit` due deliveries to `owner`; new ones before the retry backlog."""
    return await QUEUE.claim(db, now, lease_seconds, limit, owner)


_RECORDED = ("attempts", "next_attempt_at", "last_status", "last_error")


async def record(db: Executor, results: Sequence[Result], now: float) -> None:
    """Store the outcome of attempts on leased deliveries (all from state pending)."""
    await QUEUE.move(
        db,
        [Move(r.id, r.state, (r.attempts, r.next_attempt_at, r.status, r.error)) for r in results],
        _RECORDED,
        now,
    )


async def targets_of(db: Executor, activity_id: int) -> list[tuple[str, str, str | None]]:
    """The (inbox, domain, recipient) triples an activity was queued to (a Delete goes to the same)."""
    rows = await db.fetchall(
        "SELECT inbox, domain, recipient_uri FROM deliveries WHERE activity_id = ? ORDER BY id", (activity_id,)
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def summary(db: Executor) -> dict[str, int]:
    """Delivery counts by state (in the order of the state names)."""
    return await QUEUE.counts(db)


async def failures(db: Executor, limit: int = 50) -> list[FailedDelivery]:
    """The most recent failed or retrying deliveries, with their last error."""
    rows = await db.fetchall(
        """SELECT d.id, d.inbox, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, a.type
           FROM deliveries d JOIN activities a ON a.id = d.activity_id
           WHERE d.state IN ('failed', 'gone', 'skipped') OR (d.state = 'pending' AND d.attempts > 0)
           ORDER BY d.updated_at DESC LIMIT ?""",
        (limit,),
    )
    return [FailedDelivery(*tuple(r)) for r in rows]


# -- an erased account ------------------------------------------------------------------------

_OF_MEMBER = "activity_id IN (SELECT id FROM activities WHERE member_id = ?)"


async def reached_by_member(db: Executor, member_id: int) -> list[tuple[str, str, str | None]]:
    """(inbox, domain, None) of every server any of a member's activities went (or was going) to: one
    inbox per server, its shared inbox where the recipient has one."""
    rows = await db.fetchall(
        f"""SELECT COALESCE(a.shared_inbox, d.inbox), MIN(d.domain) FROM deliveries d
            LEFT JOIN actors a ON a.uri = d.recipient_uri
            WHERE d.{_OF_MEMBER} AND d.state IN ('pending', 'sent', 'failed')
            GROUP BY COALESCE(a.shared_inbox, d.inbox) ORDER BY 1""",
        (member_id,),
    )
    return [(str(r[0]), str(r[1]), None) for r in rows]


async def delete_of_member(db: Executor, member_id: int, keep_activity: int) -> None:
    """Forget the deliveries of a member's activities, but those of `keep_activity`."""
    await db.execute(f"DELETE FROM deliveries WHERE {_OF_MEMBER} AND activity_id <> ?", (member_id, keep_activity))


async def pending_of_member(db: Executor, member_id: int) -> int:
    """How many deliveries of a member's activities are still pending."""
    return int(
        await db.fetchval(f"SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND {_OF_MEMBER}", (member_id,))
    )


async def delete_of_activities(db: Executor, ids: Sequence[int]) -> None:
    """Forget the deliveries of these activities."""
    for chunk in chunks(list(ids)):
        await db.execute(f"DELETE FROM deliveries WHERE activity_id IN ({marks(len(chunk))})", tuple(chunk))
