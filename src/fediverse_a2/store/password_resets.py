"""Password reset links (/password/forgot): valid for an hour, usable once. Only the token's hash is kept."""

from __future__ import annotations

from .db import Executor

__all__ = ["create", "delete_for_member", "prune", "take", "valid_member"]


async def create(db: Executor, token_hash: str, member_id: int, now: float, expires_at: float) -> None:
    """Store a new reset link."""
    await db.execute(
        "INSERT INTO password_resets (token_hash, member_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash, member_id, now, expires_at),
    )


async def valid_member(db: Executor, token_hash: str, now: float) -> int | None:
    """The member of an unused, unexpired reset link, or None."""
    value = await db.fetchval(
        "SELECT member_id FROM password_resets WHERE token_hash = ? AND expires_at > ?", (token_hash, now)
    )
    return None if value is None else int(value)


async def take(db: Executor, token_hash: str, now: float) -> int | None:
    """Use a reset link up: its member, whose every other link ends with it; None if unknown, used or expired."""
    member = await valid_member(db, token_hash, now)
    if member is None:
        return None
    # The delete is the compare-and-set: of two requests with one link, only one deletes it.
    if not await db.execute("DELETE FROM password_resets WHERE token_hash = ? AND expires_at > ?", (token_hash, now)):
        return None
    await delete_for_member(db, member)
    return member


async def delete_for_member(db: Executor, member_id: int) -> None:
    """End every reset link of a member (a link was used, the password changed, the account erased)."""
    await db.execute("DELETE FROM password_resets WHERE member_id = ?", (member_id,))


async def prune(db: Executor, now: float) -> int:
    """Forget reset links that expired."""
    return await db.execute("DELETE FROM password_resets WHERE expires_at <= ?", (now,))
