"""Members who hold comments from accounts they do not follow until they approve them."""

from __future__ import annotations

import time

from .db import Executor

__all__ = ["is_on", "set_on", "should_hold"]


async def is_on(db: Executor, member_id: int) -> bool:
    """Whether a member holds comments from accounts they do not follow."""
    return bool(await db.fetchval("SELECT 1 FROM comment_holds WHERE member_id = ?", (member_id,)))


async def set_on(db: Executor, member_id: int, on: bool) -> None:
    """Switch holding on or off for one member."""
    if on:
        await db.execute(
            "INSERT INTO comment_holds (member_id, created_at) VALUES (?, ?) ON CONFLICT (member_id) DO NOTHING",
            (member_id, time.time()),
        )
    else:
        await db.execute("DELETE FROM comment_holds WHERE member_id = ?", (member_id,))


async def should_hold(db: Executor, post_id: int, actor_uri: str) -> bool:
    """Whether a remote comment by `actor_uri` under this post waits: the post's author holds
    comments and does not follow the actor (an accepted follow)."""
    return bool(
        await db.fetchval(
            """SELECT 1 FROM posts p JOIN comment_holds h ON h.member_id = p.member_id
               WHERE p.id = ? AND NOT EXISTS (
                   SELECT 1 FROM following f
                   WHERE f.member_id = p.member_id AND f.actor_uri = ? AND f.state = 'accepted')""",
            (post_id, actor_uri),
        )
    )
