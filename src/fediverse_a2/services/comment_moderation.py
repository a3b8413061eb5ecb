"""Moderating comments: the approval queue, hide/unhide/delete, reports sent and received.

Who may do what: moderators (and admins) everything; a post's author may approve or
delete the comments held under their own posts. Every action lands in the audit log
in the same transaction as the change itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..activitypub.flag import flag
from ..errors import UserError
from ..federation.handlers import notify
from ..federation.outbox import queue_activity
from ..models import Comment, Member
from ..notices import excerpt_of
from ..runtime import Runtime
from ..store import actors as actor_store
from ..store import audit, comment_holds, comments, posts, reports, search, tombstones
from ..store.audit import AuditEntry
from ..store.db import Executor
from .social import delete_comment

__all__ = [
    "ACTIONS",
    "Permission",
    "apply",
    "audit_entries",
    "comments_in_state",
    "holds_comments",
    "permission",
    "queue_of",
    "report_comment",
    "resolve_report",
    "set_holds_comments",
]

# action -> (the states it applies to, the state it leads to; None: the comment is deleted)
ACTIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "approve": ((comments.HELD,), comments.VISIBLE),
    "hide": ((comments.VISIBLE, comments.HELD), comments.HIDDEN),
    "unhide": ((comments.HIDDEN,), comments.VISIBLE),
    "delete": (comments.STATES, None),
}
_AUTHOR_ACTIONS = frozenset({"approve", "delete"})  # what a post's author may do with held comments


@dataclass(frozen=True, slots=True)
class Permission:
    """What one member may do with one comment."""

    comment: Comment
    state: str
    actions: tuple[str, ...]
    moderator: bool

    @property
    def can_report(self) -> bool:
        """Remote comments can be reported to their server (by moderators)."""
        return self.moderator and not self.comment.local


async def permission(rt: Runtime, member: Member, comment_id: int) -> Permission | None:
    """The comment and what `member` may do with it; None when it does not exist or is none of theirs."""
    comment = await comments.by_id(rt.db, comment_id, rt.urls)
    state = await comments.state_of(rt.db, comment_id)
    if comment is None or state is None:
        return None
    possible = [name for name, (sources, _) in ACTIONS.items() if state in sources]
    if member.is_moderator:
        return Permission(comment, state, tuple(possible), True)
    if state == comments.HELD and await comments.post_author(rt.db, comment_id) == member.id:
        return Permission(comment, state, tuple(a for a in possible if a in _AUTHOR_ACTIONS), False)
    return None


async def apply(rt: Runtime, member: Member, comment_id: int, action: str) -> str:
    """Approve, hide, unhide or delete a comment; returns the new state ("deleted")."""
    allowed = await permission(rt, member, comment_id)
    if allowed is None or action not in allowed.actions:
        raise UserError(f"{action} is not possible for this comment", key="moderation_not_allowed")
    comment = allowed.comment
    target = ACTIONS[action][1]
    if target is None:
        await _delete(rt, member, comment)
        return "deleted"
    async with rt.db.transaction() as tx:
        await comments.set_state(tx, comment.id, target)
        if target == comments.VISIBLE:
            await search.index_comments(tx, [comment.id])
        else:
            await search.remove_comments(tx, [comment.id])
        await audit.record(tx, member.username, f"comment_{action}", comment.ap_id, comment.author.uri)
        if action == "approve":
            await _tell_of_approved(tx, rt, member, comment)
    return target


async def _tell_of_approved(tx: Executor, rt: Runtime, approver: Member, comment: Comment) -> None:
    """An approved comment is news now: the post's author and the author of the comment it
    answers get the reply notification it would have given on arrival (not the approver)."""
    actor = await actor_store.by_uri(tx, comment.author.uri)
    if actor is None:
        return
    post_author = await comments.post_author(tx, comment.id)
    parent_author = await comments.member_of(tx, comment.parent_id) if comment.parent_id else None
    link = rt.urls.comment_on_page(comment.post_id, comment.id)
    title = await posts.title_of(tx, comment.post_id)
    told = {approver.id}
    for member_id in (parent_author, post_author):
        if member_id is not None and member_id not in told:
            told.add(member_id)
            await notify.record(
                tx, member_id, "reply", actor, link, comment.ap_id, subject=title,
                excerpt=excerpt_of(comment.content_html),
            )  # fmt: skip


async def _delete(rt: Runtime, member: Member, comment: Comment) -> None:
    if comment.local:
        # A member's comment went out as a Create: its Delete goes to everyone who got it.
        await delete_comment(rt, comment.ap_id)
        async with rt.db.transaction() as tx:
            await audit.record(tx, member.username, "comment_delete", comment.ap_id, comment.author.uri)
        return
    async with rt.db.transaction() as tx:
        await search.remove_comments(tx, [comment.id])
        await comments.delete(tx, comment.id)
        # A tombstone keeps a Create delivered again (or fetched later) from bringing it back.
        await tombstones.add(tx, comment.ap_id, comment.author.uri)
        await audit.record(tx, member.username, "comment_delete", comment.ap_id, comment.author.uri)


async def comments_in_state(rt: Runtime, member: Member, state: str, limit: int = 200) -> list[Comment]:
    """The comments in a state that `member` moderates: all for moderators, else those under their posts."""
    if state not in comments.STATES:
        raise UserError(f"unknown state {state!r}")
    author = None if member.is_moderator else member.id
    return await comments.in_state(rt.db, state, rt.urls, limit, post_author_id=author)


async def queue_of(rt: Runtime, member: Member) -> tuple[list[Comment], list[Comment]]:
    """The held comments `member` may approve, and the hidden ones (for moderators; none for others)."""
    held = await comments_in_state(rt, member, comments.HELD)
    hidden = await comments_in_state(rt, member, comments.HIDDEN) if member.is_moderator else []
    return held, hidden


async def report_comment(rt: Runtime, member: Member, comment_id: int, reason: str) -> str:
    """Send a Flag of a remote comment (and its author) to the author's server, from the instance actor."""
    allowed = await permission(rt, member, comment_id)
    if allowed is None or not allowed.can_report:
        raise UserError("only moderators can report remote comments", key="moderation_not_allowed")
    comment = allowed.comment
    actor = await actor_store.by_uri(rt.db, comment.author.uri)
    if actor is None:
        raise UserError("the comment's author is not known here", key="report_no_actor")
    instance = rt.urls.instance_actor
    activity = flag(f"{instance}#flags/{uuid.uuid4().hex}", instance, actor.uri, [comment.ap_id], reason.strip())
    async with rt.db.transaction() as tx:
        await queue_activity(tx, activity, None, targets=[(actor.delivery_inbox, actor.domain, actor.uri)])
        await audit.record(tx, member.username, "report_send", comment.ap_id, reason.strip())
    return str(activity["id"])


async def resolve_report(rt: Runtime, member: Member, report_id: int, resolution: str, note: str) -> None:
    """Mark a received report resolved or dismissed, with a note (moderators only)."""
    if not member.is_moderator:
        raise UserError("only moderators resolve reports", key="moderation_not_allowed")
    if resolution not in reports.RESOLUTIONS:
        raise UserError("choose resolved or dismissed", key="report_resolution_unknown")
    async with rt.db.transaction() as tx:
        if not await reports.resolve(tx, report_id, resolution, note.strip(), member.username):
            raise UserError("no such report", key="report_unknown")
        await audit.record(tx, member.username, f"report_{resolution}", f"report #{report_id}", note.strip())


async def holds_comments(rt: Runtime, member: Member) -> bool:
    """Whether comments from accounts this member does not follow wait for approval."""
    return await comment_holds.is_on(rt.db, member.id)


async def set_holds_comments(rt: Runtime, member: Member, on: bool) -> None:
    """Switch holding comments on or off for a member's posts."""
    await comment_holds.set_on(rt.db, member.id, on)


async def audit_entries(rt: Runtime, limit: int = 200, before: int | None = None) -> list[AuditEntry]:
    """The audit log, newest first."""
    return await audit.recent(rt.db, limit, before)
