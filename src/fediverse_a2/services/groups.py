"""Groups (FEP-1b12): the network group that announces every member's public post, and topic groups.

The network group (`[network] username`, named after the instance) is made on first start or
use. A topic group announces the posts members write in it, and remote posts addressed to it
per its rule (see federation/handlers/groups.py). A group moderator (or an instance moderator)
takes a post out of a group with an Undo{Announce}.
"""

from __future__ import annotations

from typing import Any

from ..content import inert_text
from ..errors import UserError
from ..federation import groups as sending
from ..models import Member, Post
from ..runtime import Runtime
from ..store import groups, members
from ..store.db import Executor
from ..store.groups import RULES, Group
from .members import RESERVED, USERNAME_RE

__all__ = [
    "add_group",
    "add_moderator",
    "announce_deleted",
    "announce_saved",
    "can_moderate",
    "ensure_network_group",
    "list_groups",
    "page_url",
    "pass_on_erasure",
    "remove_from_group",
    "require_group",
    "topic_group",
]


def page_url(rt: Runtime, username: str) -> str:
    """The HTML page of a group (its actor URL sends browsers there)."""
    return f"{rt.urls.base}/groups/{username}"


async def ensure_network_group(rt: Runtime, db: Executor | None = None) -> Group | None:
    """The network group, made now if missing; None when a person already has its username."""
    db = db or rt.db
    username = rt.config.network.username
    found = await groups.by_username(db, username)
    if found is not None:
        return found
    return await groups.create(db, username, inert_text(rt.config.instance.name, 100) or username, "", "members")


async def add_group(rt: Runtime, slug: str, name: str, rule: str = "followers", summary: str = "") -> Group:
    """Create a topic group; UserError when the slug is invalid or taken or the rule unknown."""
    if not USERNAME_RE.fullmatch(slug):
        raise UserError(f"invalid group name {slug!r}: use 1-30 characters a-z, 0-9 or _", key="username_invalid")
    if slug in RESERVED or slug == rt.config.network.username:
        raise UserError(f"name {slug!r} is reserved", key="username_reserved")
    if rule not in RULES:
        raise UserError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    name = inert_text(name, 100)
    if not name:
        raise UserError("--name must not be empty", key="name_empty")
    if await members.by_username(rt.db, slug) is not None or rt.keys.exists(slug):
        raise UserError(f"username {slug!r} is already taken", key="username_taken")
    group = await groups.create(rt.db, slug, name, inert_text(summary, 500), rule)
    if group is None:
        raise UserError(f"username {slug!r} is already taken", key="username_taken")
    return group


async def list_groups(rt: Runtime) -> list[Group]:
    """Every group, the network group included."""
    await ensure_network_group(rt)
    return await groups.list_all(rt.db)


async def require_group(rt: Runtime, slug: str) -> Group:
    """The group named slug, or a UserError."""
    if slug == rt.config.network.username:
        found = await ensure_network_group(rt)
    else:
        found = await groups.by_username(rt.db, slug)
    if found is None:
        raise UserError(f"no group named {slug!r}", key="no_such_group")
    return found


async def topic_group(rt: Runtime, db: Executor, slug: str) -> Group:
    """A topic group a member may post into (not the network group: every post is in that)."""
    found = await groups.by_username(db, slug) if slug != rt.config.network.username else None
    if found is None:
        raise UserError(f"no group named {slug!r}", key="no_such_group")
    return found


async def add_moderator(rt: Runtime, slug: str, username: str) -> None:
    """Let a member remove posts from a group."""
    group = await require_group(rt, slug)
    member = await members.by_username(rt.db, username)
    if member is None or await groups.by_id(rt.db, member.id) is not None:
        raise UserError(f"no member named {username!r}", key="no_such_member")
    await groups.add_moderator(rt.db, group.id, member.id)


async def can_moderate(rt: Runtime, group: Group, member: Member | None) -> bool:
    """Group moderators, and the instance's moderators and admins."""
    if member is None or not member.can_sign_in:
        return False
    return member.is_moderator or await groups.is_moderator(rt.db, group.id, member.id)


async def _groups_of(rt: Runtime, tx: Executor, post: Post) -> list[Group]:
    found = [g for g in [await ensure_network_group(rt, tx), await groups.group_of_post(tx, post.id)] if g]
    return list({g.id: g for g in found}.values())


async def announce_saved(rt: Runtime, tx: Executor, post: Post, activity: dict[str, Any], activity_row: int) -> None:
    """After a member's Create or Update of a public post: the network group and its topic group announce it.

    A group that has not announced the post yet boosts it (Announce{Note id}); one that has passes
    the Update on (Announce{Update}, and the author's own Update to its followers). A post a
    moderator took out of a group stays out.
    """
    note_id = rt.urls.object_of(post)  # a Note's id, or an Event's
    author = rt.urls.actor(post.username)
    shown = {s.group_id: s for s in await groups.shown_in(tx, note_id)}
    for group in await _groups_of(rt, tx, post):
        record = shown.get(group.id)
        if record is None:
            await sending.announce_object(tx, rt.urls, group, note_id, author, post_id=post.id, url=note_id)
        elif record.removed_at is None and activity["type"] == "Update":
            await sending.share_with_followers(tx, activity_row, group)
            await sending.announce_activity(tx, rt.urls, group, activity)


async def announce_deleted(rt: Runtime, tx: Executor, object_id: str, activity: dict[str, Any], row: int) -> None:
    """After a Delete of a post: every group that showed it passes the Delete on, and drops it."""
    for record in await groups.shown_in(tx, object_id):
        group = await groups.by_id(tx, record.group_id)
        if group is None or record.removed_at is not None:
            continue
        await sending.share_with_followers(tx, row, group)
        await sending.announce_activity(tx, rt.urls, group, activity)
        await groups.mark_removed(tx, record.id)


async def remove_from_group(rt: Runtime, group: Group, row_id: int, by: Member) -> bool:
    """A moderator takes a post out of the group: Undo{Announce} to its followers."""
    if not await can_moderate(rt, group, by):
        raise UserError("you do not moderate this group", key="not_allowed")
    async with rt.db.transaction() as tx:
        record = await groups.post_by_id(tx, group.id, row_id)
        if record is None:
            return False
        if record.post_id is not None and group.username != rt.config.network.username:
            await groups.set_post_group(tx, record.post_id, None)  # no longer addressed to the group
        return await sending.undo_announce(tx, rt.urls, group, record)


async def pass_on_erasure(tx: Executor, post_urls: list[str], delete_row: int) -> None:
    """An author's account was erased: every group that showed their posts passes the Delete of the
    actor on to its followers (once per group), and drops the posts."""
    shared: set[int] = set()
    for url in post_urls:
        for record in await groups.shown_in(tx, url):
            group = await groups.by_id(tx, record.group_id)
            if group is None or record.removed_at is not None:
                continue
            if delete_row and group.id not in shared:
                shared.add(group.id)
                await sending.share_with_followers(tx, delete_row, group)
            await groups.mark_removed(tx, record.id)
