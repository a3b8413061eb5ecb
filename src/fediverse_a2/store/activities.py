"""Activities this instance sent: the outbox, and the bodies deliveries point at."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor, Row
from .sql import chunks, columns, marks, optional_int, optional_str, record

__all__ = [
    "NewActivity",
    "OwnActivity",
    "SentActivity",
    "add",
    "add_many",
    "body",
    "count_for_member",
    "create_of",
    "delete_for_member",
    "delete_ids",
    "for_member",
    "is_deleted",
    "latest_version",
    "object_ids_of_member",
    "page_of_member",
    "passed_on_of_member",
    "with_sender",
]


@dataclass(frozen=True, slots=True)
class SentActivity:
    """An activity we sent, as stored."""

    id: int
    member_id: int | None  # None for the instance actor
    type: str
    object_id: str | None
    body: str  # the JSON sent
    listed: bool = True  # False: for its addressees only (never in the outbox, never served to a fetch)


@dataclass(frozen=True, slots=True)
class NewActivity:
    """An activity to put in the outbox without delivering it (imported from the archive)."""

    ap_id: str
    member_id: int
    type: str
    object_id: str
    body: str
    created_at: float


_SENT = f"SELECT {columns(SentActivity)} FROM activities"


def _sent(row: Row) -> SentActivity:
    return SentActivity(int(row[0]), optional_int(row[1]), str(row[2]), optional_str(row[3]), str(row[4]),
                        bool(row[5]))  # fmt: skip


async def add(
    db: Executor, ap_id: str, member_id: int | None, kind: str, object_id: str | None, body: str, *, listed: bool = True
) -> int:
    """Store an outgoing activity and return its row id; `listed=False`: one for its addressees only."""
    # A listed activity leaves the column to its default, so the statement also suits a
    # database from before it (as the upgrade tests have one).
    extra, values = ("", ()) if listed else (", listed", (0,))
    return int(
        await db.fetchval(
            f"INSERT INTO activities (ap_id, member_id, type, object_id, body, created_at{extra}) "
            f"VALUES (?, ?, ?, ?, ?, ?{', ?' if extra else ''}) RETURNING id",
            (ap_id, member_id, kind, object_id, body, time.time(), *values),
        )
    )


async def add_many(db: Executor, rows: Sequence[NewActivity]) -> None:
    """Put activities in the outbox without delivering them; an id already there stays as it is."""
    await db.executemany(
        "INSERT INTO activities (ap_id, member_id, type, object_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (ap_id) DO NOTHING",
        [(r.ap_id, r.member_id, r.type, r.object_id, r.body, r.created_at) for r in rows],
    )


async def body(db: Executor, activity_id: int) -> str | None:
    """The JSON body of an outgoing activity."""
    return optional_str(await db.fetchval("SELECT body FROM activities WHERE id = ?", (activity_id,)))


_OUTBOX_TYPES = "('Create', 'Update', 'Delete', 'Announce')"


async def count_for_member(db: Executor, member_id: int) -> int:
    """How many public activities are in a member's outbox."""
    return int(
        await db.fetchval(
            f"SELECT COUNT(*) FROM activities WHERE member_id = ? AND type IN {_OUTBOX_TYPES} AND listed = 1",
            (member_id,),
        )
    )


async def for_member(db: Executor, member_id: int, limit: int, offset: int) -> list[str]:
    """The JSON bodies of a page of a member's outbox, newest first."""
    rows = await db.fetchall(
        f"SELECT body FROM activities WHERE member_id = ? AND type IN {_OUTBOX_TYPES} AND listed = 1 "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [str(r[0]) for r in rows]


async def latest_version(db: Executor, object_id: str) -> SentActivity | None:
    """The newest Create, Update or Delete we sent of an object, or None."""
    row = await db.fetchone(
        f"{_SENT} WHERE object_id = ? AND type IN ('Create', 'Update', 'Delete') ORDER BY id DESC LIMIT 1",
        (object_id,),
    )
    return None if row is None else _sent(row)


async def create_of(db: Executor, object_id: str) -> SentActivity | None:
    """The Create we sent of an object, or None."""
    row = await db.fetchone(f"{_SENT} WHERE object_id = ? AND type = 'Create'", (object_id,))
    return None if row is None else _sent(row)


async def is_deleted(db: Executor, object_id: str) -> bool:
    """Whether we already sent a Delete of this object."""
    return bool(await db.fetchval("SELECT 1 FROM activities WHERE object_id = ? AND type = 'Delete'", (object_id,)))


async def with_sender(db: Executor, activity_id: int) -> tuple[str, str | None] | None:
    """(body, username) of an outgoing activity (username None for the instance actor), or None."""
    row = await db.fetchone(
        "SELECT a.body, m.username FROM activities a LEFT JOIN members m ON m.id = a.member_id WHERE a.id = ?",
        (activity_id,),
    )
    return None if row is None else (str(row[0]), optional_str(row[1]))


@dataclass(frozen=True, slots=True)
class OwnActivity:
    """An activity a member sent, as their data export reads it."""

    id: int
    type: str
    object_id: str | None
    body: str
    created_at: float


async def page_of_member(
    db: Executor, member_id: int, kinds: Sequence[str], after_id: int, limit: int
) -> list[OwnActivity]:
    """A member's sent activities of these types, oldest first, after a row id."""
    rows = await db.fetchall(
        f"SELECT {columns(OwnActivity)} FROM activities WHERE member_id = ? AND type IN ({marks(len(kinds))}) "
        "AND id > ? ORDER BY id LIMIT ?",
        (member_id, *kinds, after_id, limit),
    )
    return [record(OwnActivity, r) for r in rows]


async def object_ids_of_member(db: Executor, member_id: int) -> list[str]:
    """The ids of every object a member created (posts, comments, replies elsewhere)."""
    rows = await db.fetchall(
        "SELECT DISTINCT object_id FROM activities WHERE member_id = ? AND type = 'Create' AND object_id IS NOT NULL",
        (member_id,),
    )
    return [str(r[0]) for r in rows]


async def delete_for_member(db: Executor, member_id: int, keep: int) -> None:
    """Forget every activity a member sent but `keep` (their deliveries must be gone first)."""
    await db.execute("DELETE FROM activities WHERE member_id = ? AND id <> ?", (member_id, keep))


async def passed_on_of_member(db: Executor, member_id: int) -> list[int]:
    """Row ids of other actors' activities that carry one of a member's (a group's Announce{Update})."""
    rows = await db.fetchall(
        "SELECT id FROM activities WHERE (member_id IS NULL OR member_id <> ?) "
        "AND object_id IN (SELECT ap_id FROM activities WHERE member_id = ?)",
        (member_id, member_id),
    )
    return [int(r[0]) for r in rows]


async def delete_ids(db: Executor, ids: Sequence[int]) -> None:
    """Forget these activities (their deliveries must be gone first)."""
    for chunk in chunks(list(ids)):
        await db.execute(f"DELETE FROM activities WHERE id IN ({marks(len(chunk))})", tuple(chunk))
