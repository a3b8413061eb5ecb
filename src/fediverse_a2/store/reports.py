"""Reports (Flag activities) received from other servers."""

from __future__ import annotations

import time
from typing import Any

from .db import Executor

__all__ = ["add", "recent"]


async def add(db: Executor, activity_id: str, actor_uri: str, content: str, objects_json: str) -> None:
    """Store a report once."""
    await db.execute(
        "INSERT INTO reports (activity_id, actor_uri, content, objects, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (activity_id) DO NOTHING",
        (activity_id, actor_uri, content, objects_json, time.time()),
    )


async def recent(db: Executor, limit: int = 200) -> list[Any]:
    """Reports, newest first."""
    return await db.fetchall(
        "SELECT id, actor_uri, content, objects, received_at FROM reports ORDER BY id DESC LIMIT ?", (limit,)
    )
