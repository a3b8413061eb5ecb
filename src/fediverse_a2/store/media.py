"""Uploaded images (re-encoded, stored under a content-derived name) and which posts show them.

Every upload is a record of its own, owned by its uploader with its own alt text: the same
bytes uploaded twice (by one member or by two) give two records sharing one file on disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .db import Executor

__all__ = ["Media", "add", "attach", "by_file_name", "by_id", "for_post", "for_posts", "set_alt"]


@dataclass(frozen=True)
class Media:
    id: int
    member_id: int | None
    file_name: str
    media_type: str
    width: int
    height: int
    size: int
    alt: str


_COLUMNS = "id, member_id, file_name, media_type, width, height, size, alt"


def _media(row: Any) -> Media:
    return Media(*(row[c.strip()] for c in _COLUMNS.split(",")))


async def add(
    db: Executor, member_id: int | None, file_name: str, media_type: str, width: int, height: int, size: int, alt: str
) -> Media:
    """Store a new record of an image for its uploader (never someone else's record of the same file)."""
    media_id = await db.fetchval(
        "INSERT INTO media (member_id, file_name, media_type, width, height, size, alt, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (member_id, file_name, media_type, width, height, size, alt, time.time()),
    )
    return Media(int(media_id), member_id, file_name, media_type, width, height, size, alt)


async def by_id(db: Executor, media_id: int) -> Media | None:
    """One image's record."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,))
    return _media(row) if row else None


async def by_file_name(db: Executor, file_name: str) -> Media | None:
    """The first record of a stored file (several members may have uploaded the same bytes)."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM media WHERE file_name = ? ORDER BY id LIMIT 1", (file_name,))
    return _media(row) if row else None


async def set_alt(db: Executor, media_id: int, alt: str) -> None:
    """Change an image's description."""
    await db.execute("UPDATE media SET alt = ? WHERE id = ?", (alt, media_id))


async def attach(db: Executor, post_id: int, media_ids: list[int]) -> None:
    """Make these images the post's attachments, in this order."""
    await db.execute("DELETE FROM post_media WHERE post_id = ?", (post_id,))
    await db.executemany(
        "INSERT INTO post_media (post_id, media_id, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(post_id, media_id, i) for i, media_id in enumerate(media_ids)],
    )


async def for_post(db: Executor, post_id: int) -> list[Media]:
    """A post's images, in order."""
    rows = await db.fetchall(
        f"SELECT {', '.join('m.' + c.strip() for c in _COLUMNS.split(','))} FROM post_media pm "
        "JOIN media m ON m.id = pm.media_id WHERE pm.post_id = ? ORDER BY pm.position",
        (post_id,),
    )
    return [_media(r) for r in rows]


async def for_posts(db: Executor, post_ids: list[int]) -> dict[int, list[Media]]:
    """The images of several posts at once."""
    if not post_ids:
        return {}
    marks = ", ".join("?" * len(post_ids))
    rows = await db.fetchall(
        f"SELECT pm.post_id, {', '.join('m.' + c.strip() for c in _COLUMNS.split(','))} FROM post_media pm "
        f"JOIN media m ON m.id = pm.media_id WHERE pm.post_id IN ({marks}) ORDER BY pm.post_id, pm.position",
        tuple(post_ids),
    )
    out: dict[int, list[Media]] = {}
    for r in rows:
        out.setdefault(r["post_id"], []).append(_media(r))
    return out
