"""Tombstones: ids of deleted objects, remembered per actor so that a late Create stays deleted.

A tombstone belongs to the actor whose Delete left it: it keeps that actor's own object
deleted, and never blocks another actor's object that claims the same id.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .db import Executor

__all__ = ["add", "add_many", "exists", "is_deleted"]


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


async def add_many(db: Executor, ap_ids: Sequence[str], actor_uri: str) -> None:
    """Remember that `actor_uri` deleted each of `ap_ids` (an erased account's objects)."""
    now = time.time()
    await db.executemany(
        "INSERT INTO tombstones (ap_id, actor_uri, deleted_at) VALUES (?, ?, ?) "
        "ON CONFLICT (ap_id, actor_uri) DO NOTHING",
        [(ap_id, actor_uri, now) for ap_id in ap_ids],
    )


async def is_deleted(db: Executor, ap_id: str) -> bool:
    """Whether any actor deleted `ap_id` (for one of our own ids: only its author can have)."""
    return bool(await db.fetchval("SELECT 1 FROM tombstones WHERE ap_id = ? LIMIT 1", (ap_id,)))
