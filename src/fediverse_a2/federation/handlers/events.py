"""Answers to our events (RSVPs) from the fediverse.

Mobilizon takes part with `Join` (the organiser answers with `Accept{Join}`, as Mobilizon
expects) and stops with `Leave`; Friendica and others answer with `Accept`, `TentativeAccept` or
`Reject` of the Event itself. Each is stored as the actor's answer (going, maybe, not going; a
Leave is not going), replacing any earlier one; an `Undo` of the answering activity takes it
back. The inbox already verified the signature, the policy and the origins of the activity; here
only a live event of this instance that has not ended counts, and an actor only ever changes their
own answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from ...activitypub import build
from ...activitypub.events import ANSWER_OF
from ...models import Event
from ...store import events
from ...store.events import RsvpRow
from ..outbox import queue_activity
from .context import Context, Rejected

__all__ = ["ANSWERS", "answer_or", "on_answer", "on_undo_answer"]

ANSWERS = frozenset(ANSWER_OF)  # the activity types that answer an event
Handler = Callable[[Context], Awaitable[None]]


def _names_event(ctx: Context) -> bool:
    object_id = ctx.activity.object_id
    return object_id is not None and ctx.rt.urls.event_id(object_id) is not None


def answer_or(handler: Handler) -> Handler:
    """Accept and Reject answer an event when their object is one of ours, else run `handler` (of a Follow)."""

    async def dispatch(ctx: Context) -> None:
        await (on_answer(ctx) if _names_event(ctx) else handler(ctx))

    return dispatch


async def _live_event(ctx: Context) -> Event | None:
    object_id = ctx.activity.object_id
    event_id = ctx.rt.urls.event_id(object_id) if object_id else None
    event = await events.by_id(ctx.tx, event_id) if event_id is not None else None
    if event is None or event.post.deleted_at is not None or event.post.state != "published":
        return None
    return None if event.is_over(time.time()) else event


async def on_answer(ctx: Context) -> None:
    """Join, Leave, Accept, TentativeAccept or Reject of one of our events: the actor's answer to it."""
    kind = ctx.activity.type
    status = ANSWER_OF.get(kind)
    if status is None:
        raise Rejected(f"{kind} is not an answer to an event")
    event = await _live_event(ctx)
    if event is None:
        ctx.notes.append(f"{kind} of something that is not a live, coming event here; ignored")
        return
    await events.set_answer(ctx.tx, RsvpRow(event.id, ctx.actor.uri, status, activity_id=ctx.activity.id))
    if kind == "Join":
        # Mobilizon waits for the organiser's Accept{Join} before it shows the participation.
        organiser = ctx.rt.urls.actor(event.post.username)
        accept = build.accept(f"{organiser}#accepts/{uuid.uuid4().hex}", organiser, ctx.activity.raw)
        target = (ctx.actor.inbox, ctx.actor.domain, ctx.actor.uri)
        await queue_activity(ctx.tx, accept, event.post.member_id, targets=[target])


async def on_undo_answer(ctx: Context, inner_id: str) -> bool:
    """Undo of the activity an actor answered with: the answer is gone. False when none matched."""
    return await events.remove_answer_by_activity(ctx.tx, inner_id, ctx.actor.uri)
