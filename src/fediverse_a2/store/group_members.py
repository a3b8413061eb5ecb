"""Who belongs to a group (`group_members`), and members' requests to join one (`group_join_requests`).

Membership is what lets a member see a members-only group's page, posts and comments and post
into it. A member asks to join on the group's page; a moderator of the group approves (the member
is added) or rejects. Asking again after a rejection opens the request again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor
from .sql import marks, record

__all__ = [
    "APPROVED",
    "PENDING",
    "REJECTED",
    "GroupMember",
    "JoinRequest",
    "add",
    "add_many",
    "decide",
    "is_member",
    "list_members",
    "member_of",
    "pending",
    "request",
    "request_by_id",
    "request_of",
]

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class GroupMember:
    """A member of a group, as its page lists them."""

    member_id: int
    username: str
    name: str
    joined_at: float


@dataclass(frozen=True)
class JoinRequest:
    """A member's request to join a group."""

    id: int
    group_id: int
    member_id: int
    username: str
    name: str
    message: str
    state: str
    created_at: float
    decided_at: float | None
    decided_by: int | None


_REQUEST = (
    "SELECT r.id, r.group_id, r.member_id, m.username, m.name, r.message, r.state, r.created_at, r.decided_at, "
    "r.decided_by FROM group_join_requests r JOIN members m ON m.id = r.member_id"
)


async def add(db: Executor, group_id: int, member_id: int, at: float | None = None) -> bool:
    """Make a member a member of a group; False when they were one already."""
    return bool(
        await db.execute(
            "INSERT INTO group_members (group_id, member_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (group_id, member_id, at if at is not None else time.time()),
        )
    )


async def add_many(db: Executor, group_id: int, member_ids: Sequence[int], at: float | None = None) -> None:
    """Make several members members of a group (the importer's; those already in stay)."""
    when = at if at is not None else time.time()
    await db.executemany(
        "INSERT INTO group_members (group_id, member_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(group_id, member_id, when) for member_id in member_ids],
    )


async def is_member(db: Executor, group_id: int, member_id: int) -> bool:
    """Whether the member belongs to the group."""
    found = await db.fetchval("SELECT 1 FROM group_members WHERE group_id = ? AND member_id = ?", (group_id, member_id))
    return found is not None


async def member_of(db: Executor, member_id: int, group_ids: Sequence[int]) -> set[int]:
    """Which of these groups the member belongs to."""
    if not group_ids:
        return set()
    rows = await db.fetchall(
        f"SELECT group_id FROM group_members WHERE member_id = ? AND group_id IN ({marks(len(group_ids))})",
        (member_id, *group_ids),
    )
    return {int(r[0]) for r in rows}


async def list_members(db: Executor, group_id: int, limit: int = 1000) -> list[GroupMember]:
    """A group's members, by name."""
    rows = await db.fetchall(
        "SELECT g.member_id, m.username, m.name, g.created_at FROM group_members g "
        "JOIN members m ON m.id = g.member_id WHERE g.group_id = ? ORDER BY m.name, m.id LIMIT ?",
        (group_id, limit),
    )
    return [record(GroupMember, r) for r in rows]


async def request(db: Executor, group_id: int, member_id: int, message: str) -> bool:
    """Ask to join a group; False when a request is pending already (a decided one is opened again)."""
    changed = await db.execute(
        "INSERT INTO group_join_requests (group_id, member_id, message, state, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (group_id, member_id) DO UPDATE SET message = excluded.message, state = excluded.state, "
        "created_at = excluded.created_at, decided_at = NULL, decided_by = NULL "
        "WHERE group_join_requests.state <> ?",
        (group_id, member_id, message, PENDING, time.time(), PENDING),
    )
    return bool(changed)


async def request_of(db: Executor, group_id: int, member_id: int) -> JoinRequest | None:
    """A member's request to join a group, in whatever state, or None."""
    row = await db.fetchone(f"{_REQUEST} WHERE r.group_id = ? AND r.member_id = ?", (group_id, member_id))
    return record(JoinRequest, row) if row else None


async def request_by_id(db: Executor, group_id: int, request_id: int) -> JoinRequest | None:
    """One request to join this group, or None."""
    row = await db.fetchone(f"{_REQUEST} WHERE r.group_id = ? AND r.id = ?", (group_id, request_id))
    return record(JoinRequest, row) if row else None


async def pending(db: Executor, group_id: int, limit: int = 200) -> list[JoinRequest]:
    """The requests waiting for a group's moderators, oldest first."""
    rows = await db.fetchall(
        f"{_REQUEST} WHERE r.group_id = ? AND r.state = ? ORDER BY r.created_at, r.id LIMIT ?",
        (group_id, PENDING, limit),
    )
    return [record(JoinRequest, r) for r in rows]


async def decide(db: Executor, request_id: int, approve: bool, by: int) -> bool:
    """Approve or reject a pending request; False when it was decided already."""
    changed = await db.execute(
        "UPDATE group_join_requests SET state = ?, decided_at = ?, decided_by = ? WHERE id = ? AND state = ?",
        (APPROVED if approve else REJECTED, time.time(), by, request_id, PENDING),
    )
    return bool(changed)
