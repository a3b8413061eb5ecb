"""Follow requests waiting for a locked member's decision (manuallyApprovesFollowers)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor
from .sql import columns, record

__all__ = ["FollowRequest", "add", "by_id", "count", "for_member", "remove", "remove_by_follow"]


@dataclass(frozen=True, slots=True)
class FollowRequest:
    id: int
    member_id: int
    actor_uri: str
    inbox: str
    shared_inbox: str | None
    domain: str
    follow_id: str
    activity: str  # the Follow as received (JSON), echoed in the Accept or Reject
    created_at: float


_COLUMNS = columns(FollowRequest)


async def add(
    db: Executor,
    member_id: int,
    actor_uri: str,
    inbox: str,
    shared_inbox: str | None,
    domain: str,
    follow_id: str,
    activity: str,
) -> None:
    """Record a request (a repeated Follow from the same actor refreshes it)."""
    await db.execute(
        """INSERT INTO follow_requests (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, activity,
               created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, actor_uri) DO UPDATE SET inbox = excluded.inbox,
               shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id, activity = excluded.activity""",
        (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, activity, time.time()),
    )


async def for_member(db: Executor, member_id: int, limit: int = 200) -> list[FollowRequest]:
    """A member's waiting requests, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM follow_requests WHERE member_id = ? ORDER BY id LIMIT ?", (member_id, limit)
    )
    return [record(FollowRequest, r) for r in rows]


async def by_id(db: Executor, member_id: int, request_id: int) -> FollowRequest | None:
    """One of a member's requests."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM follow_requests WHERE id = ? AND member_id = ?", (request_id, member_id)
    )
    return record(FollowRequest, row) if row else None


async def count(db: Executor, member_id: int) -> int:
    return int(await db.fetchval("SELECT COUNT(*) FROM follow_requests WHERE member_id = ?", (member_id,)))


async def remove(db: Executor, request_id: int) -> None:
    await db.execute("DELETE FROM follow_requests WHERE id = ?", (request_id,))


async def remove_by_follow(db: Executor, member_id: int, actor_uri: str) -> int:
    """The actor withdrew (Undo{Follow}) before the member decided; returns rows removed."""
    return await db.execute("DELETE FROM follow_requests WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri))
