"""What remote activity tells a member: replies, mentions, likes, boosts and follows become notifications.

Only activities of remote actors arrive here, so the actor is never the member notified.
The follow handlers call `record` (kinds "follow" and "follow_request").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ...activitypub.parse import RemoteNote
from ...content import inert_text
from ...notices import KINDS
from ...store import comments, members, posts
from ...store import notifications as store
from ...store.actors import ActorRecord
from ...store.db import Executor
from .context import Context

__all__ = ["forget", "on_mentions", "on_reaction", "on_reply", "record"]


async def record(
    tx: Executor, member_id: int, kind: str, actor: ActorRecord, object_url: str, activity_id: str | None = None
) -> bool:
    """Notify a member of what a remote actor did; False when it was notified before."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    name = inert_text(actor.name, 100) or inert_text(actor.handle, 100)
    # Both become links on the page and in mail: only http(s), whatever a remote server sent.
    actor_url = actor.url if actor.url and _is_http(actor.url) else actor.uri
    link = object_url if _is_http(object_url) else actor_url
    return await store.add(tx, member_id, kind, actor.uri, name, actor_url, link, activity_id)


def _is_http(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


async def on_reply(ctx: Context, note: RemoteNote, post_id: int, comment_id: int) -> set[int]:
    """A remote comment was stored: its post's author and the author of the comment it answers hear of it."""
    post = await posts.by_id(ctx.tx, post_id)
    told: set[int] = set()
    if post is None:
        return told
    parent = await comments.by_ap_id(ctx.tx, note.in_reply_to) if note.in_reply_to else None
    owners = [parent.member_id if parent is not None else None, post.member_id]
    link = f"{ctx.rt.urls.post(post_id)}#comment-{comment_id}"
    for member_id in owners:
        if member_id is not None and member_id not in told:
            told.add(member_id)
            await record(ctx.tx, member_id, "reply", ctx.actor, link, note.id)
    return told


async def on_mentions(ctx: Context, note: RemoteNote, link: str | None = None, skip: set[int] | None = None) -> None:
    """Members named in a note's Mention tags (but not those told of it as a reply)."""
    for tag in note.tags[:50]:
        if tag.type != "Mention" or not tag.href:
            continue
        username = ctx.rt.urls.username(tag.href)
        member = await members.by_username(ctx.tx, username) if username else None
        if member is not None and member.id not in (skip or set()):
            await record(ctx.tx, member.id, "mention", ctx.actor, link or note.url or note.id, note.id)


async def on_reaction(ctx: Context, kind: str, post_id: int, member_id: int) -> None:
    """A Like ("like") or Announce ("boost") of a member's post."""
    await record(ctx.tx, member_id, kind, ctx.actor, ctx.rt.urls.post(post_id), ctx.activity.id)


async def forget(tx: Executor, activity_id: str, actor_uri: str) -> None:
    """Undo of a Like or Announce (or Follow): its notification goes away."""
    await store.forget_activity(tx, activity_id, actor_uri)
