"""Failed sign-ins, per account and per address, for throttling (kept in the database: several processes).

Rows (and with them the addresses) live only as long as the throttling window: `prune` drops
older ones, at every sign-in and in the background housekeeping.
"""

from __future__ import annotations

from .db import Executor

__all__ = ["clear_account", "count_since", "oldest_since", "prune", "record"]


async def record(db: Executor, account: str, address: str, at: float) -> None:
    """Note one failed sign-in."""
    await db.execute("INSERT INTO login_failures (account, address, at) VALUES (?, ?, ?)", (account, address, at))


async def count_since(db: Executor, account: str, address: str, since: float) -> tuple[int, int]:
    """(failures for this account, failures from this address) since a moment."""
    by_account = await db.fetchval("SELECT COUNT(*) FROM login_failures WHERE account = ? AND at > ?", (account, since))
    by_address = await db.fetchval("SELECT COUNT(*) FROM login_failures WHERE address = ? AND at > ?", (address, since))
    return int(by_account), int(by_address)


async def oldest_since(
    db: Executor, since: float, *, account: str | None = None, address: str | None = None
) -> float | None:
    """The oldest failure in the window for this account, or from this address (when it frees up)."""
    column, value = ("account", account) if account is not None else ("address", address)
    oldest = await db.fetchval(f"SELECT MIN(at) FROM login_failures WHERE {column} = ? AND at > ?", (value, since))
    return None if oldest is None else float(oldest)


async def clear_account(db: Executor, account: str) -> None:
    """A successful sign-in forgets the account's failures (not the address's)."""
    await db.execute("DELETE FROM login_failures WHERE account = ?", (account,))


async def prune(db: Executor, before: float) -> int:
    """Forget failures older than the window."""
    return await db.execute("DELETE FROM login_failures WHERE at <= ?", (before,))
