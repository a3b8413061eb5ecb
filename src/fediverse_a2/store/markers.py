"""Where a member stopped reading a timeline (the client API's markers): home, notifications."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor

__all__ = ["Marker", "delete_for_member", "for_member", "save"]


@dataclass(frozen=True, slots=True)
class Marker:
    timeline: str
    last_read_id: str
    version: int
    updated_at: float


async def for_member(db: Executor, member_id: int, timelines: tuple[str, ...]) -> list[Marker]:
    """The member's markers of these timelines (those set so far)."""
    if not timelines:
        return []
    marks = ", ".join("?" * len(timelines))
    rows = await db.fetchall(
        "SELECT timeline, last_read_id, version, updated_at FROM markers "
        f"WHERE member_id = ? AND timeline IN ({marks}) ORDER BY timeline",
        (member_id, *timelines),
    )
    return [Marker(t, last, int(version), float(at)) for t, last, version, at in rows]


async def save(db: Executor, member_id: int, timeline: str, last_read_id: str) -> Marker:
    """Set a marker; its version counts the changes (clients detect conflicts by it)."""
    now = time.time()
    row = await db.fetchone(
        """INSERT INTO markers (member_id, timeline, last_read_id, version, updated_at) VALUES (?, ?, ?, 1, ?)
           ON CONFLICT (member_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id,
               version = markers.version + 1, updated_at = excluded.updated_at
           RETURNING version""",
        (member_id, timeline, last_read_id, now),
    )
    assert row is not None
    return Marker(timeline, last_read_id, int(row[0]), now)


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget where a member stopped reading (an erased account)."""
    await db.execute("DELETE FROM markers WHERE member_id = ?", (member_id,))
