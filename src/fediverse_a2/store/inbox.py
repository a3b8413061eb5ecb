"""Received activities, stored raw before processing, deduplicated by activity id.

States: queued -> done | failed. A claim is a lease (locked_until); an item leased by a
process that died is claimed again once its lease runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor

__all__ = ["InboxItem", "add", "claim", "mark_done", "mark_failed", "release"]


@dataclass(frozen=True)
class InboxItem:
    id: int
    activity_id: str
    actor_uri: str
    body: str
    attempts: int


async def add(db: Executor, activity_id: str, actor_uri: str, domain: str, body: str) -> bool:
    """Store a verified activity; False when it was already received (a duplicate)."""
    row_id = await db.fetchval(
        "INSERT INTO inbox_items (activity_id, actor_uri, domain, body, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (activity_id) DO NOTHING RETURNING id",
        (activity_id, actor_uri, domain, body, time.time()),
    )
    return row_id is not None


async def claim(db: Executor, now: float, lease_seconds: float, limit: int) -> list[InboxItem]:
    """Lease up to `limit` queued items, oldest first."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
    rows = await db.fetchall(
        f"""UPDATE inbox_items SET locked_until = ?, attempts = attempts + 1
            WHERE id IN (SELECT id FROM inbox_items WHERE state = 'queued'
                           AND (locked_until IS NULL OR locked_until <= ?)
                         ORDER BY id LIMIT ?{skip_locked})
            RETURNING id, activity_id, actor_uri, body, attempts""",
        (now + lease_seconds, now, limit),
    )
    items = [InboxItem(r["id"], r["activity_id"], r["actor_uri"], r["body"], r["attempts"]) for r in rows]
    items.sort(key=lambda i: i.id)
    return items


async def mark_done(db: Executor, item_id: int) -> None:
    """Processing succeeded."""
    await db.execute("UPDATE inbox_items SET state = 'done', locked_until = NULL WHERE id = ?", (item_id,))


async def mark_failed(db: Executor, item_id: int, error: str) -> None:
    """Processing failed for good."""
    await db.execute(
        "UPDATE inbox_items SET state = 'failed', locked_until = NULL, last_error = ? WHERE id = ?",
        (error[:500], item_id),
    )


async def release(db: Executor, item_id: int, error: str, retry_at: float) -> None:
    """Processing hit a transient error; try again after retry_at."""
    await db.execute(
        "UPDATE inbox_items SET locked_until = ?, last_error = ? WHERE id = ?", (retry_at, error[:500], item_id)
    )
