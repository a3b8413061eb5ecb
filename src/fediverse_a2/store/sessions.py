"""Signed-in sessions: the database keeps only the hash of each session id."""

from __future__ import annotations

from .db import Executor

__all__ = ["create", "delete", "delete_for_member", "member_id", "prune"]


async def create(db: Executor, id_hash: str, member_id: int, now: float, expires_at: float) -> None:
    """Store a new session."""
    await db.execute(
        "INSERT INTO sessions (id_hash, member_id, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (id_hash, member_id, now, now, expires_at),
    )


async def member_id(db: Executor, id_hash: str, now: float) -> int | None:
    """The member a live session belongs to, or None (unknown or expired)."""
    value = await db.fetchval("SELECT member_id FROM sessions WHERE id_hash = ? AND expires_at > ?", (id_hash, now))
    return None if value is None else int(value)


async def delete(db: Executor, id_hash: str) -> None:
    """End one session (sign-out)."""
    await db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


async def delete_for_member(db: Executor, member_id: int, keep: str | None = None) -> int:
    """End a member's sessions (all, or all but `keep`): after a password change or when disabled."""
    if keep is None:
        return await db.execute("DELETE FROM sessions WHERE member_id = ?", (member_id,))
    return await db.execute("DELETE FROM sessions WHERE member_id = ? AND id_hash <> ?", (member_id, keep))


async def prune(db: Executor, now: float) -> int:
    """Forget expired sessions."""
    return await db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
