"""Uploaded images (re-encoded, stored under a content-derived name) and which posts show them.

Every upload is a record of its own, owned by its uploader with its own alt text: the same
bytes uploaded twice (by one member or by two) give two records sharing one file on disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor, Row
from .sql import chunks, columns, marks, record

__all__ = [
    "Media",
    "add",
    "attach",
    "attach_many",
    "by_file_name",
    "by_id",
    "delete_for_member",
    "for_post",
    "for_posts",
    "in_use",
    "is_attached",
    "page_of_member",
    "set_alt",
]


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
    original_name: str = ""  # the uploaded file's own name ("" for imported and older images)


_COLUMNS = columns(Media)


def _media(row: Row) -> Media:
    return record(Media, row)


async def add(
    db: Executor,
    member_id: int | None,
    file_name: str,
    media_type: str,
    width: int,
    height: int,
    size: int,
    alt: str,
    original_name: str = "",
) -> Media:
    """Store a new record of an image for its uploader (never someone else's record of the same file)."""
    media_id = await db.fetchval(
        "INSERT INTO media (member_id, file_name, media_type, width, height, size, alt, created_at, original_name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (member_id, file_name, media_type, width, height, size, alt, time.time(), original_name),
    )
    return Media(int(media_id), member_id, file_name, media_type, width, height, size, alt, original_name)


async def by_id(db: Executor, media_id: int) -> Media | None:
    """One image's record."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,))
    return _media(row) if row else None


async def by_file_name(db: Executor, file_name: str) -> Media | None:
    """The first record of a stored file (several members may have uploaded the same bytes)."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM media WHERE file_name = ? ORDER BY id LIMIT 1", (file_name,))
    return _media(row) if row else None


async def is_attached(db: Executor, media_id: int) -> bool:
    """Whether a post carries this image."""
    return bool(await db.fetchval("SELECT 1 FROM post_media WHERE media_id = ? LIMIT 1", (media_id,)))


async def set_alt(db: Executor, media_id: int, alt: str) -> None:
    """Change an image's description."""
    await db.execute("UPDATE media SET alt = ? WHERE id = ?", (alt, media_id))


async def attach(db: Executor, post_id: int, media_ids: list[int]) -> None:
    """Make these images the post's attachments, in this order."""
    await db.execute("DELETE FROM post_media WHERE post_id = ?", (post_id,))
    await attach_many(db, [(post_id, media_id, i) for i, media_id in enumerate(media_ids)])


async def attach_many(db: Executor, rows: Sequence[tuple[int, int, int]]) -> None:
    """Attach images to posts: (post id, media id, position) triples; one already attached stays."""
    await db.executemany(
        "INSERT INTO post_media (post_id, media_id, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows
    )


async def for_post(db: Executor, post_id: int) -> list[Media]:
    """A post's images, in order."""
    rows = await db.fetchall(
        f"SELECT {columns(Media, 'm')} FROM post_media pm "
        "JOIN media m ON m.id = pm.media_id WHERE pm.post_id = ? ORDER BY pm.position",
        (post_id,),
    )
    return [_media(r) for r in rows]


async def for_posts(db: Executor, post_ids: list[int]) -> dict[int, list[Media]]:
    """The images of several posts at once."""
    if not post_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT pm.post_id, {columns(Media, 'm')} FROM post_media pm JOIN media m ON m.id = pm.media_id "
        f"WHERE pm.post_id IN ({marks(len(post_ids))}) ORDER BY pm.post_id, pm.position",
        tuple(post_ids),
    )
    out: dict[int, list[Media]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append(record(Media, r[1:]))
    return out


async def page_of_member(db: Executor, member_id: int, after_id: int, limit: int) -> list[Media]:
    """A member's uploads, oldest first, after a row id (for an export)."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM media WHERE member_id = ? AND id > ? ORDER BY id LIMIT ?", (member_id, after_id, limit)
    )
    return [_media(r) for r in rows]


async def delete_for_member(db: Executor, member_id: int, post_ids: Sequence[int]) -> list[str]:
    """Forget a member's uploads and the images of their posts; returns the file names they used."""
    for chunk in chunks(list(post_ids)):
        await db.execute(f"DELETE FROM post_media WHERE post_id IN ({marks(len(chunk))})", tuple(chunk))
    rows = await db.fetchall("SELECT DISTINCT file_name FROM media WHERE member_id = ?", (member_id,))
    await db.execute(
        "DELETE FROM post_media WHERE media_id IN (SELECT id FROM media WHERE member_id = ?)", (member_id,)
    )
    await db.execute("DELETE FROM media WHERE member_id = ?", (member_id,))
    return [str(r[0]) for r in rows]


async def in_use(db: Executor, file_name: str) -> bool:
    """Whether any record still uses a stored file (uploads of the same bytes share one)."""
    return bool(await db.fetchval("SELECT 1 FROM media WHERE file_name = ? LIMIT 1", (file_name,)))
