"""Which remote domains keep failing: days with failures, and the unavailable mark (Mastodon's rule)."""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["clear", "failure_days", "record_failure", "set_unavailable", "unavailable_domains"]


async def record_failure(db: Executor, domain: str, day: str) -> int:
    """Note a failed delivery to domain on day (YYYY-MM-DD); returns its number of failing days."""
    await db.execute("INSERT INTO domain_failures (domain, day) VALUES (?, ?) ON CONFLICT DO NOTHING", (domain, day))
    return await failure_days(db, domain)


async def failure_days(db: Executor, domain: str) -> int:
    """On how many distinct days deliveries to domain failed since it last worked."""
    return int(await db.fetchval("SELECT COUNT(*) FROM domain_failures WHERE domain = ?", (domain,)))


async def set_unavailable(db: Executor, domain: str, value: bool, now: float | None = None) -> None:
    """Mark a domain unavailable (deliveries skipped) or available again."""
    await db.execute(
        "INSERT INTO domain_status (domain, unavailable, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (domain) DO UPDATE SET unavailable = excluded.unavailable, updated_at = excluded.updated_at",
        (domain, 1 if value else 0, time.time() if now is None else now),
    )


async def clear(db: Executor, domain: str) -> None:
    """A delivery worked or the domain sent us a valid signed activity: forget its failures."""
    await db.execute("DELETE FROM domain_failures WHERE domain = ?", (domain,))


async def unavailable_domains(db: Executor) -> set[str]:
    """The domains marked unavailable."""
    return {r["domain"] for r in await db.fetchall("SELECT domain FROM domain_status WHERE unavailable = 1")}
