"""Members: the local Person actors."""

from __future__ import annotations

import time
from typing import Any

from ..models import Member
from .db import Executor

__all__ = ["by_username", "count", "create", "list_all"]

_COLUMNS = "id, username, name, summary, public_key_pem, created_at"


def _member(row: Any) -> Member:
    return Member(
        id=row["id"],
        username=row["username"],
        name=row["name"],
        summary=row["summary"],
        public_key_pem=row["public_key_pem"],
        created_at=row["created_at"],
    )


async def create(db: Executor, username: str, name: str, summary: str, public_key_pem: str) -> Member:
    """Insert a member; the caller has checked the username is free and valid."""
    now = time.time()
    row = await db.fetchone(
        f"INSERT INTO members (username, name, summary, public_key_pem, created_at) "
        f"VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (username, name, summary, public_key_pem, now),
    )
    return _member(row)


async def by_username(db: Executor, username: str) -> Member | None:
    """The member with this username, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM members WHERE username = ?", (username,))
    return _member(row) if row else None


async def by_id(db: Executor, member_id: int) -> Member | None:
    """The member with this id, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,))
    return _member(row) if row else None


async def count(db: Executor) -> int:
    """How many members there are."""
    return int(await db.fetchval("SELECT COUNT(*) FROM members"))


async def list_all(db: Executor) -> list[Member]:
    """Every member, oldest first."""
    return [_member(r) for r in await db.fetchall(f"SELECT {_COLUMNS} FROM members ORDER BY id")]
