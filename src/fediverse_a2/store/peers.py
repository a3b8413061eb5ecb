"""What we learnt about peer hosts: the signature scheme that worked for deliveries."""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["remember_scheme", "schemes"]


async def schemes(db: Executor) -> dict[str, str]:
    """host -> the signature scheme ("rfc9421" or "cavage") that host accepted."""
    return {str(r[0]): str(r[1]) for r in await db.fetchall("SELECT host, signature_scheme FROM peer_hosts")}


async def remember_scheme(db: Executor, host: str, scheme: str, now: float | None = None) -> None:
    """Remember the scheme that worked for host."""
    await db.execute(
        "INSERT INTO peer_hosts (host, signature_scheme, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (host) DO UPDATE SET signature_scheme = excluded.signature_scheme, "
        "updated_at = excluded.updated_at",
        (host, scheme, time.time() if now is None else now),
    )
