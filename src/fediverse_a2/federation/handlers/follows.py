"""Follow, Undo, Accept and Reject: who follows our members, and answers to our follows."""

from __future__ import annotations

import json
import uuid

from ...activitypub import build
from ...hosts import HostError, host_of
from ...runtime import Runtime
from ...store import follow_requests, follows, members, reactions
from ..outbox import queue_activity
from . import notify, relays
from .context import Context, Rejected
from .events import ANSWERS, on_undo_answer

__all__ = ["on_accept", "on_follow", "on_reject", "on_undo"]


def _inbox_allowed(rt: Runtime, url: str) -> bool:
    try:
        return rt.policy.is_allowed(host_of(url))
    except HostError:
        return False


async def on_follow(ctx: Context) -> None:
    """Follow of a member: store the follower and queue a signed Accept."""
    target = ctx.activity.object_id
    if target == ctx.rt.urls.instance_actor:
        await relays.on_instance_follow(ctx)
        return
    username = ctx.rt.urls.username(target) if target else None
    member = await members.by_username(ctx.tx, username) if username else None
    if member is None or member.is_deleted:
        ctx.notes.append("Follow of something that is not a member; ignored")
        return
    actor = ctx.actor
    # Deliveries go to these inboxes: never to a domain the policy refuses, whatever the
    # actor's own domain is. A shared inbox elsewhere is dropped, a personal one refuses.
    if not _inbox_allowed(ctx.rt, actor.inbox):
        raise Rejected("the actor's inbox is on a domain this instance does not federate with")
    shared = actor.shared_inbox if actor.shared_inbox and _inbox_allowed(ctx.rt, actor.shared_inbox) else None
    if member.locked and not await follows.is_follower(ctx.tx, member.id, actor.uri):
        # manuallyApprovesFollowers: the request waits for the member (services/followers.py).
        if not ctx.activity.id:
            raise Rejected("a Follow of a locked account needs an id to be answered")
        follow = {k: ctx.activity.raw[k] for k in ("id", "type", "actor", "object") if k in ctx.activity.raw}
        await follow_requests.add(
            ctx.tx, member.id, actor.uri, actor.inbox, shared, actor.domain, ctx.activity.id, json.dumps(follow)
        )
        await notify.record(ctx.tx, member.id, "follow_request", actor, actor.url or actor.uri, ctx.activity.id)
        return
    await follows.add_follower(ctx.tx, member.id, actor.uri, actor.inbox, shared, actor.domain, ctx.activity.id)
    await notify.record(ctx.tx, member.id, "follow", actor, actor.url or actor.uri, ctx.activity.id)
    member_uri = ctx.rt.urls.actor(member.username)
    accept = build.accept(f"{member_uri}#accepts/{uuid.uuid4().hex}", member_uri, ctx.activity.raw)
    await queue_activity(ctx.tx, accept, member.id, targets=[(actor.inbox, actor.domain, actor.uri)])


async def on_undo(ctx: Context) -> None:
    """Undo of a Follow, Like or Announce, or of an answer to one of our events, by the same actor."""
    inner = ctx.activity.object
    inner_id = ctx.activity.object_id
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    inner_actor = inner.get("actor") if isinstance(inner, dict) else None
    if isinstance(inner_actor, dict):
        inner_actor = inner_actor.get("id")
    if inner_actor is not None and inner_actor != ctx.actor.uri:
        raise Rejected("Undo of another actor's activity")
    if inner_id and (inner_type in ANSWERS or inner_type is None) and await on_undo_answer(ctx, inner_id):
        return
    if inner_type == "Follow" or (inner_type is None and inner_id):
        target = inner.get("object") if isinstance(inner, dict) else None
        username = ctx.rt.urls.username(target) if isinstance(target, str) else None
        if username:
            member = await members.by_username(ctx.tx, username)
            if member is not None:
                await follows.remove_follower(ctx.tx, member.id, ctx.actor.uri)
                await follow_requests.remove_by_follow(ctx.tx, member.id, ctx.actor.uri)
        elif inner_id:
            await follows.remove_follow(ctx.tx, inner_id, ctx.actor.uri)
    if inner_type in ("Like", "Announce", None) and inner_id:
        await reactions.remove_activity(ctx.tx, inner_id, ctx.actor.uri)
        await notify.forget(ctx.tx, inner_id, ctx.actor.uri)
        if isinstance(inner, dict) and inner_type:
            target = inner.get("object")
            target_id = target.get("id") if isinstance(target, dict) else target
            post_id = ctx.rt.urls.post_id(target_id) if isinstance(target_id, str) else None
            if post_id is not None:
                await reactions.remove(ctx.tx, inner_type.lower(), ctx.actor.uri, post_id)


async def on_accept(ctx: Context) -> None:
    """Accept{Follow} of one of our follows (a member's, or the instance actor's of a relay)."""
    follow_id = ctx.activity.object_id
    row = await follows.following_by_follow_id(ctx.tx, follow_id) if follow_id else None
    if row is None and await relays.on_relay_answer(ctx, "accepted"):
        return
    if row is None or row.actor_uri != ctx.actor.uri:
        ctx.notes.append("Accept of an unknown follow; ignored")
        return
    await follows.set_following_state(ctx.tx, row.id, "accepted")


async def on_reject(ctx: Context) -> None:
    """Reject{Follow}: the remote actor (or a relay) refused our follow."""
    follow_id = ctx.activity.object_id
    row = await follows.following_by_follow_id(ctx.tx, follow_id) if follow_id else None
    if row is None and await relays.on_relay_answer(ctx, "rejected"):
        return
    if row is not None and row.actor_uri == ctx.actor.uri:
        await follows.delete_following(ctx.tx, row.id)
