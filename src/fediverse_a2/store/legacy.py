"""What the importers of the old network's archive write and look up: legacy ids, batches, old addresses.

Every imported member, post and comment carries its id on the old platform (`legacy_id`, unique),
so an import run twice finds what it brought in already and a killed one resumes. Rows are written
in batches inside the importer's transaction. `legacy_redirects` maps an old id or address to the
new URL (answered with 301, printed by `import map`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .db import Executor
from .members import directory_text

__all__ = [
    "GROUP_PREFIX",
    "CommentRow",
    "MemberRow",
    "PostRow",
    "add_activities",
    "add_redirects",
    "add_tags",
    "archive_groups",
    "attach_media",
    "comment_legacy_ids",
    "insert_comments",
    "insert_members",
    "insert_posts",
    "legacy_members",
    "member_ids_by_name",
    "post_ids",
    "redirect_target",
    "redirects",
    "set_avatar",
    "set_comment_urls",
    "set_member_legacy_id",
    "usernames",
]

# Bound parameters per IN (...) list: well below SQLite's and PostgreSQL's limits.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member to insert (no key pair yet: public_key_pem stays '' until first needed)."""

    legacy_id: str
    username: str
    name: str
    email: str | None
    role: str
    state: str
    disabled: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class PostRow:
    """A post to insert."""

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


@dataclass(frozen=True, slots=True)
class CommentRow:
    """A comment to insert; its ap_id and url are set once its row id is known."""

    legacy_id: str
    post_id: int
    member_id: int
    author_uri: str
    domain: str
    content_html: str
    published: float


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


async def legacy_members(db: Executor) -> dict[str, tuple[int, str, str]]:
    """Every imported member: legacy id -> (id, username, full name)."""
    rows = await db.fetchall("SELECT legacy_id, id, username, name FROM members WHERE legacy_id IS NOT NULL")
    return {r["legacy_id"]: (int(r["id"]), r["username"], r["name"]) for r in rows}


GROUP_PREFIX = "group:"  # a topic group's legacy id: "group:" + the old group's id


async def archive_groups(db: Executor) -> dict[str, tuple[int, str]]:
    """Topic groups made from old groups: old group id -> (actor row id, username)."""
    rows = await db.fetchall(
        "SELECT legacy_id, id, username FROM members WHERE kind = 'group' AND legacy_id LIKE ?", (GROUP_PREFIX + "%",)
    )
    return {r["legacy_id"].removeprefix(GROUP_PREFIX): (int(r["id"]), r["username"]) for r in rows}


async def set_member_legacy_id(db: Executor, member_id: int, legacy_id: str) -> None:
    await db.execute("UPDATE members SET legacy_id = ? WHERE id = ?", (legacy_id, member_id))


async def usernames(db: Executor, *, local_only: bool = False) -> set[str]:
    """Every username in use; with local_only, those of members that were not imported."""
    where = " WHERE legacy_id IS NULL" if local_only else ""
    return {r["username"] for r in await db.fetchall(f"SELECT username FROM members{where}")}


async def member_ids_by_name(db: Executor, name: str) -> list[int]:
    """Members whose full name is exactly this, members who can sign in first, then the oldest."""
    rows = await db.fetchall(
        "SELECT id FROM members WHERE name = ? AND kind = 'person' "
        "ORDER BY CASE WHEN state = 'active' THEN 0 ELSE 1 END, id",
        (name,),
    )
    return [int(r["id"]) for r in rows]


async def insert_members(db: Executor, rows: Sequence[MemberRow]) -> list[int | None]:
    """Insert members (public_key_pem ''); the new row ids, None where the legacy id was there already."""
    ids = await db.fetchval_each(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, email, disabled, "
        "legacy_id, directory_text) VALUES (?, ?, '', '', ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (legacy_id) DO NOTHING RETURNING id",
        [
            (
                r.username,
                r.name,
                r.created_at,
                r.role,
                r.state,
                r.email,
                1 if r.disabled else 0,
                r.legacy_id,
                directory_text(r.name),
            )
            for r in rows
        ],
    )
    return [None if i is None else int(i) for i in ids]


async def set_avatar(db: Executor, member_id: int, media_id: int) -> None:
    """Give an imported member the profile photo of the archive."""
    await db.execute("UPDATE members SET avatar_id = ? WHERE id = ?", (media_id, member_id))


async def post_ids(db: Executor, legacy_ids: Sequence[str]) -> dict[str, int]:
    """The posts already imported among these legacy ids: legacy id -> post id."""
    out: dict[str, int] = {}
    for chunk in _chunks(list(legacy_ids)):
        rows = await db.fetchall(f"SELECT legacy_id, id FROM posts WHERE legacy_id IN ({_marks(len(chunk))})", chunk)
        out.update((r["legacy_id"], int(r["id"])) for r in rows)
    return out


async def comment_legacy_ids(db: Executor, legacy_ids: Sequence[str]) -> set[str]:
    """The comments already imported among these legacy ids."""
    out: set[str] = set()
    for chunk in _chunks(list(legacy_ids)):
        rows = await db.fetchall(f"SELECT legacy_id FROM comments WHERE legacy_id IN ({_marks(len(chunk))})", chunk)
        out.update(r["legacy_id"] for r in rows)
    return out


async def insert_posts(db: Executor, rows: Sequence[PostRow]) -> list[int]:
    """Insert posts (the caller has checked their legacy ids are new); their row ids, in order."""
    ids = await db.fetchval_each(
        "INSERT INTO posts (member_id, title, body_md, content_html, published, updated, views, state, source, "
        "legacy_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            (
                r.member_id,
                r.title,
                r.body_md,
                r.content_html,
                r.published,
                r.updated,
                r.views,
                r.state,
                r.source,
                r.legacy_id,
            )
            for r in rows
        ],
    )
    return [int(i) for i in ids]


async def insert_comments(db: Executor, rows: Sequence[CommentRow]) -> list[int]:
    """Insert comments under a placeholder ap_id (see set_comment_urls); their row ids, in order."""
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


async def set_comment_urls(db: Executor, rows: Sequence[tuple[int, str]]) -> None:
    """Give inserted comments their final ActivityPub id (and URL): (comment id, ap_id) pairs."""
    await db.executemany("UPDATE comments SET ap_id = ?, url = ? WHERE id = ?", [(ap, ap, cid) for cid, ap in rows])


async def add_tags(db: Executor, rows: Sequence[tuple[int, str, str]]) -> None:
    """Tag posts: (post id, display name, folded name) triples; tags are created when new."""
    if not rows:
        return
    names = {norm: name for _, name, norm in rows}
    await db.executemany(
        "INSERT INTO tags (name, norm) VALUES (?, ?) ON CONFLICT (norm) DO NOTHING",
        [(name, norm) for norm, name in names.items()],
    )
    ids: dict[str, int] = {}
    norms = sorted(names)
    for chunk in _chunks(norms):
        found = await db.fetchall(f"SELECT id, norm FROM tags WHERE norm IN ({_marks(len(chunk))})", chunk)
        ids.update((r["norm"], int(r["id"])) for r in found)
    await db.executemany(
        "INSERT INTO post_tags (post_id, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(post_id, ids[norm]) for post_id, _, norm in rows],
    )


async def attach_media(db: Executor, rows: Sequence[tuple[int, int, int]]) -> None:
    """Attach images to posts: (post id, media id, position) triples."""
    await db.executemany(
        "INSERT INTO post_media (post_id, media_id, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rows
    )


async def add_activities(db: Executor, rows: Sequence[tuple[str, int, str, str, str, float]]) -> None:
    """Put activities in the outbox without delivering them: (ap_id, member id, type, object id, body, date)."""
    await db.executemany(
        "INSERT INTO activities (ap_id, member_id, type, object_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (ap_id) DO NOTHING",
        rows,
    )


async def add_redirects(db: Executor, rows: Sequence[tuple[str, str, str]]) -> None:
    """Remember old ids and addresses: (old, new URL, kind) triples; an old one already known stays."""
    await db.executemany(
        "INSERT INTO legacy_redirects (old, target, kind) VALUES (?, ?, ?) ON CONFLICT (old) DO NOTHING", rows
    )


async def redirect_target(db: Executor, old: str) -> str | None:
    """The new URL of an old id or address, or None."""
    value = await db.fetchval("SELECT target FROM legacy_redirects WHERE old = ?", (old,))
    return None if value is None else str(value)


async def redirects(db: Executor, page: int = 5000) -> AsyncIterator[tuple[str, str, str]]:
    """Every (old, new URL, kind), ordered by old, read a page at a time."""
    last = ""
    while True:
        rows = await db.fetchall(
            "SELECT old, target, kind FROM legacy_redirects WHERE old > ? ORDER BY old LIMIT ?", (last, page)
        )
        for r in rows:
            yield r["old"], r["target"], r["kind"]
        if len(rows) < page:
            return
        last = rows[-1]["old"]
