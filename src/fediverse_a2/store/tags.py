"""Hashtags of posts: a display name and a folded form that matches regardless of case and accents."""

from __future__ import annotations

from typing import Any

from .db import Executor

__all__ = ["count_posts", "for_post", "for_posts", "post_ids", "set_for_post"]


async def set_for_post(db: Executor, post_id: int, tags: list[tuple[str, str]]) -> None:
    """Make these (name, folded name) the post's tags."""
    await db.execute("DELETE FROM post_tags WHERE post_id = ?", (post_id,))
    for name, norm in tags:
        await db.execute("INSERT INTO tags (name, norm) VALUES (?, ?) ON CONFLICT (norm) DO NOTHING", (name, norm))
        tag_id = await db.fetchval("SELECT id FROM tags WHERE norm = ?", (norm,))
        await db.execute(
            "INSERT INTO post_tags (post_id, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING", (post_id, tag_id)
        )


async def for_post(db: Executor, post_id: int) -> list[tuple[str, str]]:
    """A post's (name, folded name) tags, by name."""
    rows = await db.fetchall(
        "SELECT t.name, t.norm FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ? ORDER BY t.norm",
        (post_id,),
    )
    return [(r["name"], r["norm"]) for r in rows]


async def for_posts(db: Executor, post_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The tags of several posts at once."""
    if not post_ids:
        return {}
    marks = ", ".join("?" * len(post_ids))
    rows: list[Any] = await db.fetchall(
        f"SELECT pt.post_id, t.name, t.norm FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
        f"WHERE pt.post_id IN ({marks}) ORDER BY t.norm",
        tuple(post_ids),
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for r in rows:
        out.setdefault(r["post_id"], []).append((r["name"], r["norm"]))
    return out


async def post_ids(db: Executor, norm: str, limit: int, offset: int) -> list[int]:
    """Live published posts with this tag, newest first."""
    rows = await db.fetchall(
        "SELECT p.id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id JOIN posts p ON p.id = pt.post_id "
        "WHERE t.norm = ? AND p.deleted_at IS NULL AND p.state = 'published' "
        "ORDER BY p.published DESC, p.id DESC LIMIT ? OFFSET ?",
        (norm, limit, offset),
    )
    return [r["id"] for r in rows]


async def count_posts(db: Executor, norm: str) -> int:
    """How many live published posts carry this tag."""
    return int(
        await db.fetchval(
            "SELECT COUNT(*) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id JOIN posts p ON p.id = pt.post_id "
            "WHERE t.norm = ? AND p.deleted_at IS NULL AND p.state = 'published'",
            (norm,),
        )
    )
