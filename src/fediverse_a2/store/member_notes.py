"""Members' notes that are neither posts nor comments under one: replies to remote objects, and
followers-only or direct statuses written in an app. Each is the object of a Create we sent."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor
from .sql import columns, marks, record

__all__ = [
    "MemberNote",
    "add",
    "by_ap_id",
    "by_id",
    "by_ids",
    "delete",
    "delete_for_member",
    "page_by_member",
    "replies_to",
    "update",
]


@dataclass(frozen=True, slots=True)
class MemberNote:
    id: int
    member_id: int
    ap_id: str
    in_reply_to: str | None
    visibility: str  # public | unlisted | followers | direct
    content_html: str
    source: str
    summary: str | None
    language: str | None
    published: float
    updated: float | None


_COLUMNS = columns(MemberNote)


async def add(
    db: Executor,
    member_id: int,
    ap_id: str,
    *,
    in_reply_to: str | None,
    visibility: str,
    content_html: str,
    source: str,
    summary: str | None,
    language: str | None,
    published: float | None = None,
) -> int:
    """Store a note the member sent; returns its row id."""
    return int(
        await db.fetchval(
            "INSERT INTO member_notes (member_id, ap_id, in_reply_to, visibility, content_html, source, summary, "
            "language, published) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                member_id,
                ap_id,
                in_reply_to,
                visibility,
                content_html,
                source,
                summary,
                language,
                published or time.time(),
            ),
        )
    )


async def by_id(db: Executor, note_id: int) -> MemberNote | None:
    """One note by row id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM member_notes WHERE id = ?", (note_id,))
    return None if row is None else record(MemberNote, row)


async def by_ids(db: Executor, note_ids: Sequence[int]) -> dict[int, MemberNote]:
    """Several notes by row id."""
    if not note_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM member_notes WHERE id IN ({marks(len(note_ids))})", tuple(note_ids)
    )
    return {n.id: n for n in (record(MemberNote, r) for r in rows)}


async def by_ap_id(db: Executor, ap_id: str) -> MemberNote | None:
    """A note by its ActivityPub id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM member_notes WHERE ap_id = ?", (ap_id,))
    return None if row is None else record(MemberNote, row)


async def update(db: Executor, note_id: int, content_html: str, source: str, summary: str | None) -> float:
    """Replace a note's text (an edit); returns the new `updated` time."""
    now = time.time()
    await db.execute(
        "UPDATE member_notes SET content_html = ?, source = ?, summary = ?, updated = ? WHERE id = ?",
        (content_html, source, summary, now, note_id),
    )
    return now


async def delete(db: Executor, note_id: int) -> None:
    """Forget a note (its Delete was sent)."""
    await db.execute("DELETE FROM member_notes WHERE id = ?", (note_id,))


async def delete_for_member(db: Executor, member_id: int) -> list[int]:
    """Forget every note of a member (an erased account); returns their row ids."""
    ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM member_notes WHERE member_id = ?", (member_id,))]
    await db.execute("DELETE FROM member_notes WHERE member_id = ?", (member_id,))
    return ids


async def page_by_member(
    db: Executor,
    member_id: int,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    oldest_first: bool = False,
    shown_only: bool = False,
) -> list[MemberNote]:
    """A member's notes published between two times (exclusive), newest first (or oldest first);
    `shown_only`: public and unlisted ones (what others may see)."""
    where = "WHERE member_id = ?"
    params: list[object] = [member_id]
    if before is not None:
        where += " AND published < ?"
        params.append(before)
    if after is not None:
        where += " AND published > ?"
        params.append(after)
    if shown_only:
        where += " AND visibility IN ('public', 'unlisted')"
    order = "ASC" if oldest_first else "DESC"
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM member_notes {where} ORDER BY published {order}, id {order} LIMIT ?",
        (*params, limit),
    )
    return [record(MemberNote, r) for r in rows]


async def replies_to(db: Executor, ap_id: str, limit: int = 200) -> list[MemberNote]:
    """Members' notes answering an object, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM member_notes WHERE in_reply_to = ? ORDER BY published, id LIMIT ?", (ap_id, limit)
    )
    return [record(MemberNote, r) for r in rows]
