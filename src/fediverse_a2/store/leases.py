"""Lease owners on the two queues (deliveries, inbox_items): who holds what, and taking it back.

Claiming and renewing live in each queue's own module; this one answers the question every
queue shares: which owners hold live leases, and release everything one (dead) owner held.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from .db import Executor

__all__ = ["QUEUES", "live_owners", "release_owners"]

# table -> the state its rows are in while they wait for (or are in) work
QUEUES = MappingProxyType({"deliveries": "pending", "inbox_items": "queued"})


def _state(table: str) -> str:
    try:
        return QUEUES[table]
    except KeyError:
        raise ValueError(f"not a leased queue: {table}") from None


async def live_owners(db: Executor, table: str, now: float) -> list[str]:
    """The distinct owners of the leases on `table` that have not run out yet."""
    rows = await db.fetchall(
        f"SELECT DISTINCT lease_owner FROM {table} WHERE state = ? AND locked_until > ? AND lease_owner IS NOT NULL",
        (_state(table), now),
    )
    return [r["lease_owner"] for r in rows]


async def release_owners(db: Executor, table: str, owners: Iterable[str]) -> int:
    """Give the leases of these owners back to the queue at once; how many rows were released."""
    released = 0
    for owner in owners:
        released += await db.execute(
            f"UPDATE {table} SET locked_until = NULL, lease_owner = NULL WHERE state = ? AND lease_owner = ?",
            (_state(table), owner),
        )
    return released
