"""Small instance-wide values: the instance actor's public key, change counters."""

from __future__ import annotations

from .db import Executor
from .sql import optional_str

__all__ = ["bump", "get", "put", "put_new", "swap"]


async def get(db: Executor, key: str) -> str | None:
    """The stored value for key, or None."""
    return optional_str(await db.fetchval("SELECT value FROM meta WHERE key = ?", (key,)))


async def put(db: Executor, key: str, value: str) -> None:
    """Store a value, replacing any earlier one."""
    await db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def bump(db: Executor, key: str) -> None:
    """Increment a counter, so other processes notice that something changed."""
    await db.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
        (key,),
    )


async def put_new(db: Executor, key: str, value: str) -> None:
    """Store a value only if the key has none yet (two processes starting at once agree)."""
    await db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))


async def swap(db: Executor, key: str, old: str, new: str) -> bool:
    """Replace a value only if it is still `old` (one process of several wins); True when this one did."""
    return await db.execute("UPDATE meta SET value = ? WHERE key = ? AND value = ?", (new, key, old)) > 0
