"""Posts received from remote actors that members follow (the timeline)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .db import Executor, Row
from .sql import optional_float, optional_str, record

__all__ = [
    "RemoteEvent",
    "TimelinePost",
    "add",
    "by_ap_id",
    "by_ids",
    "delete",
    "delete_by_actor",
    "home_page",
    "network_page",
    "owner",
    "page_by_actor",
    "public_page",
    "replies_to",
    "timeline_page",
    "update",
    "visible_to",
]


@dataclass(frozen=True)
class RemoteEvent:
    """What a remote post that is an Event (Mobilizon, Gancio, another instance) adds: name, times, place."""

    name: str
    starts_at: float
    ends_at: float | None
    location: str  # the place's name and address in one line ("" when none)


@dataclass(frozen=True)
class TimelinePost:
    """A remote post as the timeline shows it, with its author."""

    id: int
    ap_id: str
    url: str | None
    actor_uri: str
    content_html: str
    summary: str | None
    in_reply_to: str | None
    published: float
    updated: float | None
    author_name: str | None
    author_handle: str | None
    author_url: str | None
    images: tuple[Mapping[str, Any], ...]
    public: bool  # addressed to Public: may be boosted
    event: RemoteEvent | None = None


def _encode(attachments: Sequence[Mapping[str, Any]]) -> str:
    return orjson.dumps(list(attachments)).decode()


def _images(raw: str | None) -> tuple[Mapping[str, Any], ...]:
    try:
        value = orjson.loads(raw or "[]")
    except orjson.JSONDecodeError:
        return ()
    return tuple(item for item in value if isinstance(item, dict)) if isinstance(value, list) else ()


def _event(name: Any, starts_at: Any, ends_at: Any, location: Any) -> RemoteEvent | None:
    if starts_at is None:
        return None
    return RemoteEvent(name or "", float(starts_at), optional_float(ends_at), location or "")


def _post(row: Row) -> TimelinePost:
    """The post of a row that selected _COLUMNS."""
    *fields, attachments, public, name, starts_at, ends_at, location = row
    event = _event(name, starts_at, ends_at, location)
    return record(TimelinePost, (*fields, _images(attachments), bool(public), event))


# In TimelinePost's field order (images, public and an event's name, times and place last, decoded by _post).
_COLUMNS = """r.id, r.ap_id, r.url, r.actor_uri, r.content_html, r.summary, r.in_reply_to, r.published, r.updated,
              a.name, a.handle, a.url, r.attachments, r.public, r.name, r.starts_at, r.ends_at, r.location"""
_SELECT = f"""SELECT {_COLUMNS}
             FROM remote_posts r
             JOIN following f ON f.actor_uri = r.actor_uri AND f.member_id = ?
             LEFT JOIN actors a ON a.uri = r.actor_uri"""
_NEWEST_FIRST = " ORDER BY r.published DESC, r.id DESC LIMIT ? OFFSET ?"


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
    attachments: Sequence[Mapping[str, Any]] = (),
    public: bool = False,
    event: RemoteEvent | None = None,
) -> None:
    """Store a remote post (or event) once (a duplicate delivery changes nothing)."""
    images = _encode(attachments)
    await db.execute(
        """INSERT INTO remote_posts
               (ap_id, actor_uri, content_html, summary, url, in_reply_to, published, received_at, attachments, public,
                name, starts_at, ends_at, location)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ap_id) DO NOTHING""",
        (
            ap_id, actor_uri, content_html, summary, url, in_reply_to, published, time.time(), images, int(public),
            *_event_values(event),
        ),
    )  # fmt: skip


def _event_values(event: RemoteEvent | None) -> tuple[str | None, float | None, float | None, str | None]:
    if event is None:
        return None, None, None, None
    return event.name, event.starts_at, event.ends_at, event.location


async def update(
    db: Executor,
    ap_id: str,
    actor_uri: str,
    content_html: str,
    summary: str | None,
    updated: float,
    attachments: Sequence[Mapping[str, Any]] | None = None,
    event: RemoteEvent | None = None,
) -> None:
    """Apply an Update from the post's own author; its images, and an event's name, times and place, are
    replaced when given."""
    images = None if attachments is None else _encode(attachments)
    name, starts_at, ends_at, location = _event_values(event)
    await db.execute(
        """UPDATE remote_posts SET content_html = ?, summary = ?, updated = ?, attachments = COALESCE(?, attachments),
               name = COALESCE(?, name), starts_at = COALESCE(?, starts_at),
               ends_at = CASE WHEN ? = 1 THEN ? ELSE ends_at END, location = COALESCE(?, location)
           WHERE ap_id = ? AND actor_uri = ?""",
        (
            content_html, summary, updated, images, name, starts_at, int(event is not None), ends_at, location,
            ap_id, actor_uri,
        ),
    )  # fmt: skip


async def delete(db: Executor, ap_id: str, actor_uri: str) -> None:
    """Remove a post after a Delete from its own author."""
    await db.execute("DELETE FROM remote_posts WHERE ap_id = ? AND actor_uri = ?", (ap_id, actor_uri))


async def delete_by_actor(db: Executor, actor_uri: str) -> None:
    """Remove every post of an actor that deleted itself."""
    await db.execute("DELETE FROM remote_posts WHERE actor_uri = ?", (actor_uri,))


async def owner(db: Executor, ap_id: str) -> str | None:
    """The actor a stored remote post belongs to."""
    return optional_str(await db.fetchval("SELECT actor_uri FROM remote_posts WHERE ap_id = ?", (ap_id,)))


async def timeline_page(db: Executor, member_id: int, limit: int, offset: int = 0) -> list[TimelinePost]:
    """One page of a member's timeline (posts of the actors they follow), newest first."""
    rows = await db.fetchall(_SELECT + _NEWEST_FIRST, (member_id, limit, offset))
    return [_post(r) for r in rows]


async def network_page(db: Executor, limit: int, offset: int = 0) -> list[TimelinePost]:
    """One page of the network timeline: public posts that relays brought, newest first."""
    rows = await db.fetchall(
        f"""SELECT {_COLUMNS}
            FROM relay_posts n JOIN remote_posts r ON r.ap_id = n.ap_id
            LEFT JOIN actors a ON a.uri = r.actor_uri
            WHERE r.public = 1"""
        + _NEWEST_FIRST,
        (limit, offset),
    )
    return [_post(r) for r in rows]


async def visible_to(db: Executor, member_id: int, ap_id: str) -> TimelinePost | None:
    """A stored post on the member's timeline (by an actor they follow), else None."""
    row = await db.fetchone(_SELECT + " WHERE r.ap_id = ?", (member_id, ap_id))
    return None if row is None else _post(row)


async def page_by_actor(
    db: Executor,
    actor_uri: str,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    oldest_first: bool = False,
) -> list[TimelinePost]:
    """An actor's stored public posts published between two times (exclusive), newest first (or oldest first)."""
    where = " WHERE r.actor_uri = ? AND r.public = 1"
    params: list[object] = [actor_uri]
    if before is not None:
        where += " AND r.published < ?"
        params.append(before)
    if after is not None:
        where += " AND r.published > ?"
        params.append(after)
    order = "ASC" if oldest_first else "DESC"  # oldest first: the page right after `after`
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM remote_posts r LEFT JOIN actors a ON a.uri = r.actor_uri{where}"
        f" ORDER BY r.published {order}, r.id {order} LIMIT ?",
        (*params, limit),
    )
    return [_post(r) for r in rows]


def _bounds(before: float | None, after: float | None, params: list[object]) -> str:
    """`AND r.published < before AND r.published > after` for the bounds given."""
    where = ""
    if before is not None:
        where += " AND r.published < ?"
        params.append(before)
    if after is not None:
        where += " AND r.published > ?"
        params.append(after)
    return where


async def home_page(
    db: Executor, member_id: int, *, before: float | None, after: float | None, limit: int, oldest_first: bool = False
) -> list[TimelinePost]:
    """A member's timeline (posts of the actors they follow) published between two times (exclusive)."""
    params: list[object] = [member_id]
    where = _bounds(before, after, params)
    order = "ASC" if oldest_first else "DESC"
    # CROSS JOIN: SQLite then walks the posts by date and stops at the page, probing the member's
    # follows for each, instead of sorting every post of every account they follow.
    rows = await db.fetchall(
        f"""SELECT {_COLUMNS} FROM remote_posts r CROSS JOIN following f LEFT JOIN actors a ON a.uri = r.actor_uri
            WHERE f.member_id = ? AND f.actor_uri = r.actor_uri{where}
            ORDER BY r.published {order}, r.id {order} LIMIT ?""",
        (*params, limit),
    )
    return [_post(r) for r in rows]


async def public_page(
    db: Executor,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    oldest_first: bool = False,
    only_media: bool = False,
) -> list[TimelinePost]:
    """Every stored public post published between two times (exclusive): what members follow, what relays brought."""
    params: list[object] = []
    where = _bounds(before, after, params) + (" AND r.attachments <> '[]'" if only_media else "")
    order = "ASC" if oldest_first else "DESC"
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM remote_posts r LEFT JOIN actors a ON a.uri = r.actor_uri WHERE r.public = 1{where}"
        f" ORDER BY r.published {order}, r.id {order} LIMIT ?",
        (*params, limit),
    )  # fmt: skip
    return [_post(r) for r in rows]


async def by_ids(db: Executor, post_ids: Sequence[int]) -> dict[int, TimelinePost]:
    """Stored posts by row id (whoever follows their author)."""
    if not post_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM remote_posts r LEFT JOIN actors a ON a.uri = r.actor_uri "
        f"WHERE r.id IN ({', '.join('?' * len(post_ids))})",
        tuple(post_ids),
    )
    return {p.id: p for p in (_post(r) for r in rows)}


async def by_ap_id(db: Executor, ap_id: str) -> TimelinePost | None:
    """A stored post by its ActivityPub id (whoever follows its author)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM remote_posts r LEFT JOIN actors a ON a.uri = r.actor_uri WHERE r.ap_id = ?", (ap_id,)
    )
    return None if row is None else _post(row)


async def replies_to(db: Executor, ap_id: str, limit: int = 200) -> list[TimelinePost]:
    """Stored posts answering an object, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM remote_posts r LEFT JOIN actors a ON a.uri = r.actor_uri "
        "WHERE r.in_reply_to = ? ORDER BY r.published, r.id LIMIT ?",
        (ap_id, limit),
    )
    return [_post(r) for r in rows]
