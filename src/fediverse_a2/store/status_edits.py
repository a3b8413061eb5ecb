"""Earlier versions of edited posts, comments and notes (what an app's edit history shows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from .db import Executor
from .sql import chunks, marks

__all__ = ["KINDS", "Version", "add", "delete_for", "for_status"]

KINDS = ("post", "comment", "note")


@dataclass(frozen=True, slots=True)
class Version:
    """What a status said from `created_at` until its next edit."""

    content_html: str
    summary: str | None
    media_ids: tuple[int, ...]
    created_at: float


async def add(
    db: Executor,
    kind: str,
    row_id: int,
    content_html: str,
    summary: str | None,
    media_ids: Sequence[int],
    created_at: float,
) -> None:
    """Keep the version an edit replaces (`created_at`: when that version was written)."""
    if kind not in KINDS:
        raise ValueError(f"unknown status kind {kind!r}")
    await db.execute(
        "INSERT INTO status_edits (kind, row_id, content_html, summary, media, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, row_id, content_html, summary, orjson.dumps(list(media_ids)).decode(), created_at),
    )  # fmt: skip


def _media(raw: str) -> tuple[int, ...]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ()
    return tuple(int(i) for i in value if isinstance(i, int)) if isinstance(value, list) else ()


async def for_status(db: Executor, kind: str, row_id: int) -> list[Version]:
    """The earlier versions of a status, oldest first."""
    rows = await db.fetchall(
        "SELECT content_html, summary, media, created_at FROM status_edits WHERE kind = ? AND row_id = ? ORDER BY id",
        (kind, row_id),
    )
    return [Version(str(r[0]), None if r[1] is None else str(r[1]), _media(str(r[2])), float(r[3])) for r in rows]


async def delete_for(db: Executor, kind: str, row_ids: Sequence[int]) -> None:
    """Forget the earlier versions of these statuses (an erased account's)."""
    for chunk in chunks(list(row_ids)):
        await db.execute(f"DELETE FROM status_edits WHERE kind = ? AND row_id IN ({marks(len(chunk))})", (kind, *chunk))
