"""A member's own likes and boosts of remote posts: what the buttons show, what an Undo names."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor
from .sql import columns, marks, record

__all__ = [
    "KINDS",
    "MemberReaction",
    "add",
    "counts",
    "delete_for_member",
    "get",
    "members_of",
    "of_objects",
    "page_of_member",
    "remove",
]

KINDS = ("Like", "Announce")


@dataclass(frozen=True)
class MemberReaction:
    kind: str  # Like | Announce
    object_id: str
    activity_id: str
    created_at: float


_COLUMNS = columns(MemberReaction)


async def add(db: Executor, member_id: int, kind: str, object_id: str, activity_id: str) -> bool:
    """Record a reaction; False when the member had already reacted so (nothing changes then)."""
    added = await db.execute(
        """INSERT INTO member_reactions (member_id, kind, object_id, activity_id, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (member_id, kind, object_id) DO NOTHING""",
        (member_id, kind, object_id, activity_id, time.time()),
    )
    return added > 0


async def get(db: Executor, member_id: int, kind: str, object_id: str) -> MemberReaction | None:
    """The member's reaction of this kind to an object, if any."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM member_reactions WHERE member_id = ? AND kind = ? AND object_id = ?",
        (member_id, kind, object_id),
    )
    return None if row is None else record(MemberReaction, row)


async def remove(db: Executor, member_id: int, kind: str, object_id: str) -> MemberReaction | None:
    """Forget a reaction; returns what it was (None when there was none)."""
    row = await db.fetchone(
        f"DELETE FROM member_reactions WHERE member_id = ? AND kind = ? AND object_id = ? RETURNING {_COLUMNS}",
        (member_id, kind, object_id),
    )
    return None if row is None else record(MemberReaction, row)


async def of_objects(db: Executor, member_id: int, object_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(kind, object id) of the member's reactions to any of these objects."""
    if not object_ids:
        return set()
    rows = await db.fetchall(
        f"SELECT kind, object_id FROM member_reactions WHERE member_id = ? AND object_id IN ({marks(len(object_ids))})",
        (member_id, *object_ids),
    )
    return {(str(r[0]), str(r[1])) for r in rows}


async def counts(db: Executor, object_ids: Sequence[str]) -> dict[tuple[str, str], int]:
    """How many members reacted to each of these objects: (kind, object id) -> count."""
    if not object_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT kind, object_id, COUNT(*) FROM member_reactions WHERE object_id IN ({marks(len(object_ids))}) "
        "GROUP BY kind, object_id",
        tuple(object_ids),
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


async def members_of(db: Executor, kind: str, object_id: str, limit: int) -> list[int]:
    """The members who reacted so to an object, most recent first."""
    rows = await db.fetchall(
        "SELECT member_id FROM member_reactions WHERE kind = ? AND object_id = ? ORDER BY created_at DESC LIMIT ?",
        (kind, object_id, limit),
    )
    return [int(r[0]) for r in rows]


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget a member's likes and boosts (an erased account)."""
    await db.execute("DELETE FROM member_reactions WHERE member_id = ?", (member_id,))


async def page_of_member(db: Executor, member_id: int, kind: str, offset: int, limit: int) -> list[MemberReaction]:
    """A page of a member's reactions of one kind, oldest first (for an export)."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM member_reactions WHERE member_id = ? AND kind = ? ORDER BY id LIMIT ? OFFSET ?",
        (member_id, kind, limit, offset),
    )
    return [record(MemberReaction, r) for r in rows]
