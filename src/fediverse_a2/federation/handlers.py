"""One small handler per activity type, found through a dispatch table.

A handler runs inside the inbox worker's transaction for one activity. Anything that needs
the network (fetching an object that came only as an id, refreshing a profile) is done
before the transaction, in `prepare`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ..activitypub import build
from ..activitypub.parse import Activity, ParseError, RemoteNote, parse_note, same_origin
from ..content import inert_text, sanitise_remote_html
from ..runtime import Runtime
from ..store import actors as actor_store
from ..store import comments, follows, members, posts, tombstones
from ..store.actors import ActorRecord
from ..store.db import Executor
from .outbox import queue_activity
from .policy import host_of

__all__ = ["HANDLERS", "Context", "dispatch"]


class Rejected(Exception):
    """The activity is refused for good (forged, malformed); the reason is logged."""


@dataclass
class Context:
    rt: Runtime
    tx: Executor
    activity: Activity
    actor: ActorRecord
    # Filled by prepare(): an object fetched from its origin when it came only as an id.
    fetched: dict[str, Any] | None = None
    fresh_actor: ActorRecord | None = None
    notes: list[str] = field(default_factory=list)


def parse_time(value: str | None, default: float | None = None) -> float | None:
    """An ISO 8601 timestamp as epoch seconds; `default` when absent or unparseable."""
    if not value:
        return default
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _object(ctx: Context) -> dict[str, Any] | None:
    obj = ctx.activity.object
    if isinstance(obj, dict):
        return obj
    return ctx.fetched


def _note(ctx: Context) -> RemoteNote:
    obj = _object(ctx)
    if obj is None:
        raise Rejected("object not embedded and not fetched")
    try:
        note = parse_note(obj)
    except ParseError as exc:
        raise Rejected(f"unusable object: {exc}") from None
    # The origin checks that CVE-2024-23832 was about: the object must live on the
    # actor's host and be attributed to the actor that signed the activity.
    if not same_origin(note.id, ctx.actor.uri):
        raise Rejected("object id is not on the actor's host")
    if note.attributed_to != ctx.actor.uri:
        raise Rejected("attributedTo is not the signing actor")
    return note


async def _local_parent(ctx: Context, url: str) -> tuple[int, int | None] | None:
    """(post id, parent comment id) when url is a live local post or a comment under one."""
    urls = ctx.rt.urls
    post_id = urls.post_id(url)
    if post_id is not None:
        post = await posts.by_id(ctx.tx, post_id)
        return (post_id, None) if post is not None and post.deleted_at is None else None
    row = await comments.by_ap_id(ctx.tx, url)
    if row is not None:
        return row["post_id"], row["id"]
    return None


async def on_create(ctx: Context) -> None:
    """Create{Note}: a reply to a local post or comment becomes a comment; posts of followed actors are kept."""
    note = _note(ctx)
    if await tombstones.exists(ctx.tx, note.id):
        ctx.notes.append("object was deleted before; ignored")
        return
    html = sanitise_remote_html(note.content)
    summary = inert_text(note.summary, 500) or None
    published = parse_time(note.published, time.time())
    parent = await _local_parent(ctx, note.in_reply_to) if note.in_reply_to else None
    if parent is not None:
        post_id, parent_id = parent
        await comments.add(
            ctx.tx, ap_id=note.id, url=note.url, post_id=post_id, parent_id=parent_id,
            author_uri=ctx.actor.uri, member_id=None, domain=ctx.actor.domain,
            content_html=html, summary=summary, published=published or time.time(),
            updated=parse_time(note.updated),
        )
        return
    if await follows.is_following(ctx.tx, ctx.actor.uri):
        await ctx.tx.execute(
            """INSERT INTO remote_posts (ap_id, actor_uri, content_html, summary, url, in_reply_to, published, received_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ap_id) DO NOTHING""",
            (note.id, ctx.actor.uri, html, summary, note.url, note.in_reply_to, published, time.time()),
        )
        return
    ctx.notes.append("not a reply to us and not from a followed actor; ignored")


async def on_update(ctx: Context) -> None:
    """Update{Note} from its author edits the comment; Update{Person} refreshes the profile."""
    obj = _object(ctx)
    kind = obj.get("type") if obj else None
    if kind in ("Person", "Service", "Application", "Group", "Organization"):
        # prepare() refetched the actor from its origin; never trust the embedded copy.
        return
    note = _note(ctx)
    if note.updated is None:
        ctx.notes.append("Update without `updated`; ignored as Mastodon does")
        return
    updated = parse_time(note.updated, time.time()) or time.time()
    html = sanitise_remote_html(note.content)
    summary = inert_text(note.summary, 500) or None
    row = await comments.by_ap_id(ctx.tx, note.id)
    if row is not None:
        if row["author_uri"] != ctx.actor.uri:
            raise Rejected("Update of a comment by someone other than its author")
        await comments.update_content(ctx.tx, row["id"], html, summary, updated)
        return
    await ctx.tx.execute(
        "UPDATE remote_posts SET content_html = ?, summary = ?, updated = ? WHERE ap_id = ? AND actor_uri = ?",
        (html, summary, updated, note.id, ctx.actor.uri),
    )


async def on_delete(ctx: Context) -> None:
    """Delete of a comment (by its author), of a followed actor's post, or of the actor itself."""
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
    if row is not None and row["author_uri"] != actor:
        raise Rejected("Delete of a comment by someone other than its author")
    # Remember the tombstone first, so a Create that arrives late stays deleted.
    await tombstones.add(ctx.tx, object_id, actor)
    if row is not None:
        await comments.delete(ctx.tx, row["id"])
    await ctx.tx.execute("DELETE FROM remote_posts WHERE ap_id = ? AND actor_uri = ?", (object_id, actor))


async def _forget_actor(tx: Executor, actor: str) -> None:
    await follows.remove_actor(tx, actor)
    await tx.execute("DELETE FROM following WHERE actor_uri = ?", (actor,))
    for row in await tx.fetchall("SELECT id FROM comments WHERE author_uri = ?", (actor,)):
        await comments.delete(tx, row["id"])
    await tx.execute("DELETE FROM remote_posts WHERE actor_uri = ?", (actor,))
    await tx.execute("DELETE FROM reactions WHERE actor_uri = ?", (actor,))
    await actor_store.delete(tx, actor)


async def on_follow(ctx: Context) -> None:
    """Follow of a member: store the follower and queue a signed Accept."""
    target = ctx.activity.object_id
    username = ctx.rt.urls.username(target) if target else None
    member = await members.by_username(ctx.tx, username) if username else None
    if member is None:
        ctx.notes.append("Follow of something that is not a member; ignored")
        return
    actor = ctx.actor
    # Deliveries go to these inboxes: never to a domain the policy refuses, whatever the
    # actor's own domain is. A shared inbox elsewhere is dropped, a personal one refuses.
    if not _inbox_allowed(ctx.rt, actor.inbox):
        raise Rejected("the actor's inbox is on a domain this instance does not federate with")
    shared = actor.shared_inbox if actor.shared_inbox and _inbox_allowed(ctx.rt, actor.shared_inbox) else None
    await follows.add_follower(ctx.tx, member.id, actor.uri, actor.inbox, shared, actor.domain, ctx.activity.id)
    member_uri = ctx.rt.urls.actor(member.username)
    accept = build.accept(f"{member_uri}#accepts/{uuid.uuid4().hex}", member_uri, ctx.activity.raw)
    await queue_activity(ctx.tx, accept, member.id, targets=[(actor.inbox, actor.domain, actor.uri)])


def _inbox_allowed(rt: Runtime, url: str) -> bool:
    try:
        return rt.policy.is_allowed(host_of(url))
    except ValueError:
        return False


async def on_undo(ctx: Context) -> None:
    """Undo of a Follow, Like or Announce by the same actor."""
    inner = ctx.activity.object
    inner_id = ctx.activity.object_id
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    inner_actor = inner.get("actor") if isinstance(inner, dict) else None
    if isinstance(inner_actor, dict):
        inner_actor = inner_actor.get("id")
    if inner_actor is not None and inner_actor != ctx.actor.uri:
        raise Rejected("Undo of another actor's activity")
    if inner_type == "Follow" or (inner_type is None and inner_id):
        target = inner.get("object") if isinstance(inner, dict) else None
        username = ctx.rt.urls.username(target) if isinstance(target, str) else None
        if username:
            member = await members.by_username(ctx.tx, username)
            if member is not None:
                await follows.remove_follower(ctx.tx, member.id, ctx.actor.uri)
        elif inner_id:
            await ctx.tx.execute(
                "DELETE FROM followers WHERE follow_id = ? AND actor_uri = ?", (inner_id, ctx.actor.uri)
            )
    if inner_type in ("Like", "Announce", None) and inner_id:
        await ctx.tx.execute(
            "DELETE FROM reactions WHERE activity_id = ? AND actor_uri = ?", (inner_id, ctx.actor.uri)
        )
        if isinstance(inner, dict) and inner_type:
            target = inner.get("object")
            target_id = target.get("id") if isinstance(target, dict) else target
            post_id = ctx.rt.urls.post_id(target_id) if isinstance(target_id, str) else None
            if post_id is not None:
                await ctx.tx.execute(
                    "DELETE FROM reactions WHERE kind = ? AND actor_uri = ? AND post_id = ?",
                    (inner_type.lower(), ctx.actor.uri, post_id),
                )


async def _react(ctx: Context, kind: str) -> None:
    target = ctx.activity.object_id
    post_id = ctx.rt.urls.post_id(target) if target else None
    if post_id is None or ctx.activity.id is None:
        return
    post = await posts.by_id(ctx.tx, post_id)
    if post is None or post.deleted_at is not None:
        return
    await ctx.tx.execute(
        "INSERT INTO reactions (activity_id, kind, actor_uri, post_id, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (ctx.activity.id, kind, ctx.actor.uri, post_id, time.time()),
    )


async def on_like(ctx: Context) -> None:
    """Like of a post: count it."""
    await _react(ctx, "like")


async def on_announce(ctx: Context) -> None:
    """Announce (boost) of a post: count it."""
    await _react(ctx, "announce")


async def on_accept(ctx: Context) -> None:
    """Accept{Follow} of one of our follows."""
    follow_id = ctx.activity.object_id
    row = await follows.following_by_follow_id(ctx.tx, follow_id) if follow_id else None
    if row is None or row["actor_uri"] != ctx.actor.uri:
        ctx.notes.append("Accept of an unknown follow; ignored")
        return
    await follows.set_following_state(ctx.tx, row["id"], "accepted")


async def on_reject(ctx: Context) -> None:
    """Reject{Follow}: the remote actor refused our follow."""
    follow_id = ctx.activity.object_id
    row = await follows.following_by_follow_id(ctx.tx, follow_id) if follow_id else None
    if row is not None and row["actor_uri"] == ctx.actor.uri:
        await ctx.tx.execute("DELETE FROM following WHERE id = ?", (row["id"],))


async def on_flag(ctx: Context) -> None:
    """Flag: a report from another server, stored for the admin (`fediverse-a2 reports`)."""
    raw = ctx.activity.raw
    objects = raw.get("object")
    items = objects if isinstance(objects, list) else [objects]
    ids = [o.get("id") if isinstance(o, dict) else o for o in items[:100]]
    content = raw.get("content") if isinstance(raw.get("content"), str) else ""
    await ctx.tx.execute(
        "INSERT INTO reports (activity_id, actor_uri, content, objects, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (activity_id) DO NOTHING",
        (
            ctx.activity.id or f"urn:uuid:{uuid.uuid4()}",
            ctx.actor.uri,
            inert_text(content, 5000),
            orjson.dumps([i for i in ids if isinstance(i, str)]).decode(),
            time.time(),
        ),
    )


Handler = Callable[[Context], Awaitable[None]]
HANDLERS: dict[str, Handler] = {
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Follow": on_follow,
    "Undo": on_undo,
    "Like": on_like,
    "Announce": on_announce,
    "Accept": on_accept,
    "Reject": on_reject,
    "Flag": on_flag,
}


async def dispatch(ctx: Context) -> None:
    """Run the handler for the activity's type; other types are accepted and ignored."""
    handler = HANDLERS.get(ctx.activity.type)
    if handler is None:
        ctx.notes.append(f"{ctx.activity.type} ignored")
        return
    await handler(ctx)


def needs_object(activity: Activity) -> bool:
    """Whether prepare() must fetch the object because only its id was sent."""
    return activity.type in ("Create", "Update") and isinstance(activity.object, str)


def refreshes_actor(activity: Activity) -> bool:
    """Update{Person}: the profile is refetched from its origin before handling."""
    obj = activity.object
    return (
        activity.type == "Update"
        and isinstance(obj, dict)
        and obj.get("type") in ("Person", "Service", "Application", "Group", "Organization")
        and obj.get("id") == activity.actor
    )


def object_host(activity: Activity) -> str | None:
    """The host of the activity's object, for policy checks."""
    try:
        return host_of(activity.object_id) if activity.object_id else None
    except ValueError:
        return None
