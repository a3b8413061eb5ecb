"""The audit log: every moderation action, who took it (a username or "cli"), when, and on what."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor
from .sql import columns
from .sql import record as _record

__all__ = ["AuditEntry", "recent", "record"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderation action."""

    id: int
    at: float
    actor: str  # a username, or "cli"
    action: str
    target: str
    detail: str


_SELECT = f"SELECT {columns(AuditEntry)} FROM audit_log"


async def record(db: Executor, actor: str, action: str, target: str, detail: str = "") -> None:
    """Write one entry, in the caller's transaction so it stands or falls with the action."""
    await db.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time.time(), actor, action, target, detail[:2000]),
    )


async def recent(db: Executor, limit: int = 200, before: int | None = None) -> list[AuditEntry]:
    """Entries newest first; `before` pages back by id."""
    if before is None:
        rows = await db.fetchall(f"{_SELECT} ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = await db.fetchall(f"{_SELECT} WHERE id < ? ORDER BY id DESC LIMIT ?", (before, limit))
    return [_record(AuditEntry, r) for r in rows]
