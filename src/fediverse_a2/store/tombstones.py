"""Tombstones: ids of deleted objects, remembered per actor so that a late Create stays deleted.

A tombstone belongs to the actor whose Delete left it: it keeps that actor's own object
deleted, and never blocks another actor's object that claims the same id.
"""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["add", "exists"]


async def add(db: Executor, ap_id: str, actor_uri: str) -> None:
    """Remember that `actor_uri` deleted `ap_id`."""
    await db.execute(
        "INSERT INTO tombstones (ap_id, actor_uri, deleted_at) VALUES (?, ?, ?) "
        "ON CONFLICT (ap_id, actor_uri) DO NOTHING",
        (ap_id, actor_uri, time.time()),
    )


async def exists(db: Executor, ap_id: str, actor_uri: str) -> bool:
    """Whether `actor_uri` deleted `ap_id`."""
    return bool(await db.fetchval("SELECT 1 FROM tombstones WHERE ap_id = ? AND actor_uri = ?", (ap_id, actor_uri)))
