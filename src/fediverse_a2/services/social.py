"""What members do towards the fediverse: follow, unfollow, comment; and their timeline."""

from __future__ import annotations

import time
import uuid

import orjson

from ..activitypub import build
from ..activitypub.parse import ParseError, parse_note
from ..content import render_markdown
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..httpclient import FetchError
from ..runtime import Runtime
from ..store import activities, comments, deliveries, follows, posts, remote_posts, search, tombstones
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from ..store.comments import CommentRef
from ..store.remote_posts import TimelinePost
from . import notifications
from .members import require_member

__all__ = ["comment", "follow", "timeline", "unfollow"]

MAX_COMMENT = 20_000


def _target(actor: ActorRecord) -> tuple[str, str, str | None]:
    """A delivery target for one actor: the shared inbox when it has one."""
    return (actor.delivery_inbox, actor.domain, None if actor.shared_inbox else actor.uri)


async def follow(rt: Runtime, directory: ActorDirectory, username: str, handle_or_url: str) -> str:
    """Send a Follow from a member to a remote actor; returns the actor's id."""
    member = await require_member(rt, username)
    actor = await directory.resolve(handle_or_url)
    if rt.urls.is_local(actor.uri):
        raise UserError("that actor is on this instance", key="follow_local")
    me = rt.urls.actor(member.username)
    activity = build.follow(f"{me}#follows/{uuid.uuid4().hex}", me, actor.uri)
    async with rt.db.transaction() as tx:
        await follows.add_following(tx, member.id, actor.uri, activity["id"])
        # The Follow goes to the personal inbox, as Mastodon sends it.
        await queue_activity(tx, activity, member.id, targets=[(actor.inbox, actor.domain, actor.uri)])
    return actor.uri


async def unfollow(rt: Runtime, directory: ActorDirectory, username: str, handle_or_url: str) -> str:
    """Send Undo{Follow} and forget the follow; returns the actor's id."""
    member = await require_member(rt, username)
    actor = await directory.resolve(handle_or_url)
    me = rt.urls.actor(member.username)
    async with rt.db.transaction() as tx:
        row = await follows.remove_following(tx, member.id, actor.uri)
        if row is None:
            raise UserError(f"{username} does not follow {actor.handle}", key="not_following")
        inner = build.follow(row.follow_id, me, actor.uri)
        undo = build.undo(f"{me}#undo/{uuid.uuid4().hex}", me, inner)
        await queue_activity(tx, undo, member.id, targets=[(actor.inbox, actor.domain, actor.uri)])
    return actor.uri


async def comment(rt: Runtime, directory: ActorDirectory, username: str, url: str, body: str) -> str:
    """Comment as a member on a local post or comment, or reply to a remote object; returns the comment URL."""
    member = await require_member(rt, username)
    if not body.strip():
        raise UserError("--body must not be empty", key="comment_empty")
    if len(body) > MAX_COMMENT:
        raise UserError(f"the comment is longer than {MAX_COMMENT} characters", key="comment_long")
    html = render_markdown(body)
    # A remote reply stored under one of our posts is answered in that thread, too.
    if rt.urls.is_local(url) or await comments.by_ap_id(rt.db, url) is not None:
        return await _comment_local(rt, member.id, member.username, url, html)
    return await _reply_remote(rt, directory, member.id, member.username, url, html)


async def _comment_local(rt: Runtime, member_id: int, username: str, url: str, html: str) -> str:
    urls = rt.urls
    event_id = urls.event_id(url)
    post_id = urls.post_id(url) if event_id is None else event_id
    parent: CommentRef | None = None
    if post_id is None:
        parent = await comments.by_ap_id(rt.db, url)
        # A followers-only or direct reply is its addressees' alone: never answered in public.
        if parent is None or await comments.by_id(rt.db, parent.id, urls) is None:
            raise UserError(f"there is no post or comment at {url} on this instance")
        post_id = parent.post_id
    post = await posts.by_id(rt.db, post_id)
    if post is None or (parent is None and post.is_event != (event_id is not None)):  # /posts/ID of an event...
        raise UserError(f"there is no {'event' if event_id is not None else 'post'} at {url} on this instance")
    if post.deleted_at is not None:
        raise UserError(f"post was deleted: {url}", key="post_deleted")
    me = urls.actor(username)
    cc = [urls.followers(post.username)]
    mentions: list[tuple[str, str]] = []
    targets: list[tuple[str, str, str | None]] = []
    if parent is not None and parent.member_id is None:
        author = await actor_store.by_uri(rt.db, parent.author_uri)
        if author is not None:
            cc.append(author.uri)
            mentions.append((author.uri, author.handle))
            targets.append(_target(author))
    now = time.time()
    async with rt.db.transaction() as tx:
        placeholder = f"urn:uuid:{uuid.uuid4()}"
        comment_id = await comments.add(
            tx,
            ap_id=placeholder,
            url=None,
            post_id=post.id,
            parent_id=parent.id if parent else None,
            author_uri=me,
            member_id=member_id,
            domain=urls.hostname,
            content_html=html,
            summary=None,
            published=now,
        )
        assert comment_id is not None
        ap_id = urls.comment(comment_id)
        await comments.set_ap_id(tx, comment_id, ap_id)
        await search.index_comments(tx, [comment_id])
        await notifications.on_local_comment(tx, rt, member_id, post, parent, comment_id, html)
        note = build.comment_note(ap_id, me, url, html, now, rt.config.instance.language, [build.PUBLIC], cc, mentions)
        await queue_activity(tx, build.create(note), member_id, followers_of=post.member_id, targets=targets)
    return ap_id


async def _reply_remote(
    rt: Runtime, directory: ActorDirectory, member_id: int, username: str, url: str, html: str
) -> str:
    try:
        note = parse_note(await directory.fetch_document(url))
        author = await directory.get(note.attributed_to)
    except FetchError as exc:
        raise UserError(f"cannot fetch {url}: {exc.reason}", key="cannot_fetch") from None
    except ParseError as exc:
        raise UserError(f"{url} is not something to reply to: {exc}", key="cannot_reply") from None
    urls = rt.urls
    me = urls.actor(username)
    note_id = f"{urls.base}/notes/{uuid.uuid4().hex}"
    doc = build.comment_note(
        note_id,
        me,
        note.id,
        html,
        time.time(),
        rt.config.instance.language,
        [build.PUBLIC],
        [author.uri, urls.followers(username)],
        [(author.uri, author.handle)],
    )
    async with rt.db.transaction() as tx:
        await queue_activity(tx, build.create(doc), member_id, followers_of=member_id, targets=[_target(author)])
    return note_id


async def timeline(rt: Runtime, username: str, limit: int = 50) -> list[TimelinePost]:
    """Posts received from the actors a member follows, newest first."""
    member = await require_member(rt, username)
    return await remote_posts.timeline_page(rt.db, member.id, limit)


async def delete_comment(rt: Runtime, url: str) -> str:
    """Delete a member's own comment or remote reply, sending Delete to everyone who got the Create."""
    create = await activities.create_of(rt.db, url)
    if create is None or create.member_id is None:
        raise UserError(f"not a post or comment of a member on this instance: {url}")
    if await activities.is_deleted(rt.db, url):
        raise UserError(f"already deleted: {url}")
    sent = orjson.loads(create.body)
    actor = sent["actor"]
    targets = await deliveries.targets_of(rt.db, create.id)
    async with rt.db.transaction() as tx:
        row = await comments.by_ap_id(tx, url)
        if row is not None:
            await search.remove_comments(tx, [row.id])
            await comments.delete(tx, row.id)
        await tombstones.add(tx, url, actor)
        activity = build.delete(actor, url, sent.get("to", []), sent.get("cc", []))
        await queue_activity(tx, activity, create.member_id, targets=targets)
    return url
