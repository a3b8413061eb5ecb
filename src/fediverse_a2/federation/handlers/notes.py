"""Create, Update and Delete of notes: replies become comments, followed actors' posts (and events) are kept.

A note's visibility comes from its addressing (activitypub/visibility.py). A reply is stored
with it; only public and unlisted replies are shown, indexed, held for approval or told as
ordinary replies. A followers-only or direct note reaches the members it is addressed to as a
notification with its text, and a direct one is never kept for anyone's timeline.
"""

from __future__ import annotations

import time

from ...activitypub.events import parse_event
from ...activitypub.note_images import images_of
from ...activitypub.parse import ParseError, RemoteNote, parse_note
from ...activitypub.values import items_of
from ...activitypub.visibility import DIRECT, SHOWN, visibility_of
from ...content import inert_text, plain_text, sanitise_remote_html
from ...hosts import same_origin
from ...models import EVENT, POST
from ...notices import excerpt_of
from ...store import actors as actor_store
from ...store import comments, follows, reactions, remote_posts, search, tombstones
from ...store import notifications as notification_store
from ...store.db import Executor
from ...store.remote_posts import RemoteEvent
from ...store.reply_targets import ReplyTarget, reply_target
from . import notify
from .context import Context, Rejected, parse_time
from .groups import on_addressed, on_changed

__all__ = ["ACTOR_TYPES", "on_create", "on_delete", "on_update"]

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})


def _note(ctx: Context) -> RemoteNote:
    obj = ctx.object()
    if obj is None:
        raise Rejected("object not embedded and not fetched")
    try:
        # An object without attributedTo is the signing actor's; the checks below still hold.
        note = parse_note(obj, default_author=ctx.actor.uri)
    except ParseError as exc:
        raise Rejected(f"unusable object: {exc}") from None
    # The origin checks that CVE-2024-23832 was about: the object must live on the
    # actor's host and be attributed to the actor that signed the activity.
    if not same_origin(note.id, ctx.actor.uri):
        raise Rejected("object id is not on the actor's host")
    if note.attributed_to != ctx.actor.uri:
        raise Rejected("attributedTo is not the signing actor")
    return note


def _summary(note: RemoteNote) -> str | None:
    """The content warning as plain text: Mastodon sends it as text, others as HTML, some with entities."""
    return inert_text(plain_text(note.summary or ""), 500) or None


def _parts(ctx: Context, note: RemoteNote) -> comments.RemoteParts:
    """A reply's language and image attachments (sensitive or not), as its comment keeps them.

    Mastodon marks the note sensitive; Misskey marks each file: either hides the images.
    """
    obj = ctx.object() or {}
    marked = any(isinstance(item, dict) and item.get("sensitive") is True for item in items_of(obj.get("attachment")))
    return comments.RemoteParts(note.language, images_of(obj), note.sensitive or marked)


def _event_of(obj: dict | None) -> RemoteEvent | None:
    """The name, times and place of an incoming Event (None for a note, or an Event without a start)."""
    fields = parse_event(obj or {})
    starts_at = parse_time(fields.start) if fields is not None else None
    if fields is None or starts_at is None:
        return None
    ends_at = parse_time(fields.end)
    return RemoteEvent(fields.name, starts_at, ends_at if ends_at is not None and ends_at >= starts_at else None,
                       fields.location)  # fmt: skip


async def _target(ctx: Context, note: RemoteNote) -> ReplyTarget:
    """Where the note lands (a live local post or event, a comment under one, or nowhere),
    whether its actor deleted it before, and whether it is held: one statement."""
    in_reply_to = note.in_reply_to
    if not in_reply_to:
        return await reply_target(ctx.tx, note.id, ctx.actor.uri, post_id=None, parent_ap_id=None)
    event_id = ctx.rt.urls.event_id(in_reply_to)
    post_id = ctx.rt.urls.post_id(in_reply_to) if event_id is None else event_id
    return await reply_target(
        ctx.tx, note.id, ctx.actor.uri, post_id=post_id, parent_ap_id=in_reply_to if post_id is None else None,
        kind=POST if event_id is None else EVENT,
    )  # fmt: skip


def _audience(ctx: Context, note: RemoteNote) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(to, cc) of a note; a field the note leaves out is its activity's (Mastodon reads
    `object.to || activity.to`), unless a group or relay brought it (their addressing is theirs)."""
    obj = ctx.object() or {}
    to, cc = note.to, note.cc
    if ctx.via is None:
        if obj.get("to") is None:
            to = ctx.activity.to
        if obj.get("cc") is None:
            cc = ctx.activity.cc
    return to, cc


async def on_create(ctx: Context) -> None:
    """Create{Note}: a reply to a local post or comment becomes a comment; posts of followed actors are kept."""
    note = _note(ctx)
    target = await _target(ctx, note)
    if target.deleted:
        ctx.notes.append("object was deleted before by its actor; ignored")
        return
    html = sanitise_remote_html(note.content)
    summary = _summary(note)
    published = parse_time(note.published, time.time()) or time.time()
    to, cc = _audience(ctx, note)
    visibility = visibility_of(to, cc, ctx.actor.followers_url)
    shown = visibility in SHOWN
    await on_addressed(ctx, note, html)  # a post to one of our groups: the group may announce it
    if target.post_id is not None:
        post_id, parent_id = target.post_id, target.parent_id
        # Waits for approval; a reply shown to no one but its addressees needs none.
        held = shown and target.held
        state = comments.HELD if held else comments.VISIBLE
        parts = _parts(ctx, note)
        comment_id = await comments.add(
            ctx.tx, ap_id=note.id, url=note.url, post_id=post_id, parent_id=parent_id,
            author_uri=ctx.actor.uri, member_id=None, domain=ctx.actor.domain,
            content_html=html, summary=summary, published=published,
            updated=parse_time(note.updated), state=state, visibility=visibility,
            language=parts.language, images=parts.images, sensitive=parts.sensitive,
        )  # fmt: skip
        if comment_id is None or held:
            return
        title = target.post_title
        if not shown:
            repliers = notify.repliers(target)
            await notify.on_private(ctx, note, (*to, *cc), html, ctx.rt.urls.post(post_id), repliers, title)
            return
        await search.index_new_comment(ctx.tx, comment_id, post_id, summary, html, state=state, visibility=visibility)
        told = await notify.on_reply(ctx, note, target, comment_id, html)
        link = ctx.rt.urls.comment_on_page(post_id, comment_id)
        await notify.on_mentions(ctx, note, html, link, skip=told, subject=title)
        return
    if shown:
        await notify.on_mentions(ctx, note, html)
    else:
        await notify.on_private(ctx, note, (*to, *cc), html, note.url or note.id, set())
    if await follows.is_following(ctx.tx, ctx.actor.uri) or (ctx.via and await follows.is_following(ctx.tx, ctx.via)):
        if visibility == DIRECT:
            ctx.notes.append("a direct note is for its addressees only; not kept for the timeline")
            return
        await remote_posts.add(
            ctx.tx, ap_id=note.id, actor_uri=ctx.actor.uri, content_html=html, summary=summary,
            url=note.url, in_reply_to=note.in_reply_to, published=published,
            attachments=images_of(ctx.object() or {}), public=shown, event=_event_of(ctx.object()),
        )  # fmt: skip
        return
    ctx.notes.append("not a reply to us and not from a followed actor; ignored")


async def on_update(ctx: Context) -> None:
    """Update{Note} from its author edits the comment; Update{Person} refreshes the profile."""
    obj = ctx.object()
    if obj is not None and obj.get("type") in ACTOR_TYPES:
        # The worker refetched the actor from its origin; never trust the embedded copy.
        return
    note = _note(ctx)
    if note.updated is None:
        ctx.notes.append("Update without `updated`; ignored as Mastodon does")
        return
    updated = parse_time(note.updated, time.time()) or time.time()
    html = sanitise_remote_html(note.content)
    await on_changed(ctx, note.id)  # a group that announced it passes the Update on
    summary = _summary(note)
    # The notifications that quote it: a private note's text, the others' excerpt.
    await notification_store.update_text(ctx.tx, note.id, ctx.actor.uri, html, excerpt_of(html))
    row = await comments.by_ap_id(ctx.tx, note.id)
    if row is not None:
        if row.author_uri != ctx.actor.uri:
            raise Rejected("Update of a comment by someone other than its author")
        await comments.update_content(ctx.tx, row.id, html, summary, updated, remote=_parts(ctx, note))
        if await comments.state_of(ctx.tx, row.id) == comments.VISIBLE:  # held and hidden stay unsearchable
            await search.index_comments(ctx.tx, [row.id])
        return
    await remote_posts.update(
        ctx.tx, note.id, ctx.actor.uri, html, summary, updated, images_of(obj or {}), event=_event_of(obj)
    )


async def on_delete(ctx: Context) -> None:
    """Delete of one of the actor's own comments or posts, or of the actor itself.

    Nothing of another actor is ever touched: a comment or post by someone else with this
    id stays, and the tombstone left behind is this actor's alone.
    """
    object_id = ctx.activity.object_id
    if object_id is None:
        raise Rejected("Delete without an object id")
    actor = ctx.actor.uri
    if object_id == actor:
        await _forget_actor(ctx.tx, actor)
        return
    if not same_origin(object_id, actor):
        raise Rejected("Delete of an object on another host")
    row = await comments.by_ap_id(ctx.tx, object_id)
    if row is not None and row.author_uri != actor:
        raise Rejected("Delete of a comment by someone other than its author")
    # Remember the tombstone first, so a Create that arrives late stays deleted.
    await tombstones.add(ctx.tx, object_id, actor)
    await on_changed(ctx, object_id, deleted=True)
    await notify.forget(ctx.tx, object_id, actor)  # its reply or mention notifications
    if row is not None:
        await search.remove_comments(ctx.tx, [row.id])
        await comments.delete(ctx.tx, row.id)
    await remote_posts.delete(ctx.tx, object_id, actor)


async def _forget_actor(tx: Executor, actor: str) -> None:
    await follows.remove_actor(tx, actor)
    await follows.remove_following_of_actor(tx, actor)
    gone = await comments.ids_by_author(tx, actor)
    await search.remove_comments(tx, gone)
    for comment_id in gone:
        await comments.delete(tx, comment_id)
    await remote_posts.delete_by_actor(tx, actor)
    await reactions.delete_by_actor(tx, actor)
    await notification_store.forget_texts_of(tx, actor)
    await actor_store.delete(tx, actor)
