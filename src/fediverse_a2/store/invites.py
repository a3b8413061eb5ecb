"""Invitation links: a member chooses a password once, within 7 days. Only the token's hash is kept."""

from __future__ import annotations

from .db import Executor

__all__ = ["create", "delete_for_member", "prune", "take", "valid_member"]


async def create(db: Executor, token_hash: str, member_id: int, now: float, expires_at: float) -> None:
    """Store a new invitation."""
    await db.execute(
        "INSERT INTO invites (token_hash, member_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash, member_id, now, expires_at),
    )


async def valid_member(db: Executor, token_hash: str, now: float) -> int | None:
    """The member of an unused, unexpired invitation, or None."""
    value = await db.fetchval(
        "SELECT member_id FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (token_hash, now),
    )
    return None if value is None else int(value)


async def take(db: Executor, token_hash: str, now: float) -> int | None:
    """Use an invitation up (once only): the member it was for, or None if it is unknown, used or expired."""
    member = await valid_member(db, token_hash, now)
    if member is None:
        return None
    used = await db.execute(
        "UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (now, token_hash, now),
    )
    return member if used else None


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget a member's invitations (an erased account)."""
    await db.execute("DELETE FROM invites WHERE member_id = ?", (member_id,))


async def prune(db: Executor, now: float) -> int:
    """Forget invitations that expired."""
    return await db.execute("DELETE FROM invites WHERE expires_at <= ?", (now,))
