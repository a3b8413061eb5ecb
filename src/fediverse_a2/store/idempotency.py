"""Idempotency keys of statuses posted from apps: the same key from the same member gives one status.

A key is claimed before the status is written and completed with its id after, so a second
request with the key, even one arriving while the first is still writing, never writes another.
Keys are kept for a day (Mastodon keeps them an hour).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor
from .sql import optional_str

__all__ = ["KEEP_SECONDS", "Claim", "claim", "complete", "delete_for_member", "release"]

KEEP_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a key: ours to write, or the status an earlier request wrote (None: still writing)."""

    ours: bool
    status_id: str | None = None


async def claim(db: Executor, member_id: int, key: str, now: float | None = None) -> Claim:
    """Claim a key for a new status, or learn what an earlier request with it did."""
    now = time.time() if now is None else now
    await db.execute("DELETE FROM idempotency_keys WHERE member_id = ? AND created_at < ?",
                     (member_id, now - KEEP_SECONDS))  # fmt: skip
    added = await db.execute(
        "INSERT INTO idempotency_keys (member_id, key, status_id, created_at) VALUES (?, ?, NULL, ?) "
        "ON CONFLICT (member_id, key) DO NOTHING",
        (member_id, key, now),
    )
    if added:
        return Claim(ours=True)
    found = await db.fetchval(
        "SELECT status_id FROM idempotency_keys WHERE member_id = ? AND key = ?", (member_id, key)
    )
    return Claim(ours=False, status_id=optional_str(found))


async def complete(db: Executor, member_id: int, key: str, status_id: str) -> None:
    """Record the status a claimed key wrote."""
    await db.execute(
        "UPDATE idempotency_keys SET status_id = ? WHERE member_id = ? AND key = ?", (status_id, member_id, key)
    )


async def release(db: Executor, member_id: int, key: str) -> None:
    """Give a claimed key up (writing the status failed: the app may try again with it)."""
    await db.execute(
        "DELETE FROM idempotency_keys WHERE member_id = ? AND key = ? AND status_id IS NULL", (member_id, key)
    )


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget a member's keys (an erased account)."""
    await db.execute("DELETE FROM idempotency_keys WHERE member_id = ?", (member_id,))
