"""Groups: local Group actors (rows of `members` with kind 'group'), their moderators and posts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor, Row
from .sql import columns, record

__all__ = [
    "ARCHIVED",
    "RULES",
    "Group",
    "GroupOverview",
    "GroupPost",
    "add_moderator",
    "by_id",
    "by_username",
    "create",
    "group_of_post",
    "is_moderator",
    "list_all",
    "mark_removed",
    "moderators",
    "overview",
    "post_by_id",
    "posts",
    "record_post",
    "remove_moderator_everywhere",
    "set_post_group",
    "shown_in",
]

# Whose posts a group announces: only local members', authors who follow it, or anyone.
RULES = ("members", "followers", "anyone")


@dataclass(frozen=True)
class Group:
    """A local Group actor."""

    id: int
    username: str
    name: str
    summary: str
    rule: str
    created_at: float


@dataclass(frozen=True)
class GroupPost:
    """An object a group announced: a local post or a remote note."""

    id: int
    group_id: int
    object_id: str
    announce_id: str
    post_id: int | None
    author_uri: str
    content_html: str
    url: str | None
    created_at: float
    removed_at: float | None


# In Group's field order; a group from before rules existed follows the default rule.
_GROUP = (
    "SELECT id, username, name, summary, COALESCE(NULLIF(group_rule, ''), 'followers'), created_at FROM members "
    "WHERE kind = 'group'"
)
_POST = f"SELECT {columns(GroupPost)} FROM group_posts"


def _group(row: Row) -> Group:
    return record(Group, row)


def _post(row: Row) -> GroupPost:
    return record(GroupPost, row)


ARCHIVED = "#archived/"  # in the announce id of an imported post a group lists but never announced


async def create(db: Executor, username: str, name: str, summary: str, rule: str) -> Group | None:
    """Insert a group (its key pair comes on first need); None when the username is taken."""
    # disabled = 1: a group never signs in and never writes as a member.
    await db.execute(
        "INSERT INTO members (username, name, summary, public_key_pem, created_at, role, state, disabled, kind, "
        "group_rule) VALUES (?, ?, ?, '', ?, 'member', 'active', 1, 'group', ?) ON CONFLICT (username) DO NOTHING",
        (username, name, summary, time.time(), rule),
    )
    return await by_username(db, username)


async def by_username(db: Executor, username: str) -> Group | None:
    """The group with this username, or None (also None for a person)."""
    row = await db.fetchone(f"{_GROUP} AND username = ?", (username,))
    return _group(row) if row else None


async def by_id(db: Executor, group_id: int) -> Group | None:
    """The group with this id, or None."""
    row = await db.fetchone(f"{_GROUP} AND id = ?", (group_id,))
    return _group(row) if row else None


async def list_all(db: Executor) -> list[Group]:
    """Every group, oldest first."""
    return [_group(r) for r in await db.fetchall(f"{_GROUP} ORDER BY id")]


async def add_moderator(db: Executor, group_id: int, member_id: int) -> None:
    """Make a member a moderator of a group (again is fine)."""
    await db.execute(
        "INSERT INTO group_moderators (group_id, member_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (group_id, member_id),
    )


async def is_moderator(db: Executor, group_id: int, member_id: int) -> bool:
    """Whether the member moderates the group."""
    found = await db.fetchval(
        "SELECT 1 FROM group_moderators WHERE group_id = ? AND member_id = ?", (group_id, member_id)
    )
    return found is not None


async def moderators(db: Executor, group_id: int) -> list[str]:
    """Usernames of a group's moderators."""
    rows = await db.fetchall(
        "SELECT m.username FROM group_moderators g JOIN members m ON m.id = g.member_id "
        "WHERE g.group_id = ? ORDER BY m.username",
        (group_id,),
    )
    return [str(r[0]) for r in rows]


async def set_post_group(db: Executor, post_id: int, group_id: int | None) -> None:
    """Put a local post into a topic group (or take it out with None)."""
    await db.execute("UPDATE posts SET group_id = ? WHERE id = ?", (group_id, post_id))


async def group_of_post(db: Executor, post_id: int) -> Group | None:
    """The topic group a local post was written in, or None."""
    row = await db.fetchone(f"{_GROUP} AND id = (SELECT group_id FROM posts WHERE id = ?)", (post_id,))
    return _group(row) if row else None


async def record_post(
    db: Executor,
    group_id: int,
    object_id: str,
    announce_id: str,
    author_uri: str,
    *,
    post_id: int | None = None,
    content_html: str = "",
    url: str | None = None,
    created_at: float | None = None,
) -> bool:
    """Remember that a group announced an object; False when it had already done so.

    A post imported from the archive is listed but was never announced: its announce id has
    ARCHIVED in it, and taking it out of the group then sends nothing.
    """
    changed = await db.execute(
        "INSERT INTO group_posts (group_id, object_id, announce_id, post_id, author_uri, content_html, url, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, object_id) DO NOTHING",
        (group_id, object_id, announce_id, post_id, author_uri, content_html, url, created_at or time.time()),
    )
    return bool(changed)


async def shown_in(db: Executor, object_id: str) -> list[GroupPost]:
    """Every group's record of an object (removed ones too: those stay out)."""
    return [_post(r) for r in await db.fetchall(f"{_POST} WHERE object_id = ? ORDER BY id", (object_id,))]


async def post_by_id(db: Executor, group_id: int, row_id: int) -> GroupPost | None:
    """One record of a group's posts."""
    row = await db.fetchone(f"{_POST} WHERE group_id = ? AND id = ?", (group_id, row_id))
    return _post(row) if row else None


async def posts(db: Executor, group_id: int, limit: int = 50, offset: int = 0) -> list[GroupPost]:
    """A group's live posts, newest first."""
    rows = await db.fetchall(
        f"{_POST} WHERE group_id = ? AND removed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        (group_id, limit, offset),
    )
    return [_post(r) for r in rows]


async def mark_removed(db: Executor, row_id: int) -> bool:
    """A moderator took a post out of the group; False when it was out already."""
    changed = await db.execute(
        "UPDATE group_posts SET removed_at = ? WHERE id = ? AND removed_at IS NULL", (time.time(), row_id)
    )
    return bool(changed)


async def remove_moderator_everywhere(db: Executor, member_id: int) -> None:
    """A member moderates no group any more (an erased account)."""
    await db.execute("DELETE FROM group_moderators WHERE member_id = ?", (member_id,))


@dataclass(frozen=True)
class GroupOverview:
    """A group as the group list and the front page show it: counts and its latest post."""

    group: Group
    followers: int
    post_count: int
    latest: GroupPost | None
    latest_title: str | None  # the title when the latest is a local post


# A live record of group g: not taken out, and not a local post since deleted.
_SHOWN = """{t}.group_id = g.id AND {t}.removed_at IS NULL AND ({t}.post_id IS NULL
   OR {t}.post_id IN (SELECT id FROM posts WHERE deleted_at IS NULL AND state = 'published'))"""
_LATEST = (
    f"(SELECT gp.id FROM group_posts gp WHERE {_SHOWN.format(t='gp')} ORDER BY gp.created_at DESC, gp.id DESC LIMIT 1)"
)


async def overview(
    db: Executor, *, active: bool = False, limit: int = 1000, leave_out: str | None = None
) -> list[GroupOverview]:
    """Every group (but the one named `leave_out`) with its follower count, number of posts and
    latest post: by name, or with `active` only groups that have posts, the most recently active first."""
    order = "lp.created_at DESC, g.id" if active else "g.name, g.id"
    where = (
        "g.kind = 'group'"
        + (" AND lp.id IS NOT NULL" if active else "")
        + (" AND g.username <> ?" if leave_out else "")
    )
    # Group's columns, the two counts, GroupPost's columns of the latest record, that post's title.
    rows = await db.fetchall(
        f"""SELECT g.id, g.username, g.name, g.summary, COALESCE(NULLIF(g.group_rule, ''), 'followers'), g.created_at,
                   (SELECT COUNT(*) FROM followers f WHERE f.member_id = g.id),
                   (SELECT COUNT(*) FROM group_posts c WHERE {_SHOWN.format(t="c")}),
                   {columns(GroupPost, "lp")}, p.title
            FROM members g
            LEFT JOIN group_posts lp ON lp.id = {_LATEST}
            LEFT JOIN posts p ON p.id = lp.post_id
            WHERE {where}
            ORDER BY {order} LIMIT ?""",
        (leave_out, limit) if leave_out else (limit,),
    )
    out = []
    for r in rows:
        latest = record(GroupPost, r[8:18]) if r[8] is not None else None
        out.append(GroupOverview(record(Group, r[:6]), int(r[6]), int(r[7]), latest, r[18]))
    return out
