"""The durable delivery queue, as a declared state machine.

States:   pending --(2xx)--> sent
          pending --(retryable failure, attempts left)--> pending (later next_attempt_at)
          pending --(permanent 4xx, or attempts used up)--> failed
          pending --(410 from the inbox)--> gone
          pending --(domain blocked or unavailable)--> skipped
sent, failed, gone and skipped are final. A claim is a lease (locked_until, lease_owner), not
a state: the owner renews it while the work is in flight; work leased by a process that died
is released at once by a process on its host (store/leases.py), or else claimed again once the
lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .db import Executor
from .sql import chunks, marks

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "Claimed",
    "DeliveryState",
    "IllegalTransition",
    "Result",
    "check_transition",
    "claim",
    "delete_of_activities",
    "delete_of_member",
    "enqueue",
    "enqueue_followers",
    "failures",
    "pending_of_member",
    "reached_by_member",
    "record",
    "renew_leases",
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
FINAL_STATES = frozenset(state for state, following in TRANSITIONS.items() if not following)


class IllegalTransition(ValueError):
    """A change of state the delivery state machine does not allow."""


def check_transition(old: str, new: str) -> None:
    """Raise IllegalTransition for a transition (or a state) the state machine does not know."""
    try:
        allowed = TRANSITIONS[DeliveryState(old)]
        target = DeliveryState(new)
    except ValueError:
        raise IllegalTransition(f"unknown delivery state in {old} -> {new}") from None
    if target not in allowed:
        raise IllegalTransition(f"illegal delivery transition {old} -> {new}")


@dataclass(frozen=True)
class Claimed:
    id: int
    activity_id: int
    inbox: str
    domain: str
    recipient_uri: str | None
    attempts: int


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
        check_transition(DeliveryState.PENDING, self.state)
        object.__setattr__(self, "state", DeliveryState(self.state))


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


async def claim(db: Executor, now: float, lease_seconds: float, limit: int, owner: str | None = None) -> list[Claimed]:
    """Lease up to `limit` due deliveries to `owner`; new ones before the retry backlog."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
    rows = await db.fetchall(
        f"""UPDATE deliveries SET locked_until = ?, lease_owner = ?, updated_at = ?
            WHERE id IN (SELECT id FROM deliveries
                         WHERE state = 'pending' AND next_attempt_at <= ?
                           AND (locked_until IS NULL OR locked_until <= ?)
                         ORDER BY attempts, id LIMIT ?{skip_locked})
            RETURNING id, activity_id, inbox, domain, recipient_uri, attempts""",
        (now + lease_seconds, owner, now, now, now, limit),
    )
    return [
        Claimed(r["id"], r["activity_id"], r["inbox"], r["domain"], r["recipient_uri"], r["attempts"]) for r in rows
    ]


async def record(db: Executor, results: Sequence[Result], now: float) -> None:
    """Store the outcome of attempts on leased deliveries (all from state pending)."""
    await db.executemany(
        """UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, locked_until = NULL,
               lease_owner = NULL, last_status = ?, last_error = ?, updated_at = ?
           WHERE id = ? AND state = 'pending'""",
        [(r.state.value, r.attempts, r.next_attempt_at, r.status, r.error, now, r.id) for r in results],
    )


async def renew_leases(db: Executor, ids: Sequence[int], until: float, owner: str) -> None:
    """Extend `owner`'s leases of deliveries still in flight, so no other worker claims them meanwhile.

    A lease that was recorded meanwhile, or released and claimed by another owner, is left alone.
    """
    if ids:
        marks = ", ".join("?" * len(ids))
        await db.execute(
            f"UPDATE deliveries SET locked_until = ? WHERE state = 'pending' AND locked_until IS NOT NULL "
            f"AND lease_owner = ? AND id IN ({marks})",
            (until, owner, *ids),
        )


async def targets_of(db: Executor, activity_id: int) -> list[tuple[str, str, str | None]]:
    """The (inbox, domain, recipient) triples an activity was queued to (a Delete goes to the same)."""
    rows = await db.fetchall(
        "SELECT inbox, domain, recipient_uri FROM deliveries WHERE activity_id = ? ORDER BY id", (activity_id,)
    )
    return [(r["inbox"], r["domain"], r["recipient_uri"]) for r in rows]


async def summary(db: Executor) -> list[Any]:
    """Delivery counts by state."""
    return await db.fetchall("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state ORDER BY state")


async def failures(db: Executor, limit: int = 50) -> list[Any]:
    """The most recent failed or retrying deliveries, with their last error."""
    return await db.fetchall(
        """SELECT d.id, d.inbox, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, a.type
           FROM deliveries d JOIN activities a ON a.id = d.activity_id
           WHERE d.state IN ('failed', 'gone', 'skipped') OR (d.state = 'pending' AND d.attempts > 0)
           ORDER BY d.updated_at DESC LIMIT ?""",
        (limit,),
    )


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
