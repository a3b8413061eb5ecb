"""Reports (Flag activities) received from other servers, and how a moderator resolved each."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor
from .sql import columns, record

__all__ = ["RESOLUTIONS", "Report", "add", "by_id", "recent", "resolve"]

RESOLUTIONS = ("resolved", "dismissed")


@dataclass(frozen=True, slots=True)
class Report:
    """A Flag received from another server, and how a moderator resolved it."""

    id: int
    actor_uri: str
    content: str
    objects: str  # the flagged objects' ids, a JSON list as received
    received_at: float
    resolution: str | None  # None while open, else one of RESOLUTIONS
    resolution_note: str
    resolved_by: str | None
    resolved_at: float | None


_COLUMNS = columns(Report)


async def add(db: Executor, activity_id: str, actor_uri: str, content: str, objects_json: str) -> None:
    """Store a report once."""
    await db.execute(
        "INSERT INTO reports (activity_id, actor_uri, content, objects, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (activity_id) DO NOTHING",
        (activity_id, actor_uri, content, objects_json, time.time()),
    )


async def recent(db: Executor, limit: int = 200, open_only: bool = False) -> list[Report]:
    """Reports, newest first (only the unresolved ones when asked)."""
    where = " WHERE resolution IS NULL" if open_only else ""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM reports{where} ORDER BY id DESC LIMIT ?", (limit,))
    return [record(Report, r) for r in rows]


async def by_id(db: Executor, report_id: int) -> Report | None:
    """One report, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,))
    return None if row is None else record(Report, row)


async def resolve(db: Executor, report_id: int, resolution: str, note: str, by: str) -> bool:
    """Record a report's resolution (again: the newest wins); False when there is no such report."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    return bool(
        await db.execute(
            "UPDATE reports SET resolution = ?, resolution_note = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
            (resolution, note, by, time.time(), report_id),
        )
    )
