"""Blog posts by members, with their view and reaction counters; drafts stay private."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import POST, Post
from .db import Executor, Row
from .sql import LIVE_BLOG_POST, LIVE_POST, marks

__all__ = [
    "NewPost",
    "add_many",
    "all_of_member",
    "by_id",
    "by_ids",
    "count_live",
    "create",
    "drafts",
    "erase_for_member",
    "ids_of_member",
    "increment_views",
    "live_ids",
    "mark_deleted",
    "page",
    "page_by_member",
    "page_of_member",
    "publish",
    "recent",
    "set_views",
    "title_of",
    "touch",
    "update",
]


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post brought in from the archive."""

    legacy_id: str
    member_id: int
    title: str
    body_md: str
    content_html: str
    published: float
    updated: float | None
    state: str
    source: str
    views: int = 0
    kind: str = POST  # an archive event's post is of kind event (its times: store/events.py add_many)


_SELECT = """
SELECT p.id, p.member_id, m.username, m.name AS author_name, p.title, p.body_md, p.content_html,
       p.published, p.updated, p.deleted_at, p.views,
       (SELECT COUNT(*) FROM reactions r WHERE r.post_id = p.id AND r.kind = 'like') AS likes,
       (SELECT COUNT(*) FROM reactions r WHERE r.post_id = p.id AND r.kind = 'announce') AS boosts,
       p.summary, p.language, p.state, p.kind
FROM posts p JOIN members m ON m.id = p.member_id
"""


def _newest_first(oldest_first: bool = False) -> str:
    """The order of every list of posts: by publication, then id (LIMIT and OFFSET follow)."""
    order = "ASC" if oldest_first else "DESC"
    return f" ORDER BY p.published {order}, p.id {order} LIMIT ? OFFSET ?"


def _post(row: Row) -> Post:
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
        summary=row["summary"],
        language=row["language"],
        state=row["state"],
        kind=row["kind"],
    )


async def create(
    db: Executor,
    member_id: int,
    title: str,
    body_md: str,
    content_html: str,
    published: float | None = None,
    *,
    summary: str | None = None,
    language: str | None = None,
    state: str = "published",
    updated: float | None = None,
    views: int = 0,
    source: str | None = None,
    kind: str = POST,
    legacy_id: str | None = None,
) -> int:
    """Insert a post (or the post of an event, `kind` event) and return its id."""
    values: dict[str, Any] = {
        "member_id": member_id, "title": title, "body_md": body_md, "content_html": content_html,
        "published": published or time.time(), "summary": summary, "language": language, "state": state,
        "updated": updated, "views": views, "source": source,
    }  # fmt: skip
    # A blog post leaves kind (and a missing legacy id) to the columns' defaults, so the statement is
    # also right on a database from before those columns (the upgrade tests write such rows).
    if kind != POST:
        values["kind"] = kind
    if legacy_id is not None:
        values["legacy_id"] = legacy_id
    return int(
        await db.fetchval(
            f"INSERT INTO posts ({', '.join(values)}) VALUES ({marks(len(values))}) RETURNING id",
            tuple(values.values()),
        )
    )


async def add_many(db: Executor, rows: Sequence[NewPost]) -> list[int]:
    """Insert archive posts (the caller has checked their legacy ids are new); their row ids, in order."""
    ids = await db.fetchval_each(
        "INSERT INTO posts (member_id, title, body_md, content_html, published, updated, views, state, source, "
        "legacy_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            (r.member_id, r.title, r.body_md, r.content_html, r.published, r.updated, r.views, r.state, r.source,
             r.legacy_id, r.kind)
            for r in rows
        ],
    )  # fmt: skip
    return [int(i) for i in ids]


async def by_id(db: Executor, post_id: int) -> Post | None:
    """A post (deleted ones and drafts included: the caller decides who may see them)."""
    row = await db.fetchone(_SELECT + " WHERE p.id = ?", (post_id,))
    return _post(row) if row else None


async def title_of(db: Executor, post_id: int) -> str | None:
    """A post's (or an event's) title, or None when there is no such post."""
    value = await db.fetchval("SELECT title FROM posts WHERE id = ?", (post_id,))
    return None if value is None else str(value)


async def recent(db: Executor, limit: int, offset: int = 0, member_id: int | None = None) -> list[Post]:
    """Live published blog posts (not events), newest first, optionally by one member."""
    where = f"WHERE {LIVE_BLOG_POST}" + (" AND p.member_id = ?" if member_id is not None else "")
    params: tuple[Any, ...] = (member_id,) if member_id is not None else ()
    rows = await db.fetchall(_SELECT + f" {where}" + _newest_first(), (*params, limit, offset))
    return [_post(r) for r in rows]


async def all_of_member(db: Executor, member_id: int, limit: int = 10_000) -> list[Post]:
    """A member's posts that are not deleted, drafts included, newest first."""
    rows = await db.fetchall(
        _SELECT + " WHERE p.member_id = ? AND p.deleted_at IS NULL" + _newest_first(), (member_id, limit, 0)
    )
    return [_post(r) for r in rows]


async def live_ids(
    db: Executor,
    limit: int,
    offset: int = 0,
    *,
    tag: str | None = None,
    between: tuple[float, float] | None = None,
    oldest_first: bool = False,
) -> list[int]:
    """Ids of live published blog posts (not events), newest first (or oldest first): those with a tag
    (its folded name), or published in [start, end), when given. by_ids reads the posts of a page of them."""
    joins, where = "", ""
    params: list[Any] = []
    if tag is not None:
        joins = " JOIN post_tags pt ON pt.post_id = p.id JOIN tags t ON t.id = pt.tag_id"
        where += " AND t.norm = ?"
        params.append(tag)
    if between is not None:
        where += " AND p.published >= ? AND p.published < ?"
        params += between
    rows = await db.fetchall(
        f"SELECT p.id FROM posts p{joins} WHERE {LIVE_BLOG_POST}{where}" + _newest_first(oldest_first),
        (*params, limit, offset),
    )
    return [int(r[0]) for r in rows]


async def by_ids(db: Executor, post_ids: list[int]) -> list[Post]:
    """Live published posts by id, in the order given."""
    if not post_ids:
        return []
    rows = await db.fetchall(_SELECT + f" WHERE {LIVE_POST} AND p.id IN ({marks(len(post_ids))})", tuple(post_ids))
    found = {r["id"]: _post(r) for r in rows}
    return [found[i] for i in post_ids if i in found]


async def drafts(db: Executor, member_id: int) -> list[Post]:
    """A member's own drafts, newest first."""
    rows = await db.fetchall(
        _SELECT + " WHERE p.member_id = ? AND p.state = 'draft' AND p.deleted_at IS NULL AND p.kind = 'post' "
        "ORDER BY p.id DESC",
        (member_id,),
    )
    return [_post(r) for r in rows]


async def count_live(db: Executor, member_id: int | None = None) -> int:
    """How many blog posts are published and not deleted."""
    if member_id is None:
        return int(await db.fetchval(f"SELECT COUNT(*) FROM posts p WHERE {LIVE_BLOG_POST}"))
    return int(
        await db.fetchval(f"SELECT COUNT(*) FROM posts p WHERE {LIVE_BLOG_POST} AND p.member_id = ?", (member_id,))
    )


async def update(
    db: Executor,
    post_id: int,
    title: str,
    body_md: str,
    content_html: str,
    *,
    summary: str | None = None,
    language: str | None = None,
) -> float:
    """Replace a post's title, body, content warning and language; returns the new `updated` time."""
    now = time.time()
    await db.execute(
        "UPDATE posts SET title = ?, body_md = ?, content_html = ?, summary = ?, language = ?, updated = ? "
        "WHERE id = ?",
        (title, body_md, content_html, summary, language, now, post_id),
    )
    return now


async def touch(db: Executor, post_id: int) -> float:
    """Mark a post as changed now (its images' descriptions changed); returns the new `updated` time."""
    now = time.time()
    await db.execute("UPDATE posts SET updated = ? WHERE id = ?", (now, post_id))
    return now


async def publish(db: Executor, post_id: int, now: float | None = None) -> float:
    """A draft becomes a published post, dated now; returns that date."""
    when = time.time() if now is None else now
    await db.execute(
        "UPDATE posts SET state = 'published', published = ?, updated = NULL WHERE id = ? AND state = 'draft'",
        (when, post_id),
    )
    return when


async def mark_deleted(db: Executor, post_id: int) -> float:
    """Mark a post deleted (its URL then answers 410); returns the deletion time."""
    now = time.time()
    await db.execute("UPDATE posts SET deleted_at = ? WHERE id = ?", (now, post_id))
    return now


async def increment_views(db: Executor, post_id: int) -> None:
    """Count one page view by a person."""
    await db.execute("UPDATE posts SET views = views + 1 WHERE id = ?", (post_id,))


async def set_views(db: Executor, post_id: int, views: int) -> None:
    """Carry a view count over from the old platform (the counter continues from there)."""
    await db.execute(
        "UPDATE posts SET views = CASE WHEN views < ? THEN ? ELSE views END WHERE id = ?", (views, views, post_id)
    )


async def ids_of_member(db: Executor, member_id: int) -> list[int]:
    """Row ids of every post of a member: published, drafts and deleted ones."""
    return [int(r[0]) for r in await db.fetchall("SELECT id FROM posts WHERE member_id = ? ORDER BY id", (member_id,))]


async def page_of_member(db: Executor, member_id: int, after: tuple[float, int], limit: int) -> list[Post]:
    """A member's posts that are not deleted (drafts too), oldest first, after (published, id) (for an export)."""
    rows = await db.fetchall(
        f"{_SELECT} WHERE p.member_id = ? AND p.deleted_at IS NULL AND (p.published, p.id) > (?, ?) "
        "ORDER BY p.published, p.id LIMIT ?",
        (member_id, *after, limit),
    )
    return [_post(r) for r in rows]


async def erase_for_member(db: Executor, member_id: int, now: float) -> None:
    """An erased account's posts: deleted (their URLs answer 410) and their text gone; the rows stay
    (with their legacy ids, so importing the archive again does not bring them back)."""
    await db.execute(
        "UPDATE posts SET deleted_at = COALESCE(deleted_at, ?), title = '', body_md = '', content_html = '', "
        "summary = NULL WHERE member_id = ?",
        (now, member_id),
    )


async def page_by_member(
    db: Executor,
    member_id: int,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    only_media: bool = False,
    oldest_first: bool = False,
) -> list[Post]:
    """A member's live blog posts (not events) published between two times (exclusive), newest first (oldest
    first when asked)."""
    return await page(db, before=before, after=after, limit=limit, only_media=only_media, oldest_first=oldest_first,
                      member_id=member_id)  # fmt: skip


async def page(
    db: Executor,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    only_media: bool = False,
    oldest_first: bool = False,
    member_id: int | None = None,
    tag: str | None = None,
) -> list[Post]:
    """Live blog posts (not events) published between two times (exclusive), newest first (oldest first when
    asked): every member's, or one member's, or those with a tag (its folded name)."""
    where = f"WHERE {LIVE_BLOG_POST}"
    params: list[Any] = []
    if member_id is not None:
        where += " AND p.member_id = ?"
        params.append(member_id)
    if tag is not None:
        where += " AND p.id IN (SELECT pt.post_id FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.norm = ?)"
        params.append(tag)
    if before is not None:
        where += " AND p.published < ?"
        params.append(before)
    if after is not None:
        where += " AND p.published > ?"
        params.append(after)
    if only_media:
        where += " AND EXISTS (SELECT 1 FROM post_media pm WHERE pm.post_id = p.id)"
    order = "ASC" if oldest_first else "DESC"  # oldest first: the page right after `after`
    rows = await db.fetchall(_SELECT + f" {where} ORDER BY p.published {order}, p.id {order} LIMIT ?", (*params, limit))
    return [_post(r) for r in rows]
