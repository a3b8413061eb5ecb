"""How one member stands to some remote actors: follows each way and waiting requests (the client API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor

__all__ = ["FollowEntry", "Standing", "followers", "following", "standings"]


@dataclass(frozen=True, slots=True)
class Standing:
    following: str | None  # our follow: 'pending', 'accepted' or None
    followed_by: bool
    requested_by: bool  # their follow request waits for the member


@dataclass(frozen=True, slots=True)
class FollowEntry:
    """One row of a member's followers or following list: the row id pages the list."""

    row_id: int
    actor_uri: str


async def standings(db: Executor, member_id: int, uris: Sequence[str]) -> dict[str, Standing]:
    """The member's standing towards each actor URI (every URI gets one)."""
    wanted = list(dict.fromkeys(uris))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    params = (member_id, *wanted)
    ours = await db.fetchall(f"SELECT actor_uri, state FROM following WHERE member_id = ? AND actor_uri IN ({marks})",
                             params)  # fmt: skip
    theirs = await db.fetchall(
        f"SELECT actor_uri FROM followers WHERE member_id = ? AND actor_uri IN ({marks})", params
    )
    asked = await db.fetchall(
        f"SELECT actor_uri FROM follow_requests WHERE member_id = ? AND actor_uri IN ({marks})", params
    )
    state = {uri: s for uri, s in ours}
    followed_by = {r[0] for r in theirs}
    requested_by = {r[0] for r in asked}
    return {uri: Standing(state.get(uri), uri in followed_by, uri in requested_by) for uri in wanted}


async def _page(db: Executor, table: str, extra: str, member_id: int, before: int | None, after: int | None,
                limit: int, ascending: bool) -> list[FollowEntry]:  # fmt: skip
    where = f"member_id = ?{extra}"
    params: list[object] = [member_id]
    if before is not None:
        where += " AND id < ?"
        params.append(before)
    if after is not None:
        where += " AND id > ?"
        params.append(after)
    order = "ASC" if ascending else "DESC"
    rows = await db.fetchall(f"SELECT id, actor_uri FROM {table} WHERE {where} ORDER BY id {order} LIMIT ?",
                             (*params, limit))  # fmt: skip
    return [FollowEntry(int(row_id), uri) for row_id, uri in rows]


async def followers(db: Executor, member_id: int, before: int | None, after: int | None, limit: int,
                    ascending: bool = False) -> list[FollowEntry]:  # fmt: skip
    """A page of the member's followers by row id (newest first unless ascending)."""
    return await _page(db, "followers", "", member_id, before, after, limit, ascending)


async def following(db: Executor, member_id: int, before: int | None, after: int | None, limit: int,
                    ascending: bool = False) -> list[FollowEntry]:  # fmt: skip
    """A page of the actors the member follows (accepted), by row id."""
    return await _page(db, "following", " AND state = 'accepted'", member_id, before, after, limit, ascending)
