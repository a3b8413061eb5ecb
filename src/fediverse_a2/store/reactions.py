"""Likes and boosts (Announce) of our posts by remote actors."""

from __future__ import annotations

import time

from .db import Executor
from .sql import optional_str

__all__ = ["actors", "add", "delete_by_actor", "owner", "remove", "remove_activity"]


async def add(db: Executor, activity_id: str, kind: str, actor_uri: str, post_id: int) -> None:
    """Count a like or boost once per actor and post."""
    await db.execute(
        "INSERT INTO reactions (activity_id, kind, actor_uri, post_id, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (activity_id, kind, actor_uri, post_id, time.time()),
    )


async def remove_activity(db: Executor, activity_id: str, actor_uri: str) -> None:
    """Undo of a Like or Announce named by its activity id."""
    await db.execute("DELETE FROM reactions WHERE activity_id = ? AND actor_uri = ?", (activity_id, actor_uri))


async def remove(db: Executor, kind: str, actor_uri: str, post_id: int) -> None:
    """Undo of an actor's like or boost of a post, whatever the activity id."""
    await db.execute(
        "DELETE FROM reactions WHERE kind = ? AND actor_uri = ? AND post_id = ?", (kind, actor_uri, post_id)
    )


async def delete_by_actor(db: Executor, actor_uri: str) -> None:
    """Forget every reaction of an actor that deleted itself."""
    await db.execute("DELETE FROM reactions WHERE actor_uri = ?", (actor_uri,))


async def owner(db: Executor, activity_id: str) -> str | None:
    """The actor a stored reaction belongs to."""
    return optional_str(await db.fetchval("SELECT actor_uri FROM reactions WHERE activity_id = ?", (activity_id,)))


async def actors(db: Executor, post_id: int, kind: str, limit: int) -> list[str]:
    """Who liked ("like") or boosted ("announce") a post, most recent first: actor URIs, ours among them."""
    rows = await db.fetchall(
        "SELECT actor_uri FROM reactions WHERE post_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (post_id, kind, limit),
    )
    return [str(r[0]) for r in rows]
