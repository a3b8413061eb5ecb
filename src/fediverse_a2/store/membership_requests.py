"""Requests to join the network ("Word lid"), waiting for an admin."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor, Row
from .sql import columns, record

__all__ = ["MembershipRequest", "add", "by_id", "decide", "forget_member", "pending", "prune_rejected"]


@dataclass(frozen=True)
class MembershipRequest:
    id: int
    name: str
    email: str
    organisation: str
    motivation: str
    state: str  # pending | approved | rejected
    created_at: float
    member_id: int | None


_COLUMNS = columns(MembershipRequest)


def _request(row: Row) -> MembershipRequest:
    return record(MembershipRequest, row)


async def add(db: Executor, name: str, email: str, organisation: str, motivation: str) -> int:
    """Store a new request; returns its id."""
    return int(
        await db.fetchval(
            "INSERT INTO membership_requests (name, email, organisation, motivation, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, email, organisation, motivation, time.time()),
        )
    )


async def pending(db: Executor, limit: int = 200) -> list[MembershipRequest]:
    """Requests waiting for a decision, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM membership_requests WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,)
    )
    return [_request(r) for r in rows]


async def by_id(db: Executor, request_id: int) -> MembershipRequest | None:
    """One request, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM membership_requests WHERE id = ?", (request_id,))
    return _request(row) if row else None


async def decide(db: Executor, request_id: int, state: str, by: int | None, member_id: int | None) -> bool:
    """Approve or reject a pending request; False when it was not pending (decided already)."""
    return bool(
        await db.execute(
            "UPDATE membership_requests SET state = ?, decided_at = ?, decided_by = ?, member_id = ? "
            "WHERE id = ? AND state = 'pending'",
            (state, time.time(), by, member_id, request_id),
        )
    )


async def forget_member(db: Executor, member_id: int) -> None:
    """Forget the membership request that made a member (name, e-mail, motivation: an erased account)."""
    await db.execute("DELETE FROM membership_requests WHERE member_id = ?", (member_id,))


async def prune_rejected(db: Executor, before: float) -> int:
    """Forget requests rejected before a time (name, e-mail, motivation)."""
    return await db.execute("DELETE FROM membership_requests WHERE state = 'rejected' AND decided_at < ?", (before,))
