"""Tombstones: ids of deleted objects, remembered so that a late Create stays deleted."""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["add", "exists"]


async def add(db: Executor, ap_id: str, actor_uri: str) -> None:
    """Remember that `ap_id` was deleted by `actor_uri`."""
    await db.execute(
        "INSERT INTO tombstones (ap_id, actor_uri, deleted_at) VALUES (?, ?, ?) ON CONFLICT (ap_id) DO NOTHING",
        (ap_id, actor_uri, time.time()),
    )


async def exists(db: Executor, ap_id: str) -> bool:
    """Whether `ap_id` was deleted."""
    return bool(await db.fetchval("SELECT 1 FROM tombstones WHERE ap_id = ?", (ap_id,)))
