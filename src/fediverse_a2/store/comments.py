"""Comments under posts: replies from the fediverse and from local members.

Comments from blocked domains or actors stay stored but are hidden when read, so
unblocking brings them back. A comment also has a moderation state: visible, held (waiting
for approval) or hidden (by a moderator); only visible ones are read for the post. And it has
a visibility from its addressing (activitypub/visibility.py): only public and unlisted ones
are ever read by anything that shows comments (the post page, its count, the replies
collection, the moderation lists, a member's profile, search); followers-only and direct
replies reach their addressees as notifications only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..activitypub.urls import Urls
from ..activitypub.visibility import PUBLIC, SHOWN, VISIBILITIES
from ..models import Comment, RemoteAuthor, RemoteImage
from ..policy import Policy
from .db import Executor, Row
from .sql import LIVE_POST, columns, marks, optional_int, optional_str, record

__all__ = [
    "ERASED",
    "HELD",
    "HIDDEN",
    "SHOWN_SQL",
    "STATES",
    "VISIBLE",
    "CommentRef",
    "MemberComment",
    "NewComment",
    "OwnComment",
    "RecentComment",
    "RemoteParts",
    "add",
    "add_many",
    "by_ap_id",
    "by_id",
    "by_ids",
    "count_visible",
    "counts_for_posts",
    "delete",
    "erase_by_member",
    "ids_by_author",
    "ids_for_post",
    "in_state",
    "list_for_post",
    "member_of",
    "owner",
    "page_by_member",
    "page_of_member",
    "post_author",
    "recent",
    "recent_by_member",
    "reply_counts",
    "set_ap_id",
    "set_ap_ids",
    "set_state",
    "state_of",
    "thread",
    "update_content",
    "viewable",
]

VISIBLE, HELD, HIDDEN = "visible", "held", "hidden"
STATES = (VISIBLE, HELD, HIDDEN)
# A comment of an erased account: its text is gone, its URL answers 410, and the row stays so
# that importing the archive again (by legacy id) does not bring it back. Never read as a comment.
ERASED = "erased"


@dataclass(frozen=True, slots=True)
class CommentRef:
    """Where a stored comment sits and whose it is: what handlers look up by ActivityPub id."""

    id: int
    ap_id: str
    post_id: int
    parent_id: int | None
    author_uri: str
    member_id: int | None  # the local member who wrote it; None for a remote author
    domain: str


@dataclass(frozen=True, slots=True)
class MemberComment:
    """A member's comment as their profile lists it, with the title of the post it is under."""

    id: int
    post_id: int
    content_html: str
    published: float
    title: str


@dataclass(frozen=True, slots=True)
class NewComment:
    """A comment brought in from the archive; its ap_id and url are set once its row id is known."""

    legacy_id: str
    post_id: int
    member_id: int
    author_uri: str
    domain: str
    content_html: str
    published: float


@dataclass(frozen=True, slots=True)
class RemoteParts:
    """What a remote comment has beside its text: its language and its images (sensitive or not)."""

    language: str | None
    images: Sequence[Mapping[str, Any]]
    sensitive: bool


_SELECT = """
SELECT c.id, c.ap_id, c.url, c.post_id, c.parent_id, c.author_uri, c.member_id, c.domain,
       c.content_html, c.summary, c.published, c.updated,
       COALESCE(m.name, a.name, '') AS author_name,
       COALESCE(a.handle, '') AS author_handle,
       m.username AS member_username,
       a.url AS author_url, a.icon AS author_icon, c.visibility, c.source, c.language,
       c.attachments, c.sensitive
FROM comments c
LEFT JOIN actors a ON a.uri = c.author_uri
LEFT JOIN members m ON m.id = c.member_id
"""
# Shown to everyone: the SQL side of visibility.SHOWN (public and unlisted).
SHOWN_SQL = "c.visibility IN (" + ", ".join(f"'{v}'" for v in SHOWN) + ")"
_NOT_BLOCKED = f"c.state = 'visible' AND {SHOWN_SQL} AND c.author_uri NOT IN (SELECT actor_uri FROM blocked_actors)"


def _comment(row: Row, urls: Urls) -> Comment:
    # Unpacked by position, in _SELECT's order: a lookup by column name on an sqlite3.Row
    # scans the column names each time, and a post page builds hundreds of these.
    (
        row_id,
        ap_id,
        url,
        post_id,
        parent_id,
        author_uri,
        _member_id,
        domain,
        content_html,
        summary,
        published,
        updated,
        author_name,
        author_handle,
        username,
        author_url,
        author_icon,
        visibility,
        source,
        language,
        attachments,
        sensitive,
    ) = row
    if username:
        handle = urls.handle(username)
        url_of_author = author_uri
    else:
        handle = author_handle or author_uri
        url_of_author = author_url or author_uri
    return Comment(
        id=row_id,
        ap_id=ap_id,
        url=url,
        post_id=post_id,
        parent_id=parent_id,
        author=RemoteAuthor(
            uri=author_uri,
            name=author_name or handle,
            handle=handle,
            url=url_of_author,
            icon=author_icon,
        ),
        domain=domain,
        content_html=content_html,
        summary=summary,
        published=published,
        updated=updated,
        local=username is not None,
        visibility=visibility,
        source=source,
        language=language,
        images=_images(attachments),
        sensitive=bool(sensitive),
    )


def _encode(images: Sequence[Mapping[str, Any]]) -> str:
    """The attachments column: what activitypub/note_images.py read from the note."""
    return orjson.dumps([{k: image.get(k) for k in ("url", "name", "width", "height")} for image in images]).decode()


def _side(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _images(raw: str | None) -> tuple[RemoteImage, ...]:
    """The images of the attachments column (an unreadable value is no images)."""
    if not raw or raw == "[]":
        return ()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ()
    items = value if isinstance(value, list) else []
    return tuple(
        RemoteImage(item["url"], optional_str(item.get("name")), _side(item.get("width")), _side(item.get("height")))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("url"), str)
    )


async def add(
    db: Executor,
    *,
    ap_id: str,
    url: str | None,
    post_id: int,
    parent_id: int | None,
    author_uri: str,
    member_id: int | None,
    domain: str,
    content_html: str,
    summary: str | None,
    published: float,
    updated: float | None = None,
    state: str = VISIBLE,
    visibility: str = PUBLIC,
    source: str | None = None,
    language: str | None = None,
    images: Sequence[Mapping[str, Any]] = (),
    sensitive: bool = False,
) -> int | None:
    """Store a comment; None when one with this ap_id already exists (dedupe).

    `images`: a remote comment's image attachments (activitypub/note_images.py's dicts).
    """
    if state not in STATES:
        raise ValueError(f"unknown comment state {state!r}")
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown comment visibility {visibility!r}")
    values = [ap_id, url, post_id, parent_id, author_uri, member_id, domain, content_html, summary, published]
    values += [updated, time.time()]
    # A visible public comment leaves state and visibility to the columns' defaults, so the
    # statement is also right on a database from before them (the upgrade tests write such rows).
    extra = ""
    if state != VISIBLE:
        extra += ", state"
        values.append(state)
    if visibility != PUBLIC:
        extra += ", visibility"
        values.append(visibility)
    if source is not None:
        extra += ", source"
        values.append(source)
    if language is not None:
        extra += ", language"
        values.append(language)
    if images:
        extra += ", attachments, sensitive"
        values += [_encode(images), int(sensitive)]
    return optional_int(
        await db.fetchval(
            f"""INSERT INTO comments (ap_id, url, post_id, parent_id, author_uri, member_id, domain,
                                      content_html, summary, published, updated, created_at{extra})
                VALUES ({marks(len(values))})
                ON CONFLICT (ap_id) DO NOTHING RETURNING id""",
            values,
        )
    )


async def add_many(db: Executor, rows: Sequence[NewComment]) -> list[int]:
    """Insert archive comments under a placeholder ap_id (see set_ap_ids); their row ids, in order.

    The caller has checked that their legacy ids are new.
    """
    now = time.time()
    ids = await db.fetchval_each(
        "INSERT INTO comments (ap_id, url, post_id, parent_id, author_uri, member_id, domain, content_html, "
        "summary, published, updated, created_at, legacy_id) "
        "VALUES (?, NULL, ?, NULL, ?, ?, ?, ?, NULL, ?, NULL, ?, ?) RETURNING id",
        [
            (
                f"urn:a2-legacy:{r.legacy_id}",
                r.post_id,
                r.author_uri,
                r.member_id,
                r.domain,
                r.content_html,
                r.published,
                now,
                r.legacy_id,
            )
            for r in rows
        ],
    )
    return [int(i) for i in ids]


async def by_ap_id(db: Executor, ap_id: str) -> CommentRef | None:
    """A stored comment by its ActivityPub id, or None."""
    row = await db.fetchone(f"SELECT {columns(CommentRef)} FROM comments WHERE ap_id = ?", (ap_id,))
    return None if row is None else record(CommentRef, row)


async def by_id(db: Executor, comment_id: int, urls: Urls) -> Comment | None:
    """A comment shown to everyone (public or unlisted) by row id, or None (also for an erased one)."""
    row = await db.fetchone(_SELECT + f" WHERE c.id = ? AND {SHOWN_SQL} AND c.state <> '{ERASED}'", (comment_id,))
    return _comment(row, urls) if row else None


async def update_content(
    db: Executor,
    comment_id: int,
    content_html: str,
    summary: str | None,
    updated: float,
    source: str | None = None,
    *,
    remote: RemoteParts | None = None,
) -> None:
    """Replace a comment's text after an Update from its author (`source`: what a member here typed;
    `remote`: a remote comment's language and images as the Update has them)."""
    await db.execute(
        "UPDATE comments SET content_html = ?, summary = ?, updated = ?, source = COALESCE(?, source) WHERE id = ?",
        (content_html, summary, updated, source, comment_id),
    )
    if remote is not None:
        await db.execute(
            "UPDATE comments SET language = ?, attachments = ?, sensitive = ? WHERE id = ?",
            (remote.language, _encode(remote.images), int(remote.sensitive), comment_id),
        )


async def delete(db: Executor, comment_id: int) -> None:
    """Remove a comment; its replies move up to its parent so no thread is orphaned."""
    parent = await db.fetchval("SELECT parent_id FROM comments WHERE id = ?", (comment_id,))
    await db.execute("UPDATE comments SET parent_id = ? WHERE parent_id = ?", (parent, comment_id))
    await db.execute("DELETE FROM comments WHERE id = ?", (comment_id,))


async def list_for_post(db: Executor, post_id: int, policy: Policy, urls: Urls) -> list[Comment]:
    """Visible comments of a post, oldest first."""
    rows = await db.fetchall(
        _SELECT + f" WHERE c.post_id = ? AND {_NOT_BLOCKED} ORDER BY c.published, c.id", (post_id,)
    )
    return [_comment(r, urls) for r in rows if not policy.is_blocked(r["domain"])]


async def recent_by_member(db: Executor, member_id: int, limit: int) -> list[MemberComment]:
    """A member's newest visible comments on live posts, with the post's title (for the profile)."""
    rows = await db.fetchall(
        f"""SELECT c.id, c.post_id, c.content_html, c.published, p.title FROM comments c
            JOIN posts p ON p.id = c.post_id
            WHERE c.member_id = ? AND c.state = 'visible' AND {SHOWN_SQL} AND {LIVE_POST}
            ORDER BY c.published DESC, c.id DESC LIMIT ?""",
        (member_id, limit),
    )
    return [record(MemberComment, r) for r in rows]


async def count_visible(db: Executor, post_id: int, policy: Policy) -> int:
    """How many comments of a post are visible."""
    rows = await db.fetchall(
        f"SELECT c.domain, COUNT(*) AS n FROM comments c WHERE c.post_id = ? AND {_NOT_BLOCKED} GROUP BY c.domain",
        (post_id,),
    )
    return sum(int(r["n"]) for r in rows if not policy.is_blocked(r["domain"]))


async def ids_for_post(db: Executor, post_id: int, policy: Policy, limit: int, offset: int) -> list[str]:
    """A page of visible comment ids of a post, oldest first (for the replies collection).

    Rows are read in chunks, in page order, only until the page is full: the domain policy
    is applied in Python (it matches parent domains), so SQL cannot skip hidden rows itself.
    """
    wanted = offset + limit
    chunk = min(max(2 * wanted, 100), 2000)
    visible: list[str] = []
    base = f"SELECT c.ap_id, c.domain, c.published, c.id FROM comments c WHERE c.post_id = ? AND {_NOT_BLOCKED}"
    rows = await db.fetchall(base + " ORDER BY c.published, c.id LIMIT ?", (post_id, chunk))
    while True:
        visible += [r["ap_id"] for r in rows if not policy.is_blocked(r["domain"])]
        if len(visible) >= wanted or len(rows) < chunk:
            return visible[offset:wanted]
        last = rows[-1]
        rows = await db.fetchall(
            base + " AND (c.published > ? OR (c.published = ? AND c.id > ?)) ORDER BY c.published, c.id LIMIT ?",
            (post_id, last["published"], last["published"], last["id"], chunk),
        )


async def ids_by_author(db: Executor, author_uri: str) -> list[int]:
    """Row ids of every comment by one author."""
    return [int(r[0]) for r in await db.fetchall("SELECT id FROM comments WHERE author_uri = ?", (author_uri,))]


async def set_ap_id(db: Executor, comment_id: int, ap_id: str) -> None:
    """Give a local comment its final id (and URL), once its row id is known."""
    await set_ap_ids(db, [(comment_id, ap_id)])


async def set_ap_ids(db: Executor, rows: Sequence[tuple[int, str]]) -> None:
    """Give comments their final ActivityPub id (and URL): (comment id, ap_id) pairs."""
    await db.executemany("UPDATE comments SET ap_id = ?, url = ? WHERE id = ?", [(ap, ap, cid) for cid, ap in rows])


async def owner(db: Executor, ap_id: str) -> str | None:
    """The author of a stored comment."""
    return optional_str(await db.fetchval("SELECT author_uri FROM comments WHERE ap_id = ?", (ap_id,)))


async def state_of(db: Executor, comment_id: int) -> str | None:
    """A comment's moderation state (visible, held, hidden), or None when there is no such comment."""
    return optional_str(await db.fetchval("SELECT state FROM comments WHERE id = ?", (comment_id,)))


async def set_state(db: Executor, comment_id: int, state: str) -> bool:
    """Change a comment's moderation state; False when there is no such comment."""
    if state not in STATES:
        raise ValueError(f"unknown comment state {state!r}")
    return bool(await db.execute("UPDATE comments SET state = ? WHERE id = ?", (state, comment_id)))


async def member_of(db: Executor, comment_id: int) -> int | None:
    """The member who wrote a comment, or None for a remote author."""
    return optional_int(await db.fetchval("SELECT member_id FROM comments WHERE id = ?", (comment_id,)))


async def post_author(db: Executor, comment_id: int) -> int | None:
    """The member who wrote the post a comment is under."""
    return optional_int(
        await db.fetchval(
            "SELECT p.member_id FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.id = ?", (comment_id,)
        )
    )


async def in_state(
    db: Executor, state: str, urls: Urls, limit: int, post_author_id: int | None = None
) -> list[Comment]:
    """Comments shown to everyone in one moderation state, oldest first; only under one member's posts when given."""
    if post_author_id is None:
        rows = await db.fetchall(_SELECT + f" WHERE c.state = ? AND {SHOWN_SQL} ORDER BY c.id LIMIT ?", (state, limit))
    else:
        rows = await db.fetchall(
            _SELECT + f" WHERE c.state = ? AND {SHOWN_SQL} AND c.post_id IN (SELECT id FROM posts WHERE member_id = ?)"
            " ORDER BY c.id LIMIT ?",
            (state, post_author_id, limit),
        )
    return [_comment(r, urls) for r in rows]


async def erase_by_member(db: Executor, member_id: int) -> list[tuple[int, int]]:
    """Erase a member's comments (text gone, state erased; answers move up to the erased one's parent);
    returns their (row id, post id) pairs."""
    rows = [(int(r[0]), int(r[1])) for r in await db.fetchall(
        "SELECT id, post_id FROM comments WHERE member_id = ? ORDER BY id", (member_id,)
    )]  # fmt: skip
    for row_id, _ in rows:
        # Read now, not up front: an earlier step may have moved this comment up already.
        parent = await db.fetchval("SELECT parent_id FROM comments WHERE id = ?", (row_id,))
        await db.execute("UPDATE comments SET parent_id = ? WHERE parent_id = ?", (parent, row_id))
    await db.execute(
        "UPDATE comments SET content_html = '', summary = NULL, source = NULL, state = ?, parent_id = NULL "
        "WHERE member_id = ?",
        (ERASED, member_id),
    )
    return rows


@dataclass(frozen=True, slots=True)
class OwnComment:
    """A member's own comment, as their data export lists it."""

    id: int
    ap_id: str
    post_id: int
    content_html: str
    published: float
    updated: float | None
    state: str
    visibility: str


async def page_of_member(
    db: Executor, member_id: int, state: str, after: tuple[float, int], limit: int
) -> list[OwnComment]:
    """A member's comments in one moderation state, oldest first, after (published, id) (for an export)."""
    rows = await db.fetchall(
        f"SELECT {columns(OwnComment)} FROM comments WHERE member_id = ? AND state = ? "
        "AND (published, id) > (?, ?) ORDER BY published, id LIMIT ?",
        (member_id, state, *after, limit),
    )
    return [record(OwnComment, r) for r in rows]


@dataclass(frozen=True, slots=True)
class RecentComment:
    """A comment as the front page lists it: who, on which post, when, what."""

    id: int
    post_id: int
    post_title: str
    author_name: str
    author_username: str | None  # a local member's
    author_avatar: str | None  # a local member's avatar file (remote pictures are not shown here)
    published: float
    content_html: str
    language: str | None


async def recent(db: Executor, policy: Policy, limit: int) -> list[RecentComment]:
    """The newest visible comments on live published posts, newest first."""
    rows = await db.fetchall(
        f"""SELECT c.id, c.post_id, p.title, COALESCE(m.name, a.name, '') AS author_name,
                   COALESCE(a.handle, c.author_uri) AS handle, m.username, av.file_name AS avatar,
                   c.published, c.content_html, c.language, c.domain
            FROM comments c
            JOIN posts p ON p.id = c.post_id
            LEFT JOIN actors a ON a.uri = c.author_uri
            LEFT JOIN members m ON m.id = c.member_id
            LEFT JOIN media av ON av.id = m.avatar_id
            WHERE {_NOT_BLOCKED} AND {LIVE_POST}
            ORDER BY c.published DESC, c.id DESC LIMIT ?""",
        (limit + 20,),  # a few spare for those of blocked domains
    )
    out = []
    for row_id, post_id, title, name, handle, username, avatar, published, html, language, domain in rows:
        if not policy.is_blocked(domain):
            out.append(
                RecentComment(row_id, post_id, title, name or handle, username, avatar, published, html, language)
            )
    return out[:limit]


async def page_by_member(
    db: Executor,
    member_id: int,
    urls: Urls,
    *,
    before: float | None,
    after: float | None,
    limit: int,
    oldest_first: bool = False,
    shown_only: bool = True,
) -> list[Comment]:
    """A member's visible comments published between two times (exclusive), newest first (oldest first when asked).

    `shown_only`: public and unlisted ones (what anyone may see); else their followers-only and
    direct ones too (for the member themself). Only those under a post everyone may see (not a
    draft's, nor a members-only group's)."""
    where = (
        f"WHERE c.member_id = ? AND c.state = 'visible' AND c.post_id IN (SELECT p.id FROM posts p WHERE {LIVE_POST})"
        + (f" AND {SHOWN_SQL}" if shown_only else "")
    )
    params: list[object] = [member_id]
    if before is not None:
        where += " AND c.published < ?"
        params.append(before)
    if after is not None:
        where += " AND c.published > ?"
        params.append(after)
    order = "ASC" if oldest_first else "DESC"  # oldest first: the page right after `after`
    rows = await db.fetchall(_SELECT + f" {where} ORDER BY c.published {order}, c.id {order} LIMIT ?", (*params, limit))
    return [_comment(r, urls) for r in rows]


async def by_ids(db: Executor, comment_ids: list[int], urls: Urls) -> dict[int, Comment]:
    """Several comments by row id (what a reply answers)."""
    if not comment_ids:
        return {}
    rows = await db.fetchall(_SELECT + f" WHERE c.id IN ({marks(len(comment_ids))})", tuple(comment_ids))
    return {c.id: c for c in (_comment(r, urls) for r in rows)}


async def counts_for_posts(db: Executor, post_ids: list[int], policy: Policy | None = None) -> dict[int, int]:
    """How many visible comments each post has (a status's replies_count; a card's count of
    comments); with a policy, those of blocked domains are left out, as on the post's page."""
    if not post_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT c.post_id, c.domain, COUNT(*) FROM comments c WHERE c.post_id IN ({marks(len(post_ids))}) "
        f"AND {_NOT_BLOCKED} GROUP BY c.post_id, c.domain",
        tuple(post_ids),
    )
    out: dict[int, int] = {}
    for post_id, domain, n in rows:
        if policy is None or not policy.is_blocked(domain):
            out[int(post_id)] = out.get(int(post_id), 0) + int(n)
    return out


def _viewable(viewer_id: int | None) -> tuple[str, tuple[object, ...]]:
    """Who may see a comment (`c`, under post `p`, answering `pc`): anyone a public or unlisted one;
    a followers-only or direct one its author and the members it answers (the post's author, the
    answered comment's author), as they were notified of it."""
    base = f"c.state = 'visible' AND {LIVE_POST} AND c.author_uri NOT IN (SELECT actor_uri FROM blocked_actors)"
    if viewer_id is None:
        return f"{base} AND {SHOWN_SQL}", ()
    return (f"{base} AND ({SHOWN_SQL} OR c.member_id = ? OR p.member_id = ? OR pc.member_id = ?)",
            (viewer_id, viewer_id, viewer_id))  # fmt: skip


_VIEWABLE_FROM = " JOIN posts p ON p.id = c.post_id LEFT JOIN comments pc ON pc.id = c.parent_id"


async def viewable(
    db: Executor, comment_ids: Sequence[int], policy: Policy, urls: Urls, viewer_id: int | None
) -> dict[int, Comment]:
    """Comments by row id that a viewer (a member, or None for anyone) may see."""
    if not comment_ids:
        return {}
    condition, params = _viewable(viewer_id)
    rows = await db.fetchall(
        _SELECT + _VIEWABLE_FROM + f" WHERE c.id IN ({marks(len(comment_ids))}) AND {condition}",
        (*comment_ids, *params),
    )
    found = (_comment(r, urls) for r in rows)
    return {c.id: c for c in found if not policy.is_blocked(c.domain)}


async def thread(
    db: Executor, post_id: int, policy: Policy, urls: Urls, viewer_id: int | None, limit: int = 4000
) -> list[Comment]:
    """The comments of a post that a viewer may see, oldest first."""
    condition, params = _viewable(viewer_id)
    rows = await db.fetchall(
        _SELECT + _VIEWABLE_FROM + f" WHERE c.post_id = ? AND {condition} ORDER BY c.published, c.id LIMIT ?",
        (post_id, *params, limit),
    )
    found = (_comment(r, urls) for r in rows)
    return [c for c in found if not policy.is_blocked(c.domain)]


async def reply_counts(db: Executor, comment_ids: Sequence[int]) -> dict[int, int]:
    """How many shown, visible answers each comment has."""
    if not comment_ids:
        return {}
    rows = await db.fetchall(
        f"SELECT c.parent_id, COUNT(*) FROM comments c WHERE c.parent_id IN ({marks(len(comment_ids))}) "
        f"AND {_NOT_BLOCKED} GROUP BY c.parent_id",
        tuple(comment_ids),
    )
    return {int(parent): int(n) for parent, n in rows}
