"""What members do towards the fediverse: follow, unfollow, comment; and their timeline."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import orjson

from ..activitypub import build
from ..activitypub.parse import ParseError, parse_note
from ..activitypub.visibility import DIRECT, FOLLOWERS, PUBLIC, SHOWN, VISIBILITIES
from ..content import inert_text, render_markdown
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..httpclient import FetchError
from ..models import Member
from ..runtime import Runtime
from ..store import activities, comments, deliveries, follows, member_notes, posts, remote_posts, search, tombstones
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from ..store.comments import CommentRef
from ..store.member_notes import MemberNote
from ..store.remote_posts import TimelinePost
from . import notifications
from .members import require_member
from .visibility import may_see_post

__all__ = ["MAX_COMMENT", "MAX_SUMMARY", "Reply", "comment", "delete_comment", "follow", "timeline", "unfollow"]

MAX_COMMENT = 20_000
MAX_SUMMARY = 500


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


@dataclass(frozen=True)
class Reply:
    """What a member writes in answer to something: the text (Markdown) and how it is shown."""

    body: str
    visibility: str = PUBLIC  # public | unlisted | followers | direct
    summary: str = ""  # a content warning
    language: str = ""


async def comment(rt: Runtime, directory: ActorDirectory, username: str, url: str, body: str | Reply) -> str:
    """Comment as a member on a local post or comment, or reply to a remote object; returns the comment URL.

    A public or unlisted answer is shown under the post; a followers-only or direct one is for
    its addressees alone (as a remote one is): never shown, listed or served to anyone else.
    """
    reply = body if isinstance(body, Reply) else Reply(body)
    member = await require_member(rt, username)
    if not reply.body.strip():
        raise UserError("--body must not be empty", key="comment_empty")
    if len(reply.body) > MAX_COMMENT:
        raise UserError(f"the comment is longer than {MAX_COMMENT} characters", key="comment_long")
    if reply.visibility not in VISIBILITIES:
        raise UserError(f"unknown visibility {reply.visibility!r}")
    if len(reply.summary) > MAX_SUMMARY:
        raise UserError(f"the content warning is longer than {MAX_SUMMARY} characters", key="summary_long")
    html = render_markdown(reply.body)
    own_note = await member_notes.by_ap_id(rt.db, url) if rt.urls.is_local(url) else None
    if own_note is not None:
        return await _reply_to_note(rt, directory, member.id, member.username, own_note, html, reply)
    # A remote reply stored under one of our posts is answered in that thread, too.
    if rt.urls.is_local(url) or await comments.by_ap_id(rt.db, url) is not None:
        return await _comment_local(rt, member, url, html, reply)
    return await _reply_remote(rt, directory, member.id, member.username, url, html, reply)


def _summary(reply: Reply) -> str | None:
    return inert_text(reply.summary, MAX_SUMMARY) or None


async def _comment_local(rt: Runtime, member: Member, url: str, html: str, reply: Reply) -> str:
    """A comment under a local post: federated when the post is public; under a post in a
    members-only group, stored for the group's members only (nothing is sent, whatever its visibility)."""
    urls = rt.urls
    member_id, username = member.id, member.username
    event_id = urls.event_id(url)
    post_id = urls.post_id(url) if event_id is None else event_id
    parent: CommentRef | None = None
    if post_id is None:
        parent = await comments.by_ap_id(rt.db, url)
        # A followers-only or direct reply is its addressees' alone: never answered in public.
        if parent is None or await comments.by_id(rt.db, parent.id, urls) is None:
            raise UserError(f"there is no post or comment at {url} on this instance", key="no_such_post")
        post_id = parent.post_id
    post = await posts.by_id(rt.db, post_id)
    if post is None or (parent is None and post.is_event != (event_id is not None)):  # /posts/ID of an event...
        missing = "no_such_event" if event_id is not None else "no_such_post"
        raise UserError(
            f"there is no {'event' if event_id is not None else 'post'} at {url} on this instance", key=missing
        )
    if post.deleted_at is not None:
        raise UserError(f"post was deleted: {url}", key="post_deleted")
    if post.is_draft or not await may_see_post(rt.db, post, member):
        raise UserError(f"there is no post at {url} on this instance", key="no_such_post")
    me = urls.actor(username)
    mentions: list[tuple[str, str]] = []
    targets: list[tuple[str, str, str | None]] = []
    if parent is not None and parent.member_id is None:
        author = await actor_store.by_uri(rt.db, parent.author_uri)
        if author is not None:
            mentions.append((author.uri, author.handle))
            targets.append(_target(author))
    shown = reply.visibility in SHOWN
    # A comment shown under the post reaches the post author's followers, as the post did;
    # a followers-only one the commenter's own followers; a direct one only whom it names.
    followers_of = post.member_id if shown else member_id if reply.visibility == FOLLOWERS else None
    followers_owner = post.username if shown else username
    to, cc = build.addressing(reply.visibility, urls.followers(followers_owner), [uri for uri, _ in mentions])
    summary = _summary(reply)
    now = time.time()
    async with rt.db.transaction() as tx:
        placeholder = f"urn:uuid:{uuid.uuid4()}"
        comment_id = await comments.add(
            tx, ap_id=placeholder, url=None, post_id=post.id, parent_id=parent.id if parent else None,
            author_uri=me, member_id=member_id, domain=urls.hostname, content_html=html,
            summary=summary, published=now, visibility=reply.visibility, source=reply.body,
            language=reply.language or None,
        )  # fmt: skip
        assert comment_id is not None
        ap_id = urls.comment(comment_id)
        await comments.set_ap_id(tx, comment_id, ap_id)
        await search.index_comments(tx, [comment_id])
        await notifications.on_local_comment(
            tx, rt, member_id, post, parent, comment_id, html, content_html=None if shown else html
        )
        if post.is_public:
            language = reply.language or rt.config.instance.language
            note = build.comment_note(ap_id, me, url, html, now, language, to, cc, mentions, summary)
            await queue_activity(
                tx, build.create(note), member_id, followers_of=followers_of, targets=targets, listed=shown
            )
    return ap_id


async def _reply_remote(
    rt: Runtime, directory: ActorDirectory, member_id: int, username: str, url: str, html: str, reply: Reply
) -> str:
    try:
        note = parse_note(await directory.fetch_document(url))
        author = await directory.get(note.attributed_to)
    except FetchError as exc:
        raise UserError(f"cannot fetch {url}: {exc.reason}", key="cannot_fetch") from None
    except ParseError as exc:
        raise UserError(f"{url} is not something to reply to: {exc}", key="cannot_reply") from None
    return await _send_reply(rt, member_id, username, note.id, author, html, reply)


async def _reply_to_note(
    rt: Runtime, directory: ActorDirectory, member_id: int, username: str, note: MemberNote, html: str, reply: Reply
) -> str:
    """An answer to a member's own note (a thread of their own on another server's conversation):
    it names the author of what that note answered, when that is known here."""
    if note.visibility not in SHOWN and note.member_id != member_id:
        raise UserError(f"not a post or comment on this instance: {note.ap_id}")
    owner = await remote_posts.owner(rt.db, note.in_reply_to) if note.in_reply_to else None
    try:
        author = await directory.get(owner) if owner is not None else None
    except FetchError:
        author = None
    return await _send_reply(rt, member_id, username, note.ap_id, author, html, reply)


async def _send_reply(
    rt: Runtime, member_id: int, username: str, in_reply_to: str, author: ActorRecord | None, html: str, reply: Reply
) -> str:
    """A member's note answering something on another server (or their own note there), sent to its author
    (when known) and, unless direct, to the member's followers; kept as theirs (store.member_notes)."""
    urls = rt.urls
    me = urls.actor(username)
    note_id = f"{urls.base}/notes/{uuid.uuid4().hex}"
    named = [(author.uri, author.handle)] if author is not None else []
    if reply.visibility == DIRECT and not named:
        raise UserError("a direct answer needs someone to go to, and who wrote this is not known here")
    to, cc = build.addressing(reply.visibility, urls.followers(username), [uri for uri, _ in named])
    summary = _summary(reply)
    now = time.time()
    language = reply.language or rt.config.instance.language
    doc = build.comment_note(note_id, me, in_reply_to, html, now, language, to, cc, named, summary)
    followers_of = None if reply.visibility == DIRECT else member_id
    async with rt.db.transaction() as tx:
        await member_notes.add(
            tx, member_id, note_id, in_reply_to=in_reply_to, visibility=reply.visibility, content_html=html,
            source=reply.body, summary=summary, language=reply.language or None, published=now,
        )  # fmt: skip
        await queue_activity(
            tx, build.create(doc), member_id, followers_of=followers_of,
            targets=[_target(author)] if author is not None else [], listed=reply.visibility in SHOWN,
        )  # fmt: skip
    return note_id


async def timeline(rt: Runtime, username: str, limit: int = 50) -> list[TimelinePost]:
    """Posts received from the actors a member follows, newest first."""
    member = await require_member(rt, username)
    return await remote_posts.timeline_page(rt.db, member.id, limit)


async def delete_comment(rt: Runtime, url: str) -> str:
    """Delete a member's own comment or remote reply, sending Delete to everyone who got the Create."""
    create = await activities.create_of(rt.db, url)
    if create is None and await _delete_unsent(rt, url):
        return url
    if create is None or create.member_id is None:
        raise UserError(
            f"not a post or comment of a member on this instance: {url}",
            key="not_a_members_writing",
            values={"url": url},
        )
    if await activities.is_deleted(rt.db, url):
        raise UserError(f"already deleted: {url}", key="already_deleted", values={"url": url})
    sent = orjson.loads(create.body)
    actor = sent["actor"]
    targets = await deliveries.targets_of(rt.db, create.id)
    async with rt.db.transaction() as tx:
        row = await comments.by_ap_id(tx, url)
        if row is not None:
            await search.remove_comments(tx, [row.id])
            await comments.delete(tx, row.id)
        note = await member_notes.by_ap_id(tx, url)
        if note is not None:
            await member_notes.delete(tx, note.id)
        await tombstones.add(tx, url, actor)
        await notifications.forget_activity(tx, url, actor)  # the reply notifications it made
        activity = build.delete(actor, url, sent.get("to", []), sent.get("cc", []))
        await queue_activity(tx, activity, create.member_id, targets=targets, listed=create.listed)
    return url


async def _delete_unsent(rt: Runtime, url: str) -> bool:
    """Delete a member's comment that was never sent (under a members-only post): nobody to tell."""
    row = await comments.by_ap_id(rt.db, url)
    if row is None or row.member_id is None:
        return False
    async with rt.db.transaction() as tx:
        await search.remove_comments(tx, [row.id])
        await comments.delete(tx, row.id)
    return True
