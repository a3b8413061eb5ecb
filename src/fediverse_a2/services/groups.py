"""Groups (FEP-1b12): the network group that announces every member's public post, and topic groups.

The network group (`[network] username`, named after the instance) is made on first start or
use. A topic group announces the posts members write in it, and remote posts addressed to it
per its rule (see federation/handlers/groups.py). A group moderator (or an instance moderator)
takes a post out of a group with an Undo{Announce}.

A topic group can be members-only (`visibility` 'members'): only its members see its page, posts
and comments, and only they post into it; nothing of it is announced or federated, and its actor
refuses Follows. Members ask to join on its page; its moderators approve (`decide_request`), or
an admin adds them with `group member SLUG USERNAME` (`add_member`).
"""

from __future__ import annotations

from typing import Any

from ..content import inert_text
from ..errors import UserError
from ..federation import groups as sending
from ..models import Member, Post
from ..runtime import Runtime
from ..store import group_members, groups, members
from ..store.db import Executor
from ..store.group_members import JoinRequest
from ..store.groups import RULES, VISIBILITIES, Group
from .members import RESERVED, USERNAME_RE
from .visibility import may_see_group

__all__ = [
    "MAX_REQUEST_MESSAGE",
    "add_group",
    "add_member",
    "add_moderator",
    "announce_deleted",
    "announce_saved",
    "can_moderate",
    "decide_request",
    "ensure_network_group",
    "group_for",
    "join_state",
    "list_groups",
    "list_in_group",
    "page_url",
    "pass_on_erasure",
    "remove_from_group",
    "request_to_join",
    "require_group",
    "topic_group",
]

MAX_REQUEST_MESSAGE = 500


def page_url(rt: Runtime, username: str) -> str:
    """The HTML page of a group (its actor URL sends browsers there)."""
    return rt.urls.group_page(username)


async def ensure_network_group(rt: Runtime, db: Executor | None = None) -> Group | None:
    """The network group, made now if missing; None when a person already has its username."""
    db = db or rt.db
    username = rt.config.network.username
    found = await groups.by_username(db, username)
    if found is not None:
        return found
    return await groups.create(db, username, inert_text(rt.config.instance.name, 100) or username, "", "members")


async def add_group(
    rt: Runtime, slug: str, name: str, rule: str = "followers", summary: str = "", visibility: str = "public"
) -> Group:
    """Create a topic group; UserError when the slug is invalid or taken, or the rule or visibility unknown."""
    if not USERNAME_RE.fullmatch(slug):
        raise UserError(f"invalid group name {slug!r}: use 1-30 characters a-z, 0-9 or _", key="username_invalid")
    if slug in RESERVED or slug == rt.config.network.username:
        raise UserError(f"name {slug!r} is reserved", key="username_reserved")
    if rule not in RULES:
        raise UserError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    if visibility not in VISIBILITIES:
        raise UserError(f"unknown visibility {visibility!r}: use one of {', '.join(VISIBILITIES)}")
    name = inert_text(name, 100)
    if not name:
        raise UserError("--name must not be empty", key="name_empty")
    if await members.by_username(rt.db, slug) is not None or rt.keys.exists(slug):
        raise UserError(f"username {slug!r} is already taken", key="username_taken")
    group = await groups.create(rt.db, slug, name, inert_text(summary, 500), rule, visibility)
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


async def topic_group(rt: Runtime, db: Executor, slug: str, member: Member) -> Group:
    """A topic group the member may post into (not the network group: every post is in that);
    a members-only group only for its members."""
    found = await groups.by_username(db, slug) if slug != rt.config.network.username else None
    if found is None or not await may_see_group(db, found, member):
        raise UserError(f"no group named {slug!r}", key="no_such_group")
    return found


async def group_for(rt: Runtime, tx: Executor, member: Member, slug: str | None, post: Post | None) -> Group | None:
    """The topic group a post (or event) will be in, from the editor's `slug` (None: as it is; "": none).

    One the member may post into; and for a post that is not a draft, as members-only as the one
    it is in: a public post was federated already, a members-only post must never be.
    """
    current = await groups.group_of_post(tx, post.id) if post is not None else None
    if slug is None:
        return current
    target = await topic_group(rt, tx, slug, member) if slug else None
    crossing = (current is not None and current.members_only) != (target is not None and target.members_only)
    if post is not None and not post.is_draft and crossing:
        raise UserError("a post cannot move into or out of a members-only group", key="group_move")
    return target


async def list_in_group(rt: Runtime, tx: Executor, post: Post, group: Group) -> None:
    """A post (or event) in a members-only group is listed on its page; never announced (the id says so)."""
    announce_id = f"{rt.urls.actor(group.username)}{groups.PRIVATE}{post.id}"
    await groups.record_post(tx, group.id, rt.urls.object_of(post), announce_id, rt.urls.actor(post.username),
                             post_id=post.id, created_at=post.published)  # fmt: skip


async def _person(rt: Runtime, username: str) -> Member:
    member = await members.by_username(rt.db, username)
    if member is None or await groups.by_id(rt.db, member.id) is not None:
        raise UserError(f"no member named {username!r}", key="no_such_member")
    return member


async def add_moderator(rt: Runtime, slug: str, username: str) -> None:
    """Let a member remove posts from a group (and, in a members-only group, decide who joins)."""
    group = await require_group(rt, slug)
    member = await _person(rt, username)
    async with rt.db.transaction() as tx:
        await groups.add_moderator(tx, group.id, member.id)
        await group_members.add(tx, group.id, member.id)  # a moderator belongs to the group


async def add_member(rt: Runtime, slug: str, username: str) -> bool:
    """`group member SLUG USERNAME`: make a member a member of a group; False when they were one already."""
    group = await require_group(rt, slug)
    member = await _person(rt, username)
    return await group_members.add(rt.db, group.id, member.id)


async def join_state(rt: Runtime, group: Group, member: Member) -> str:
    """Where a member stands with a group: member, pending (asked to join), rejected, or none."""
    if await group_members.is_member(rt.db, group.id, member.id):
        return "member"
    found = await group_members.request_of(rt.db, group.id, member.id)
    return found.state if found is not None and found.state != group_members.APPROVED else "none"


async def request_to_join(rt: Runtime, group: Group, member: Member, message: str) -> bool:
    """A member asks to join a members-only group; False when a request is waiting already."""
    if not group.members_only:
        raise UserError("everyone may read this group", key="not_allowed")
    if not member.can_sign_in:
        raise UserError("this account cannot write", key="cannot_write")
    if await group_members.is_member(rt.db, group.id, member.id):
        return False
    return await group_members.request(rt.db, group.id, member.id, inert_text(message, MAX_REQUEST_MESSAGE))


async def decide_request(rt: Runtime, group: Group, request_id: int, approve: bool, by: Member) -> JoinRequest:
    """A moderator of the group approves (the member joins) or rejects a request to join."""
    if not await can_moderate(rt, group, by):
        raise UserError("you do not moderate this group", key="not_allowed")
    async with rt.db.transaction() as tx:
        found = await group_members.request_by_id(tx, group.id, request_id)
        if found is None or found.state != group_members.PENDING:
            raise UserError("no such request", key="no_such_request")
        await group_members.decide(tx, found.id, approve, by.id)
        if approve:
            await group_members.add(tx, group.id, found.member_id)
    return found


async def can_moderate(rt: Runtime, group: Group, member: Member | None) -> bool:
    """Group moderators, and the instance's moderators and admins (of a members-only group: its own only)."""
    if member is None or not member.can_sign_in:
        return False
    if await groups.is_moderator(rt.db, group.id, member.id):
        return True
    return member.is_moderator and not group.members_only


async def _groups_of(rt: Runtime, tx: Executor, post: Post) -> list[Group]:
    found = [g for g in [await ensure_network_group(rt, tx), await groups.group_of_post(tx, post.id)] if g]
    return list({g.id: g for g in found}.values())


async def announce_saved(rt: Runtime, tx: Executor, post: Post, activity: dict[str, Any], activity_row: int) -> None:
    """After a member's Create or Update of a public post: the network group and its topic group announce it.

    A group that has not announced the post yet boosts it (Announce{Note id}); one that has passes
    the Update on (Announce{Update}, and the author's own Update to its followers). A post a
    moderator took out of a group stays out.
    """
    if not post.is_public:
        return  # drafts and members-only posts are never announced
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
