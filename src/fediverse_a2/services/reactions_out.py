"""A member likes or boosts a post on their timeline, or takes that back (Like, Announce, Undo).

A Like goes to the post's author. A boost is public, as Mastodon sends it: to Public, cc the
author and the member's followers, delivered to both. The member's own reactions are kept
(store.member_reactions), so a second press sends the Undo naming the original activity.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..activitypub import reactions as docs
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..httpclient import FetchError
from ..models import Member
from ..runtime import Runtime
from ..store import member_reactions
from ..store import remote_posts as remote_post_store
from ..store.actors import ActorRecord
from .members import ensure_key, require_member

__all__ = ["KINDS", "react", "unreact"]

KINDS = member_reactions.KINDS


def _target(actor: ActorRecord) -> tuple[str, str, str | None]:
    # The shared inbox when there is one, so a boost reaches an author who also follows us once.
    return (actor.delivery_inbox, actor.domain, None if actor.shared_inbox else actor.uri)


async def _prepare(
    rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str, *, undoing: bool = False
) -> tuple[Member, ActorRecord]:
    if kind not in KINDS:
        raise UserError(f"not a reaction: {kind!r}")
    member = await require_member(rt, username)
    if not member.can_sign_in:
        raise UserError("this account cannot write", key="cannot_write")
    # Taking a reaction back stays possible after unfollowing the author.
    if undoing:
        author_uri = await remote_post_store.owner(rt.db, object_id)
    else:
        post = await remote_post_store.visible_to(rt.db, member.id, object_id)
        author_uri = None if post is None else post.actor_uri
        if post is not None and kind == "Announce" and not post.public:
            # Boosting a followers-only post or a direct message would publish it.
            raise UserError("only public posts can be boosted", key="timeline_not_public")
    if author_uri is None:
        raise UserError(f"not a post on {username}'s timeline: {object_id}", key="timeline_no_such_post")
    try:
        author = await directory.get(author_uri)
    except FetchError as exc:
        raise UserError(f"cannot fetch the author {author_uri}: {exc.reason}", key="cannot_fetch") from None
    return await ensure_key(rt, member), author


def _activity(
    rt: Runtime, member: Member, author: ActorRecord, reaction: member_reactions.MemberReaction
) -> dict[str, Any]:
    me = rt.urls.actor(member.username)
    if reaction.kind == "Like":
        return docs.like(reaction.activity_id, me, reaction.object_id, author.uri)
    followers = rt.urls.followers(member.username)
    return docs.announce(reaction.activity_id, me, reaction.object_id, reaction.created_at, author.uri, followers)


async def react(rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str) -> bool:
    """Like or boost a post on the member's timeline; False when they already had (nothing is sent)."""
    member, author = await _prepare(rt, directory, username, kind, object_id)
    me = rt.urls.actor(member.username)
    activity_id = f"{me}#{kind.lower()}s/{uuid.uuid4().hex}"
    async with rt.db.transaction() as tx:
        if not await member_reactions.add(tx, member.id, kind, object_id, activity_id):
            return False
        reaction = await member_reactions.get(tx, member.id, kind, object_id)
        assert reaction is not None
        activity = _activity(rt, member, author, reaction)
        followers_of = member.id if kind == "Announce" else None
        await queue_activity(tx, activity, member.id, followers_of=followers_of, targets=[_target(author)])
    return True


async def unreact(rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str) -> bool:
    """Send Undo of the member's like or boost of a post; False when there was none."""
    member, author = await _prepare(rt, directory, username, kind, object_id, undoing=True)
    me = rt.urls.actor(member.username)
    async with rt.db.transaction() as tx:
        reaction = await member_reactions.remove(tx, member.id, kind, object_id)
        if reaction is None:
            return False
        inner = _activity(rt, member, author, reaction)
        undo = docs.undo_reaction(f"{me}#undo/{uuid.uuid4().hex}", me, inner)
        followers_of = member.id if kind == "Announce" else None
        await queue_activity(tx, undo, member.id, followers_of=followers_of, targets=[_target(author)])
    return True
