"""Posts received from remote actors that members follow (the timeline)."""

from __future__ import annotations

import time
from typing import Any

from .db import Executor

__all__ = ["add", "delete", "delete_by_actor", "owner", "timeline", "update"]


async def add(
    db: Executor,
    *,
    ap_id: str,
    actor_uri: str,
    content_html: str,
    summary: str | None,
    url: str | None,
    in_reply_to: str | None,
    published: float | None,
) -> None:
    """Store a remote post once (a duplicate delivery changes nothing)."""
    await db.execute(
        """INSERT INTO remote_posts (ap_id, actor_uri, content_html, summary, url, in_reply_to, published, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ap_id) DO NOTHING""",
        (ap_id, actor_uri, content_html, summary, url, in_reply_to, published, time.time()),
    )


async def update(
    db: Executor, ap_id: str, actor_uri: str, content_html: str, summary: str | None, updated: float
) -> None:
    """Apply an Update from the post's own author."""
    await db.execute(
        "UPDATE remote_posts SET content_html = ?, summary = ?, updated = ? WHERE ap_id = ? AND actor_uri = ?",
        (content_html, summary, updated, ap_id, actor_uri),
    )


async def delete(db: Executor, ap_id: str, actor_uri: str) -> None:
    """Remove a post after a Delete from its own author."""
    await db.execute("DELETE FROM remote_posts WHERE ap_id = ? AND actor_uri = ?", (ap_id, actor_uri))


async def delete_by_actor(db: Executor, actor_uri: str) -> None:
    """Remove every post of an actor that deleted itself."""
    await db.execute("DELETE FROM remote_posts WHERE actor_uri = ?", (actor_uri,))


async def owner(db: Executor, ap_id: str) -> str | None:
    """The actor a stored remote post belongs to."""
    return await db.fetchval("SELECT actor_uri FROM remote_posts WHERE ap_id = ?", (ap_id,))


async def timeline(db: Executor, member_id: int, limit: int) -> list[Any]:
    """Posts received from the actors a member follows, newest first."""
    return await db.fetchall(
        """SELECT r.ap_id, r.url, r.content_html, r.summary, r.published, a.handle, a.name
           FROM remote_posts r
           JOIN following f ON f.actor_uri = r.actor_uri AND f.member_id = ?
           LEFT JOIN actors a ON a.uri = r.actor_uri
           ORDER BY r.published DESC LIMIT ?""",
        (member_id, limit),
    )
