"""Blog posts by members, with their view and reaction counters."""

from __future__ import annotations

import time
from typing import Any

from ..models import Post
from .db import Executor

__all__ = ["by_id", "create", "increment_views", "mark_deleted", "recent", "update"]

_SELECT = """
SELECT p.id, p.member_id, m.username, m.name AS author_name, p.title, p.body_md, p.content_html,
       p.published, p.updated, p.deleted_at, p.views,
       (SELECT COUNT(*) FROM reactions r WHERE r.post_id = p.id AND r.kind = 'like') AS likes,
       (SELECT COUNT(*) FROM reactions r WHERE r.post_id = p.id AND r.kind = 'announce') AS boosts
FROM posts p JOIN members m ON m.id = p.member_id
"""


def _post(row: Any) -> Post:
    return Post(
        id=row["id"],
        member_id=row["member_id"],
        username=row["username"],
        author_name=row["author_name"],
        title=row["title"],
        body_md=row["body_md"],
        content_html=row["content_html"],
        published=row["published"],
        updated=row["updated"],
        deleted_at=row["deleted_at"],
        views=row["views"],
        likes=row["likes"],
        boosts=row["boosts"],
    )


async def create(
    db: Executor, member_id: int, title: str, body_md: str, content_html: str, published: float | None = None
) -> int:
    """Insert a post and return its id."""
    return int(
        await db.fetchval(
            "INSERT INTO posts (member_id, title, body_md, content_html, published) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (member_id, title, body_md, content_html, published or time.time()),
        )
    )


async def by_id(db: Executor, post_id: int) -> Post | None:
    """A post (deleted ones included: the caller answers 410 for those)."""
    row = await db.fetchone(_SELECT + " WHERE p.id = ?", (post_id,))
    return _post(row) if row else None


async def recent(db: Executor, limit: int, offset: int = 0, member_id: int | None = None) -> list[Post]:
    """Live posts, newest first, optionally by one member."""
    where = "WHERE p.deleted_at IS NULL" + (" AND p.member_id = ?" if member_id is not None else "")
    params: tuple[Any, ...] = (member_id,) if member_id is not None else ()
    rows = await db.fetchall(
        _SELECT + f" {where} ORDER BY p.published DESC, p.id DESC LIMIT ? OFFSET ?", (*params, limit, offset)
    )
    return [_post(r) for r in rows]


async def count_live(db: Executor, member_id: int | None = None) -> int:
    """How many posts are not deleted."""
    if member_id is None:
        return int(await db.fetchval("SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL"))
    return int(await db.fetchval("SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL AND member_id = ?", (member_id,)))


async def update(db: Executor, post_id: int, title: str, body_md: str, content_html: str) -> float:
    """Replace a post's title and body; returns the new `updated` time."""
    now = time.time()
    await db.execute(
        "UPDATE posts SET title = ?, body_md = ?, content_html = ?, updated = ? WHERE id = ?",
        (title, body_md, content_html, now, post_id),
    )
    return now


async def mark_deleted(db: Executor, post_id: int) -> float:
    """Mark a post deleted (its URL then answers 410); returns the deletion time."""
    now = time.time()
    await db.execute("UPDATE posts SET deleted_at = ? WHERE id = ?", (now, post_id))
    return now


async def increment_views(db: Executor, post_id: int) -> None:
    """Count one page view by a person."""
    await db.execute("UPDATE posts SET views = views + 1 WHERE id = ?", (post_id,))
