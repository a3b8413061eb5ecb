"""A member's notes that are not blog posts: a followers-only status of their own, and edits of their
comments and replies (as apps make them).

A blog post is public (its page is), so a status written for followers only is a note of its
own: delivered to the member's followers, never listed in the outbox nor served to a fetch,
and shown in apps to the member alone. Edits send an Update to everyone the Create reached,
and keep what the text said before (its edit history).
"""

from __future__ import annotations

import time
import uuid

import orjson

from ..activitypub import build
from ..activitypub.visibility import FOLLOWERS
from ..content import inert_text, render_markdown
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import Member
from ..runtime import Runtime
from ..store import activities, comments, deliveries, member_notes, search, status_edits
from .members import ensure_key
from .social import MAX_COMMENT, MAX_SUMMARY, Reply

__all__ = ["edit_reply", "send_note"]


def _check(reply: Reply) -> None:
    if not reply.body.strip():
        raise UserError("the text must not be empty", key="body_empty")
    if len(reply.body) > MAX_COMMENT:
        raise UserError(f"the text is longer than {MAX_COMMENT} characters", key="body_long")
    if len(reply.summary) > MAX_SUMMARY:
        raise UserError(f"the content warning is longer than {MAX_SUMMARY} characters", key="summary_long")


async def send_note(rt: Runtime, member: Member, reply: Reply) -> str:
    """A followers-only note of the member's own, sent to their followers; returns its id."""
    _check(reply)
    if reply.visibility != FOLLOWERS:
        raise UserError("a note of one's own that is not a post is for followers only")
    if not member.can_sign_in:
        raise UserError("this account cannot write", key="cannot_write")
    member = await ensure_key(rt, member)
    urls = rt.urls
    note_id = f"{urls.base}/notes/{uuid.uuid4().hex}"
    html = render_markdown(reply.body)
    summary = inert_text(reply.summary, MAX_SUMMARY) or None
    now = time.time()
    to, cc = build.addressing(FOLLOWERS, urls.followers(member.username), [])
    language = reply.language or rt.config.instance.language
    doc = build.comment_note(note_id, urls.actor(member.username), None, html, now, language, to, cc, (), summary)
    async with rt.db.transaction() as tx:
        await member_notes.add(
            tx, member.id, note_id, in_reply_to=None, visibility=FOLLOWERS, content_html=html, source=reply.body,
            summary=summary, language=reply.language or None, published=now,
        )  # fmt: skip
        await queue_activity(tx, build.create(doc), member.id, followers_of=member.id, listed=False)
    return note_id


async def edit_reply(rt: Runtime, member: Member, url: str, body: str, summary: str) -> None:
    """Change the text of the member's own comment or reply, and send Update{Note} where its Create went."""
    _check(Reply(body, summary=summary))
    create = await activities.create_of(rt.db, url)
    if create is None or create.member_id != member.id:
        raise UserError(f"not a comment or reply of {member.username}: {url}")
    html = render_markdown(body)
    cw = inert_text(summary, MAX_SUMMARY) or None
    comment_ref = await comments.by_ap_id(rt.db, url)
    note = await member_notes.by_ap_id(rt.db, url) if comment_ref is None else None
    if comment_ref is None and note is None:
        raise UserError(f"already deleted: {url}")
    sent = orjson.loads((await activities.latest_version(rt.db, url) or create).body)["object"]
    targets = await deliveries.targets_of(rt.db, create.id)
    async with rt.db.transaction() as tx:
        now = time.time()
        if comment_ref is not None:
            found = await comments.viewable(tx, [comment_ref.id], rt.policy, rt.urls, member.id)
            current = found.get(comment_ref.id)
            if current is None:
                raise UserError(f"not a comment of {member.username}: {url}")
            then = current.updated or current.published
            await status_edits.add(tx, "comment", current.id, current.content_html, current.summary, (), then)
            await comments.update_content(tx, current.id, html, cw, now, source=body)
            await search.index_comments(tx, [current.id])
        else:
            assert note is not None
            then = note.updated or note.published
            await status_edits.add(tx, "note", note.id, note.content_html, note.summary, (), then)
            now = await member_notes.update(tx, note.id, html, body, cw)
        sent.update(content=html, updated=build.iso(now), sensitive=bool(cw))
        sent["contentMap"] = {key: html for key in sent.get("contentMap") or {rt.config.instance.language: ""}}
        if cw:
            sent["summary"] = cw
        else:
            sent.pop("summary", None)
        await queue_activity(tx, build.update(sent, now), member.id, targets=targets, listed=create.listed)
