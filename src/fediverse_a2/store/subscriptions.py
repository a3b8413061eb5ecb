"""Subscribed domain lists: when each was last fetched, and its last error."""

from __future__ import annotations

from .db import Executor

__all__ = ["fetched_at", "record_fetch"]


async def fetched_at(db: Executor, url: str) -> float | None:
    """When the list at url was last fetched (tried), or None."""
    value = await db.fetchval("SELECT fetched_at FROM subscriptions WHERE url = ?", (url,))
    return None if value is None else float(value)


async def record_fetch(db: Executor, url: str, now: float, error: str | None) -> None:
    """Note a fetch of the list and its outcome."""
    await db.execute(
        "INSERT INTO subscriptions (url, fetched_at, last_error) VALUES (?, ?, ?) "
        "ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at, last_error = excluded.last_error",
        (url, now, error),
    )
