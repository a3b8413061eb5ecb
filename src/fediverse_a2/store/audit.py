"""The audit log: every moderation action, who took it (a username or "cli"), when, and on what."""

from __future__ import annotations

import time
from typing import Any

from .db import Executor

__all__ = ["recent", "record"]


async def record(db: Executor, actor: str, action: str, target: str, detail: str = "") -> None:
    """Write one entry, in the caller's transaction so it stands or falls with the action."""
    await db.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time.time(), actor, action, target, detail[:2000]),
    )


async def recent(db: Executor, limit: int = 200, before: int | None = None) -> list[Any]:
    """Entries newest first (id, at, actor, action, target, detail); `before` pages back by id."""
    if before is None:
        return await db.fetchall(
            "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
    return await db.fetchall(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before, limit),
    )
