"""Move: an account our members follow moved elsewhere; they follow it there, as Mastodon does.

FEP-7628: `Move {actor: old, object: old, target: new}`, signed by the old account. The move
is believed only when the new account names the old one in its `alsoKnownAs`: for a remote
target, in its document as the worker fetched it just now from its own origin (never a copy
the Move carried); for one of our members, in what the member listed on their profile. Each
member who followed the old account then sends it an Undo{Follow} and the new one a Follow.
"""

from __future__ import annotations

import uuid

from ...activitypub import build
from ...activitypub.parse import ParseError, parse_actor
from ...store import actor_blocks, follows, members
from ...store import actors as actor_store
from ..outbox import queue_activity
from .context import Context, Rejected

__all__ = ["on_move"]


async def on_move(ctx: Context) -> None:
    """Move of a followed account: the members who followed it follow the new account instead."""
    old = ctx.actor.uri
    target = ctx.activity.target
    if ctx.activity.object_id != old:
        raise Rejected("Move of an account other than its actor")
    if not target or target == old:
        raise Rejected("Move without a target")
    local = ctx.rt.urls.username(target)
    if local is not None:
        member = await members.by_username(ctx.tx, local)
        if member is None or member.is_deleted or old not in member.also_known_as:
            raise Rejected("the target does not name the old account in alsoKnownAs")
        # Members here cannot follow each other: there is nothing to carry over.
        ctx.notes.append(f"{old} moved to {target}, a member of this instance")
        return
    following = await follows.following_of_actor(ctx.tx, old)
    if not following:
        ctx.notes.append("Move of an account no member follows; ignored")
        return
    doc = ctx.fetched
    if doc is None:
        raise Rejected("the target of the Move was not fetched")
    try:
        new = parse_actor(doc)
    except ParseError as exc:
        raise Rejected(f"the target is not a usable actor: {exc}") from None
    if new.id != target:
        raise Rejected("the fetched target is another actor")
    if old not in new.also_known_as:
        raise Rejected("the target does not name the old account in alsoKnownAs")
    if new.moved_to is not None:
        raise Rejected("the target has itself moved")
    if await actor_blocks.is_blocked(ctx.tx, new.id):
        raise Rejected("the target is blocked")
    record = await actor_store.by_uri(ctx.tx, new.id)
    if record is None:
        raise Rejected("the target was not stored")
    for row in following:
        member = await members.by_id(ctx.tx, row.member_id)
        if member is None or member.is_deleted:
            continue
        me = ctx.rt.urls.actor(member.username)
        await follows.remove_following(ctx.tx, member.id, old)
        undo = build.undo(f"{me}#undo/{uuid.uuid4().hex}", me, build.follow(row.follow_id, me, old))
        await queue_activity(ctx.tx, undo, member.id, targets=[(ctx.actor.inbox, ctx.actor.domain, old)])
        if await follows.follows_actor(ctx.tx, member.id, record.uri):
            continue
        follow = build.follow(f"{me}#follows/{uuid.uuid4().hex}", me, record.uri)
        await follows.add_following(ctx.tx, member.id, record.uri, follow["id"])
        await queue_activity(ctx.tx, follow, member.id, targets=[(record.inbox, record.domain, record.uri)])
    ctx.notes.append(f"{len(following)} follows moved from {old} to {record.uri}")
