"""A member likes or boosts a post or comment, or takes that back (Like, Announce, Undo).

What can be reacted to: a post on the member's timeline or any public post stored here (the
web's timeline buttons, and apps), and the posts and comments of this instance (apps).

A Like goes to the author when they are on another server; a member of this instance is told
by a notification. A boost is public, as Mastodon sends it: to Public, cc the author and the
member's followers, delivered to both. Likes and boosts of a local post count on it (the
post's counters, the Like of a remote actor alike). The member's own reactions are kept
(store.member_reactions), so a second press sends the Undo naming the original activity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..activitypub import reactions as docs
from ..activitypub.visibility import PUBLIC
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..httpclient import FetchError
from ..models import Member
from ..runtime import Runtime
from ..store import comments, member_reactions, posts, reactions
from ..store import remote_posts as remote_post_store
from ..store.actors import ActorRecord
from ..store.db import Executor
from . import notifications
from .members import ensure_key, require_member

__all__ = ["KINDS", "react", "unreact"]

KINDS = member_reactions.KINDS
# How the counters of a local post and notifications name each kind.
_COUNTED = {"Like": "like", "Announce": "announce"}
_NOTICE = {"Like": "like", "Announce": "boost"}


@dataclass(frozen=True)
class _Target:
    """What is reacted to: its author (a remote actor, or a member here), and a local post's id."""

    author_uri: str
    author: ActorRecord | None  # None: a member of this instance
    member_id: int | None  # the member who wrote it, when local
    post_id: int | None  # a local post (its counters)
    public: bool


def _delivery(actor: ActorRecord) -> tuple[str, str, str | None]:
    # The shared inbox when there is one, so a boost reaches an author who also follows us once.
    return (actor.delivery_inbox, actor.domain, None if actor.shared_inbox else actor.uri)


async def _local(rt: Runtime, object_id: str, *, undoing: bool) -> _Target | None:
    """A post or a stored comment of this instance, as a target."""
    post_id = rt.urls.any_post_id(object_id)
    if post_id is not None:
        post = await posts.by_id(rt.db, post_id)
        if post is None or ((post.deleted_at is not None or post.is_draft) and not undoing):
            return None
        return _Target(rt.urls.actor(post.username), None, post.member_id, post.id, True)
    ref = await comments.by_ap_id(rt.db, object_id)
    if ref is None:
        return None
    shown = await comments.by_id(rt.db, ref.id, rt.urls)  # public or unlisted, else None
    if shown is not None and await comments.state_of(rt.db, ref.id) != comments.VISIBLE:
        shown = None  # held for approval or hidden by a moderator
    if shown is None and not undoing:
        return None  # a followers-only or direct comment is not reacted to from here
    public = shown is not None and shown.visibility == PUBLIC
    return _Target(ref.author_uri, None, ref.member_id, None, public)


async def _prepare(
    rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str, *, undoing: bool = False
) -> tuple[Member, _Target]:
    if kind not in KINDS:
        raise UserError(f"not a reaction: {kind!r}")
    member = await require_member(rt, username)
    if not member.can_sign_in:
        raise UserError("this account cannot write", key="cannot_write")
    target = await _local(rt, object_id, undoing=undoing)
    author_uri: str | None = target.author_uri if target is not None else None
    public = target.public if target is not None else False
    if target is None:
        # Taking a reaction back stays possible after unfollowing the author.
        if undoing:
            author_uri = await remote_post_store.owner(rt.db, object_id)
        else:
            post = await remote_post_store.visible_to(rt.db, member.id, object_id)
            if post is None:
                stored = await remote_post_store.by_ap_id(rt.db, object_id)
                post = stored if stored is not None and stored.public else None  # public: anyone may see it
            author_uri = None if post is None else post.actor_uri
            public = post is not None and post.public
    if author_uri is None:
        raise UserError(f"not a post on {username}'s timeline: {object_id}", key="timeline_no_such_post")
    if kind == "Announce" and not public and not undoing:
        # Boosting a followers-only post or a direct message would publish it.
        raise UserError("only public posts can be boosted", key="timeline_not_public")
    if target is not None and target.member_id is not None:
        return await ensure_key(rt, member), target
    try:
        author = await directory.get(author_uri)
    except FetchError as exc:
        raise UserError(f"cannot fetch the author {author_uri}: {exc.reason}", key="cannot_fetch") from None
    post_id = target.post_id if target is not None else None
    return await ensure_key(rt, member), _Target(author.uri, author, None, post_id, public)


def _activity(
    rt: Runtime, member: Member, author_uri: str, reaction: member_reactions.MemberReaction
) -> dict[str, Any]:
    me = rt.urls.actor(member.username)
    if reaction.kind == "Like":
        return docs.like(reaction.activity_id, me, reaction.object_id, author_uri)
    followers = rt.urls.followers(member.username)
    return docs.announce(reaction.activity_id, me, reaction.object_id, reaction.created_at, author_uri, followers)


async def _send(tx: Executor, member: Member, target: _Target, kind: str, activity: dict[str, Any]) -> None:
    """Deliver to the remote author, and a boost to the member's followers too."""
    followers_of = member.id if kind == "Announce" else None
    targets = [_delivery(target.author)] if target.author is not None else []
    if followers_of is not None or targets:
        await queue_activity(tx, activity, member.id, followers_of=followers_of, targets=targets)


async def react(rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str) -> bool:
    """Like or boost a post or comment; False when the member already had (nothing is sent)."""
    member, target = await _prepare(rt, directory, username, kind, object_id)
    me = rt.urls.actor(member.username)
    activity_id = f"{me}#{kind.lower()}s/{uuid.uuid4().hex}"
    async with rt.db.transaction() as tx:
        if not await member_reactions.add(tx, member.id, kind, object_id, activity_id):
            return False
        reaction = await member_reactions.get(tx, member.id, kind, object_id)
        assert reaction is not None
        if target.post_id is not None:
            await reactions.add(tx, activity_id, _COUNTED[kind], me, target.post_id)
        if target.member_id is not None and target.member_id != member.id:
            await notifications.on_local_reaction(
                tx, rt, member, target.member_id, _NOTICE[kind], object_id, activity_id
            )
        await _send(tx, member, target, kind, _activity(rt, member, target.author_uri, reaction))
    return True


async def unreact(rt: Runtime, directory: ActorDirectory, username: str, kind: str, object_id: str) -> bool:
    """Send Undo of the member's like or boost; False when there was none."""
    member, target = await _prepare(rt, directory, username, kind, object_id, undoing=True)
    me = rt.urls.actor(member.username)
    async with rt.db.transaction() as tx:
        reaction = await member_reactions.remove(tx, member.id, kind, object_id)
        if reaction is None:
            return False
        if target.post_id is not None:
            await reactions.remove_activity(tx, reaction.activity_id, me)
        await notifications.forget_activity(tx, reaction.activity_id, me)
        inner = _activity(rt, member, target.author_uri, reaction)
        undo = docs.undo_reaction(f"{me}#undo/{uuid.uuid4().hex}", me, inner)
        await _send(tx, member, target, kind, undo)
    return True
