"""What remote activity tells a member: replies, mentions, likes, boosts and follows become notifications.

Only activities of remote actors arrive here, so the actor is never the member notified.
The follow handlers call `record` (kinds "follow" and "follow_request").

A note that is not for everyone (followers-only or direct) is told only to the members it is
addressed to, with its text (`on_private`): it is shown nowhere else.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ...activitypub.parse import RemoteNote
from ...content import inert_text
from ...notices import KINDS, excerpt_of
from ...store import members
from ...store import notifications as store
from ...store.actors import ActorRecord
from ...store.db import Executor
from ...store.reply_targets import ReplyTarget
from .context import Context

__all__ = ["forget", "on_mentions", "on_private", "on_reaction", "on_reply", "record", "repliers"]

MAX_ADDRESSEES = 200  # members looked up per private note


async def record(
    tx: Executor,
    member_id: int,
    kind: str,
    actor: ActorRecord,
    object_url: str,
    activity_id: str | None = None,
    content_html: str | None = None,
    *,
    subject: str | None = None,
    excerpt: str | None = None,
    pending: list[store.NewNotification] | None = None,
) -> bool:
    """Notify a member of what a remote actor did (with the text of a private note, the title of the
    post concerned and an excerpt of what was said); False when it was notified before. With
    `pending` (a run of the inbox worker) it is added there, to be written with the run's others
    (still once per activity, member and kind), and True."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    name = inert_text(actor.name, 100) or inert_text(actor.handle, 100)
    # Both become links on the page and in mail: only http(s), whatever a remote server sent.
    actor_url = actor.url if actor.url and _is_http(actor.url) else actor.uri
    link = object_url if _is_http(object_url) else actor_url
    if pending is not None and activity_id is not None:
        pending.append(
            store.NewNotification(
                member_id, kind, actor.uri, name, actor_url, link, activity_id, content_html, subject, excerpt
            )
        )
        return True
    return await store.add(
        tx, member_id, kind, actor.uri, name, actor_url, link, activity_id, content_html, subject=subject,
        excerpt=excerpt,
    )  # fmt: skip


def _is_http(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


async def on_reply(ctx: Context, note: RemoteNote, target: ReplyTarget, comment_id: int, html: str) -> set[int]:
    """A remote comment was stored: its post's author and the author of the comment it answers hear of it,
    with the post's title and the beginning of the comment."""
    told: set[int] = set()
    if target.post_id is None:
        return told
    link = ctx.rt.urls.comment_on_page(target.post_id, comment_id)
    for member_id in (target.parent_member_id, target.post_member_id):
        if member_id is not None and member_id not in told:
            told.add(member_id)
            await record(
                ctx.tx, member_id, "reply", ctx.actor, link, note.id, subject=target.post_title,
                excerpt=excerpt_of(html), pending=ctx.pending,
            )  # fmt: skip
    return told


async def on_mentions(
    ctx: Context,
    note: RemoteNote,
    html: str,
    link: str | None = None,
    skip: set[int] | None = None,
    subject: str | None = None,
) -> None:
    """Members named in a note's Mention tags (but not those told of it as a reply)."""
    for tag in note.tags[:50]:
        if tag.type != "Mention" or not tag.href:
            continue
        username = ctx.rt.urls.username(tag.href)
        member = await members.by_username(ctx.tx, username) if username else None
        if member is not None and member.id not in (skip or set()):
            await record(
                ctx.tx, member.id, "mention", ctx.actor, link or note.url or note.id, note.id, subject=subject,
                excerpt=excerpt_of(html),
            )  # fmt: skip


async def on_private(
    ctx: Context,
    note: RemoteNote,
    audience: tuple[str, ...],
    html: str,
    link: str,
    repliers: set[int],
    subject: str | None = None,
) -> None:
    """A followers-only or direct note: each member in its audience (`to` + `cc`) is told, with its
    sanitised text; as a reply when it answers their post or comment (`repliers`), else as a mention."""
    told: set[int] = set()
    for uri in audience[:MAX_ADDRESSEES]:
        username = ctx.rt.urls.username(uri)
        member = await members.by_username(ctx.tx, username) if username else None
        if member is None or member.id in told:
            continue
        told.add(member.id)
        kind = "reply" if member.id in repliers else "mention"
        await record(ctx.tx, member.id, kind, ctx.actor, link, note.id, content_html=html, subject=subject)


def repliers(target: ReplyTarget) -> set[int]:
    """The members a reply answers: the post's author and the author of the comment it names."""
    return {m for m in (target.parent_member_id, target.post_member_id) if m is not None}


async def on_reaction(ctx: Context, kind: str, post_id: int, member_id: int, title: str) -> None:
    """A Like ("like") or Announce ("boost") of a member's post (with its title)."""
    await record(ctx.tx, member_id, kind, ctx.actor, ctx.rt.urls.post(post_id), ctx.activity.id, subject=title)


async def forget(tx: Executor, activity_id: str, actor_uri: str) -> None:
    """Undo of a Like or Announce (or Follow): its notification goes away."""
    await store.forget_activity(tx, activity_id, actor_uri)
