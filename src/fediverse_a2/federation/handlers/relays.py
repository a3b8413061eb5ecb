"""Relays: their answers to our subscription, their follow of the instance actor, what they announce.

A relay's Accept names the relay's actor as its object's object (not as:Public, even for a
Mastodon-style subscription), so it is matched by the Follow's id alone. A Mastodon-style relay
was subscribed by its inbox: its actor is learnt from the answer, and must be on that domain.
"""

from __future__ import annotations

import time
import uuid

from ...activitypub import build
from ...activitypub.note_images import images_of
from ...activitypub.parse import ParseError, parse_note
from ...activitypub.values import is_public
from ...content import inert_text, sanitise_remote_html
from ...store import comments, relays, remote_posts, tombstones
from ..outbox import queue_activity
from .context import Context, Rejected, parse_time
from .notes import on_create

__all__ = ["on_instance_follow", "on_relay_answer", "on_relayed"]


def _is_its_relay(relay: relays.Relay, ctx: Context) -> bool:
    """Whether the activity's actor is this subscription's relay."""
    if relay.actor is not None:
        return relay.actor == ctx.actor.uri
    return relay.domain == ctx.actor.domain


async def on_relay_answer(ctx: Context, state: str) -> bool:
    """Accept or Reject of a relay subscription; False when the Follow it names is not one."""
    follow_id = ctx.activity.object_id
    relay = await relays.by_follow_id(ctx.tx, follow_id) if follow_id else None
    if relay is None:
        return False
    if not _is_its_relay(relay, ctx):
        ctx.notes.append("answer to a relay subscription from another actor; ignored")
        return True
    await relays.set_state(ctx.tx, relay.id, state, ctx.actor.uri)
    return True


async def on_instance_follow(ctx: Context) -> None:
    """Follow of the instance actor: a relay we subscribed to following back is accepted."""
    relay = await relays.for_actor(ctx.tx, ctx.actor.uri, ctx.actor.domain)
    if relay is None or not _is_its_relay(relay, ctx):
        ctx.notes.append("Follow of the instance actor by something that is not our relay; ignored")
        return
    me = ctx.rt.urls.instance_actor
    accept = build.accept(f"{me}#accepts/{uuid.uuid4().hex}", me, ctx.activity.raw)
    inbox = ctx.actor.shared_inbox or ctx.actor.inbox
    await queue_activity(ctx.tx, accept, None, targets=[(inbox, ctx.actor.domain, None)])


async def on_relayed(ctx: Context) -> None:
    """A post a relay announced, fetched from its origin and handled as its author's Create.

    A reply to one of our posts becomes a comment (as any Create does); any other public post
    is kept for the network timeline.
    """
    await on_create(ctx)
    obj = ctx.object()
    if obj is None or ctx.via is None:
        raise Rejected("relayed post without its object")
    try:
        note = parse_note(obj, default_author=ctx.actor.uri)
    except ParseError as exc:  # pragma: no cover - on_create refused it already
        raise Rejected(f"unusable object: {exc}") from None
    if await comments.by_ap_id(ctx.tx, note.id) is not None:
        return
    if await tombstones.exists(ctx.tx, note.id, ctx.actor.uri):
        return
    if not is_public(note.to, note.cc):
        ctx.notes.append("relayed post is not public; not kept")
        return
    await remote_posts.add(
        ctx.tx, ap_id=note.id, actor_uri=ctx.actor.uri, content_html=sanitise_remote_html(note.content),
        summary=inert_text(note.summary, 500) or None, url=note.url, in_reply_to=note.in_reply_to,
        published=parse_time(note.published, time.time()) or time.time(), attachments=images_of(obj), public=True,
    )  # fmt: skip
    await relays.mark_post(ctx.tx, note.id, ctx.via)
