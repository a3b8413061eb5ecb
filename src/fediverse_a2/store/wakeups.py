"""The SQL of wake-ups: PostgreSQL's NOTIFY, which the server sends only when the transaction
that queued the work commits (never for a rollback). The transport around it (LISTEN on a
connection of its own, SQLite's datagrams, coalescing) is work/wakeups.py.
"""

from __future__ import annotations

from .db import Executor

__all__ = ["CHANNELS", "DELIVERIES", "INBOX", "PG_PREFIX", "notify"]

DELIVERIES = "deliveries"
INBOX = "inbox"  # activities stored by a web process for a worker process to handle
CHANNELS = frozenset({DELIVERIES, INBOX})
PG_PREFIX = "fediverse_a2_"


async def notify(db: Executor, channel: str) -> None:
    """NOTIFY the listeners of `channel` (PostgreSQL; at the commit of `db`'s transaction, if any)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown wake-up channel {channel!r}")
    await db.execute("SELECT pg_notify(?, '')", (PG_PREFIX + channel,))
