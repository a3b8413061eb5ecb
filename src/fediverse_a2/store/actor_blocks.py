"""Remote actors blocked one by one (their activities refused, their comments hidden)."""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["add", "is_blocked", "list_all", "remove"]


async def add(db: Executor, actor_uri: str) -> None:
    """Block an actor (again: no change)."""
    await db.execute(
        "INSERT INTO blocked_actors (actor_uri, created_at) VALUES (?, ?) ON CONFLICT (actor_uri) DO NOTHING",
        (actor_uri, time.time()),
    )


async def remove(db: Executor, actor_uri: str) -> bool:
    """Lift a block; False when the actor was not blocked."""
    return bool(await db.execute("DELETE FROM blocked_actors WHERE actor_uri = ?", (actor_uri,)))


async def is_blocked(db: Executor, actor_uri: str) -> bool:
    """Whether this actor is blocked."""
    return bool(await db.fetchval("SELECT 1 FROM blocked_actors WHERE actor_uri = ?", (actor_uri,)))


async def list_all(db: Executor) -> list[tuple[str, float]]:
    """Every blocked actor with when it was blocked, oldest first."""
    rows = await db.fetchall("SELECT actor_uri, created_at FROM blocked_actors ORDER BY created_at, actor_uri")
    return [(str(r[0]), float(r[1])) for r in rows]
