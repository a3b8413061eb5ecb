"""A member's notifications: reading them, their mail choices, what local comments notify, invitation mail.

What remote activity notifies is decided in federation/handlers/notify.py; the mail itself is
sent by the mail worker (mail/worker.py), never in a request.
"""

from __future__ import annotations

import re

from ..content import inert_text
from ..errors import UserError
from ..i18n import LANGUAGES
from ..mail.compose import invitation_mail
from ..models import Member, Post
from ..notices import GROUPS, MODES, MailSettings, Notification, excerpt_of
from ..runtime import Runtime
from ..store import members, outgoing_mail
from ..store import notifications as store
from ..store.comments import CommentRef
from ..store.db import Executor

__all__ = [
    "forget_activity",
    "mail_invitation",
    "mail_settings",
    "mark_read",
    "on_local_comment",
    "on_local_reaction",
    "page",
    "save_mail_settings",
    "unread_count",
    "valid_email",
]

# Enough to catch typos, and nothing that could end a header or add a recipient.
_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?\.[A-Za-z]{2,63}")


def valid_email(value: str) -> str:
    """A plausible address, trimmed; UserError otherwise."""
    value = value.strip()
    if len(value) > 320 or not _EMAIL.fullmatch(value):
        raise UserError("that is not an e-mail address", key="email_invalid")
    return value


async def page(rt: Runtime, member: Member, limit: int, offset: int = 0) -> list[Notification]:
    """A window of a member's notifications, newest first."""
    return await store.page(rt.db, member.id, limit, offset)


async def unread_count(rt: Runtime, member: Member) -> int:
    """How many notifications the member has not read."""
    return await store.unread_count(rt.db, member.id)


async def mark_read(rt: Runtime, member: Member, up_to_id: int | None = None) -> int:
    """Mark the member's notifications read (up to the newest one their page showed)."""
    return await store.mark_all_read(rt.db, member.id, up_to_id)


async def mail_settings(rt: Runtime, member: Member) -> MailSettings:
    """The member's mail choices."""
    return await store.get_settings(rt.db, member.id)


async def save_mail_settings(
    rt: Runtime, member: Member, modes: dict[str, str], language: str | None, email: str | None
) -> tuple[MailSettings, Member]:
    """Store the member's choices (and their address, when they had none); UserError for a bad value.

    Returns the choices and the member as now stored."""
    clean: dict[str, str] = {}
    for group in GROUPS:
        mode = modes.get(group)
        if mode not in MODES:
            raise UserError(f"unknown choice for {group}: {mode!r}", key="choice_unknown")
        clean[group] = mode
    if language not in (*LANGUAGES, None):
        raise UserError(f"unknown language {language!r}", key="language_unknown")
    address = valid_email(email) if email and email.strip() else None
    settings = MailSettings(modes=clean, language=language)
    async with rt.db.transaction() as tx:
        await store.put_settings(tx, member.id, settings)
        if address is not None and not member.email:
            await members.set_email(tx, member.id, address)
    return settings, await members.by_id(rt.db, member.id) or member


async def on_local_comment(
    tx: Executor,
    rt: Runtime,
    author_id: int,
    post: Post,
    parent: CommentRef | None,
    comment_id: int,
    html: str,
    content_html: str | None = None,
) -> None:
    """A member commented here: the post's author and the author of the answered comment hear of it (not
    oneself), with the post's title and the beginning of the comment.

    `content_html`: the text of a followers-only or direct comment, which the notification carries
    (shown nowhere else)."""
    author = await members.by_id(tx, author_id)
    if author is None:
        return
    owners = [parent.member_id if parent is not None else None, post.member_id]
    link = rt.urls.comment_on_page(post.id, comment_id)
    actor_uri = rt.urls.actor(author.username)
    name = inert_text(author.name, 100)
    told: set[int] = {author_id}
    for member_id in owners:
        if member_id is not None and member_id not in told:
            told.add(member_id)
            await store.add(
                tx, member_id, "reply", actor_uri, name, actor_uri, link, rt.urls.comment(comment_id), content_html,
                subject=post.heading, excerpt=excerpt_of(html),
            )  # fmt: skip


async def on_local_reaction(
    tx: Executor, rt: Runtime, actor: Member, member_id: int, kind: str, object_url: str, activity_id: str
) -> None:
    """A member liked ("like") or boosted ("boost") another member's post or comment: its author hears of it."""
    actor_uri = rt.urls.actor(actor.username)
    await store.add(tx, member_id, kind, actor_uri, inert_text(actor.name, 100), actor_uri, object_url, activity_id)


async def forget_activity(tx: Executor, activity_id: str, actor_uri: str) -> None:
    """A member took back what they did (a like, a boost, a comment): so go its notifications."""
    await store.forget_activity(tx, activity_id, actor_uri)


async def mail_invitation(rt: Runtime, member: Member, link: str, expires: float) -> bool:
    """Queue the invitation mail when mail is configured and the member has an address; True if queued."""
    if not rt.config.mail.enabled or not member.email:
        return False
    settings = await store.get_settings(rt.db, member.id)
    language = settings.language or rt.config.instance.language
    composed = invitation_mail(language, rt.config.instance.name, member.name, link, expires, rt.tz)
    await outgoing_mail.queue(rt.db, member.id, member.email, composed.subject, composed.text, composed.html)
    return True
