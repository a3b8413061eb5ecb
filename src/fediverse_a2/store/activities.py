"""Activities this instance sent: the outbox, and the bodies deliveries point at."""

from __future__ import annotations

import time
from typing import Any

from .db import Executor

__all__ = ["add", "body", "count_for_member", "create_of", "for_member", "is_deleted", "latest_version", "with_sender"]


async def add(db: Executor, ap_id: str, member_id: int | None, kind: str, object_id: str | None, body: str) -> int:
    """Store an outgoing activity and return its row id."""
    return int(
        await db.fetchval(
            "INSERT INTO activities (ap_id, member_id, type, object_id, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (ap_id, member_id, kind, object_id, body, time.time()),
        )
    )


async def body(db: Executor, activity_id: int) -> str | None:
    """The JSON body of an outgoing activity."""
    return await db.fetchval("SELECT body FROM activities WHERE id = ?", (activity_id,))


_OUTBOX_TYPES = "('Create', 'Update', 'Delete', 'Announce')"


async def count_for_member(db: Executor, member_id: int) -> int:
    """How many public activities are in a member's outbox."""
    return int(
        await db.fetchval(
            f"SELECT COUNT(*) FROM activities WHERE member_id = ? AND type IN {_OUTBOX_TYPES}", (member_id,)
        )
    )


async def for_member(db: Executor, member_id: int, limit: int, offset: int) -> list[Any]:
    """A page of a member's outbox, newest first."""
    return await db.fetchall(
        f"SELECT body FROM activities WHERE member_id = ? AND type IN {_OUTBOX_TYPES} "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )


async def latest_version(db: Executor, object_id: str) -> Any:
    """(type, body) of the newest Create, Update or Delete we sent of an object, or None."""
    return await db.fetchone(
        "SELECT type, body FROM activities WHERE object_id = ? AND type IN ('Create', 'Update', 'Delete') "
        "ORDER BY id DESC LIMIT 1",
        (object_id,),
    )


async def create_of(db: Executor, object_id: str) -> Any:
    """(id, member_id, body) of the Create we sent of an object, or None."""
    return await db.fetchone(
        "SELECT id, member_id, body FROM activities WHERE object_id = ? AND type = 'Create'", (object_id,)
    )


async def is_deleted(db: Executor, object_id: str) -> bool:
    """Whether we already sent a Delete of this object."""
    return bool(await db.fetchval("SELECT 1 FROM activities WHERE object_id = ? AND type = 'Delete'", (object_id,)))


async def with_sender(db: Executor, activity_id: int) -> Any:
    """(body, username) of an outgoing activity; username is NULL for the instance actor."""
    return await db.fetchone(
        "SELECT a.body, m.username FROM activities a LEFT JOIN members m ON m.id = a.member_id WHERE a.id = ?",
        (activity_id,),
    )
