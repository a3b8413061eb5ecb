"""Events: members organise them on the web and with `event add`; they federate as AS2 Events.

An event is a post of kind `event` (store/events.py says why) served at /events/ID. Creating one
sends Create{Event} to the organiser's followers (and the relays, and the groups that announce
it, as for a post); an edit sends Update{Event} with `updated`; cancelling marks it deleted (its
URL then answers 410 with a Tombstone) and sends Delete. Edits and cancellations also go to the
remote people who answered, whether they follow the organiser or not.

Times typed by a person are ISO 8601; without an offset they are wall-clock time in the
instance's time zone (`instance.timezone`, Europe/Amsterdam), and stored in UTC.

`store_event` is the importer's way in: it writes an event (with its legacy id and original
dates) without announcing or delivering anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..activitypub import build
from ..activitypub.events import EVENT_CONTEXT, event_object
from ..activitypub.values import is_http_id
from ..content import inert_text, render_markdown
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import EVENT, GOING, RSVP_STATUSES, Event, Member
from ..runtime import Runtime
from ..store import actors as actor_store
from ..store import comments, events, posts, search
from ..store import groups as group_store
from ..store.db import Executor
from ..store.events import EventRow, RsvpRow
from .groups import announce_deleted, announce_saved, topic_group
from .members import ensure_key, require_member

__all__ = [
    "EventDraft",
    "NewEvent",
    "add_event",
    "answer",
    "cancel_event",
    "event_document",
    "parse_when",
    "require_event",
    "save_event",
    "store_event",
]

MAX_TITLE = 300
MAX_BODY = 100_000
MAX_LOCATION = 200
MAX_ADDRESS = 500
MAX_LINK = 2000
FIRST_REPLIES = 50  # comment ids inlined in the Event's replies collection, as for a Note


@dataclass(frozen=True)
class EventDraft:
    """What a member typed: the fields of /events/new (times as typed) or of `event add`."""

    title: str
    start: str
    end: str
    body: str = ""
    location: str = ""  # the place's name
    address: str = ""
    link: str = ""  # an online link (video call, livestream)
    group: str | None = None  # a topic group's username; "" for none, None to leave it as it is


@dataclass(frozen=True)
class NewEvent:
    """An event to store as it is (the importer's): times in epoch seconds (UTC), HTML already safe."""

    member_id: int
    title: str
    body_md: str
    content_html: str
    starts_at: float
    ends_at: float | None
    location_name: str = ""
    location_address: str = ""
    online_url: str | None = None
    published: float | None = None  # default: now
    updated: float | None = None
    legacy_id: str | None = None
    group_id: int | None = None


def parse_when(text: str, tz: ZoneInfo, what: str = "time") -> float:
    """A moment typed by a person, as epoch seconds.

    ISO 8601 (`2025-06-14T10:00`, `2025-06-14 10:00`, seconds optional, a date alone is its
    midnight). Without an offset it is wall-clock time in `tz`: a time that does not exist there
    (the hour skipped when summer time starts) is refused; one that happens twice (the hour
    repeated when it ends) is the first, summer time.
    """
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw[:40].replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{what} is not a date and time (YYYY-MM-DDTHH:MM): {raw[:40]!r}", key="event_time_invalid"
        ) from None
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=tz)  # fold 0: the first of a repeated hour
        if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed:
            raise UserError(
                f"{what} {raw[:40]!r} does not exist in {tz.key} (the clocks skip that hour)", key="event_time_skipped"
            )
        parsed = local
    return parsed.timestamp()


@dataclass(frozen=True)
class _Checked:
    title: str
    body: str
    html: str
    starts_at: float
    ends_at: float
    location: str
    address: str
    link: str | None


def _check(rt: Runtime, draft: EventDraft) -> _Checked:
    title = inert_text(draft.title, MAX_TITLE + 1)
    if not title:
        raise UserError("--title must not be empty", key="event_title_empty")
    if len(title) > MAX_TITLE:
        raise UserError(f"--title is longer than {MAX_TITLE} characters", key="event_title_long")
    if len(draft.body) > MAX_BODY:
        raise UserError(f"the description is longer than {MAX_BODY} characters", key="body_long")
    if not draft.start.strip():
        raise UserError("--start is missing", key="event_start_missing")
    if not draft.end.strip():
        raise UserError("--end is missing", key="event_end_missing")
    starts_at = parse_when(draft.start, rt.tz, "--start")
    ends_at = parse_when(draft.end, rt.tz, "--end")
    if ends_at < starts_at:
        raise UserError("the event ends before it starts", key="event_end_before_start")
    location = inert_text(draft.location, MAX_LOCATION + 1)
    address = inert_text(draft.address, MAX_ADDRESS + 1)
    if len(location) > MAX_LOCATION or len(address) > MAX_ADDRESS:
        raise UserError("the location or address is too long", key="event_location_long")
    link = draft.link.strip()
    if link and (len(link) > MAX_LINK or not is_http_id(link)):
        raise UserError(f"the online link is not an http(s) address: {link[:80]!r}", key="event_link_invalid")
    html = render_markdown(draft.body) if draft.body.strip() else ""
    return _Checked(title, draft.body, html, starts_at, ends_at, location, address, link or None)


async def require_event(rt: Runtime, url_or_id: str | int, db: Executor | None = None) -> Event:
    """The live local event a URL (or id) names, or a UserError."""
    event_id = url_or_id if isinstance(url_or_id, int) else rt.urls.event_id(url_or_id)
    event = await events.by_id(db or rt.db, event_id) if event_id is not None else None
    if event is None:
        raise UserError(f"not an event on this instance: {url_or_id}", key="no_such_event")
    if event.post.deleted_at is not None:
        raise UserError(f"the event was cancelled: {url_or_id}", key="event_cancelled")
    return event


async def event_document(rt: Runtime, db: Executor, event: Event) -> dict[str, Any]:
    """The Event as served at its URL and sent in Create/Update: with replies, participants and group."""
    total = await comments.count_visible(db, event.id, rt.policy)
    first = await comments.ids_for_post(db, event.id, rt.policy, FIRST_REPLIES, 0)
    counts = await events.count_by_status(db, event.id)
    group = await group_store.group_of_post(db, event.id)
    return event_object(
        event, rt.urls, rt.config.instance.language, rt.config.instance.timezone,
        replies_total=total, first_replies=first, participants=counts[GOING],
        group=rt.urls.actor(group.username) if group else None,
    )  # fmt: skip


async def store_event(tx: Executor, new: NewEvent) -> int:
    """Write an event (its post and its times and place) without announcing or delivering it; returns its id.

    For the importer: an event with its legacy id and original dates. Answers go in with
    `store.events.set_answers`, comments as comments of the returned (post) id.
    """
    post_id = await posts.create(
        tx, new.member_id, new.title, new.body_md, new.content_html, new.published,
        updated=new.updated, kind=EVENT, legacy_id=new.legacy_id,
    )  # fmt: skip
    await events.add(
        tx,
        EventRow(post_id, new.starts_at, new.ends_at, new.location_name, new.location_address, new.online_url),
    )
    if new.group_id is not None:
        await group_store.set_post_group(tx, post_id, new.group_id)
    await search.index_posts(tx, [post_id])
    return post_id


async def _answerers(tx: Executor, event_id: int) -> list[tuple[str, str, str | None]]:
    """Delivery targets of the remote people who answered an event (they hear of its changes)."""
    targets = []
    for uri in await events.remote_answerers(tx, event_id):
        actor = await actor_store.by_uri(tx, uri)
        if actor is not None:
            targets.append((actor.delivery_inbox, actor.domain, None if actor.shared_inbox else actor.uri))
    return targets


async def save_event(rt: Runtime, member: Member, draft: EventDraft, *, event: Event | None = None) -> Event:
    """Store a new event (Create{Event} to the followers) or change one (Update{Event} with `updated`)."""
    checked = _check(rt, draft)
    if not member.can_sign_in:
        raise UserError("this account cannot write", key="cannot_write")
    if event is not None and event.post.member_id != member.id:
        raise UserError("only its organiser can change an event", key="event_not_organiser")
    member = await ensure_key(rt, member)
    async with rt.db.transaction() as tx:
        if event is None:
            new = NewEvent(
                member.id, checked.title, checked.body, checked.html, checked.starts_at, checked.ends_at,
                checked.location, checked.address, checked.link,
            )  # fmt: skip
            event_id = await store_event(tx, new)
        else:
            event_id = event.id
            await posts.update(tx, event_id, checked.title, checked.body, checked.html)
            await events.update(
                tx,
                EventRow(event_id, checked.starts_at, checked.ends_at, checked.location, checked.address, checked.link),
            )
            await search.index_posts(tx, [event_id])
        if draft.group is not None:
            group = await topic_group(rt, tx, draft.group) if draft.group else None
            await group_store.set_post_group(tx, event_id, group.id if group else None)
        fresh = await events.by_id(tx, event_id)
        assert fresh is not None
        doc = await event_document(rt, tx, fresh)
        if event is None:
            activity = build.create(doc)
        else:
            assert fresh.post.updated is not None
            activity = build.update(doc, fresh.post.updated)
        activity["@context"] = EVENT_CONTEXT  # the Event's own terms (address, joinMode...)
        targets = await _answerers(tx, event_id) if event is not None else []
        row = await queue_activity(tx, activity, member.id, followers_of=member.id, targets=targets, to_relays=True)
        await announce_saved(rt, tx, fresh.post, activity, row)
    return fresh


async def cancel_event(rt: Runtime, member: Member, event: Event) -> str:
    """Cancel an event: its URL answers 410 from now on; Delete goes to everyone who received it."""
    if event.post.member_id != member.id:
        raise UserError("only its organiser can cancel an event", key="event_not_organiser")
    url = rt.urls.object_of(event.post)
    actor = rt.urls.actor(event.post.username)
    async with rt.db.transaction() as tx:
        await posts.mark_deleted(tx, event.id)
        await search.remove_post(tx, event.id)
        activity = build.delete(actor, url, [build.PUBLIC], [rt.urls.followers(event.post.username)])
        targets = await _answerers(tx, event.id)
        row = await queue_activity(
            tx, activity, event.post.member_id, followers_of=event.post.member_id, targets=targets, to_relays=True
        )
        await announce_deleted(rt, tx, url, activity, row)
    return url


async def answer(rt: Runtime, member: Member, event: Event, status: str | None) -> None:
    """A member's answer to an event: going, maybe, not going, or None to take it back."""
    if status is not None and status not in RSVP_STATUSES:
        raise UserError(f"unknown answer {status!r}", key="event_answer_invalid")
    if not member.can_sign_in:
        raise UserError("this account cannot answer", key="cannot_write")
    if event.is_over(time.time()):
        raise UserError("the event is over", key="event_over")
    me = rt.urls.actor(member.username)
    if status is None:
        await events.remove_answer(rt.db, event.id, me)
    else:
        await events.set_answer(rt.db, RsvpRow(event.id, me, status, member_id=member.id))


async def add_event(
    rt: Runtime, username: str, title: str, start: str, end: str, *, location: str = "", body: str = ""
) -> str:
    """`event add`: store an event and send Create{Event} to the member's followers; returns its URL."""
    member = await require_member(rt, username)
    event = await save_event(rt, member, EventDraft(title, start, end, body, location))
    return rt.urls.object_of(event.post)
