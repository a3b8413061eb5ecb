"""Hashtags of posts: a display name and a folded form that matches regardless of case and accents."""

from __future__ import annotations

from collections.abc import Sequence

from .db import Executor
from .sql import LIVE_POST, chunks, marks

__all__ = ["add_many", "clear_for_posts", "count_posts", "for_post", "for_posts", "set_for_post", "starting_with"]


async def set_for_post(db: Executor, post_id: int, tags: list[tuple[str, str]]) -> None:
    """Make these (name, folded name) the post's tags."""
    await db.execute("DELETE FROM post_tags WHERE post_id = ?", (post_id,))
    await add_many(db, [(post_id, name, norm) for name, norm in tags])


async def add_many(db: Executor, rows: Sequence[tuple[int, str, str]]) -> None:
    """Tag posts: (post id, name as written, folded name) triples; tags are created when new. A post keeps
    the spelling its author wrote (the tag itself keeps the first one, for posts from before that)."""
    if not rows:
        return
    names = {norm: name for _, name, norm in rows}
    await db.executemany(
        "INSERT INTO tags (name, norm) VALUES (?, ?) ON CONFLICT (norm) DO NOTHING",
        [(name, norm) for norm, name in names.items()],
    )
    ids: dict[str, int] = {}
    for chunk in chunks(sorted(names)):
        found = await db.fetchall(f"SELECT norm, id FROM tags WHERE norm IN ({marks(len(chunk))})", chunk)
        ids.update((str(r[0]), int(r[1])) for r in found)
    await db.executemany(
        "INSERT INTO post_tags (post_id, tag_id, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(post_id, ids[norm], name) for post_id, name, norm in rows],
    )


async def for_post(db: Executor, post_id: int) -> list[tuple[str, str]]:
    """A post's (name as its author wrote it, folded name) tags, by name."""
    rows = await db.fetchall(
        "SELECT COALESCE(pt.name, t.name), t.norm FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
        "WHERE pt.post_id = ? ORDER BY t.norm",
        (post_id,),
    )
    return [(str(r[0]), str(r[1])) for r in rows]


async def for_posts(db: Executor, post_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The tags of several posts at once."""
    if not post_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT pt.post_id, COALESCE(pt.name, t.name), t.norm FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
        f"WHERE pt.post_id IN ({marks(len(post_ids))}) ORDER BY t.norm",
        tuple(post_ids),
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append((str(r[1]), str(r[2])))
    return out


async def count_posts(db: Executor, norm: str) -> int:
    """How many live published posts carry this tag."""
    return int(
        await db.fetchval(
            "SELECT COUNT(*) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id JOIN posts p ON p.id = pt.post_id "
            f"WHERE t.norm = ? AND {LIVE_POST}",
            (norm,),
        )
    )


async def starting_with(db: Executor, prefix: str, limit: int, offset: int = 0) -> list[tuple[str, str]]:
    """(name, folded name) of the tags of live posts whose folded name starts with `prefix` (folded), by name."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await db.fetchall(
        "SELECT t.name, t.norm FROM tags t WHERE t.norm LIKE ? ESCAPE '\\' AND EXISTS ("
        f"SELECT 1 FROM post_tags pt JOIN posts p ON p.id = pt.post_id WHERE pt.tag_id = t.id AND {LIVE_POST}) "
        "ORDER BY t.norm LIMIT ? OFFSET ?",
        (escaped + "%", limit, offset),
    )
    return [(str(r[0]), str(r[1])) for r in rows]


async def clear_for_posts(db: Executor, post_ids: Sequence[int]) -> None:
    """Take every tag off these posts (an erased account's)."""
    for chunk in chunks(list(post_ids)):
        await db.execute(f"DELETE FROM post_tags WHERE post_id IN ({marks(len(chunk))})", tuple(chunk))
