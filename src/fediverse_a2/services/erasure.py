"""Erasing an account (AVG art. 17): by the member at /settings/delete, or `member delete`.

One transaction forgets the person: e-mail, password, sessions, the apps' tokens, invitations,
notifications and mail, profile, follows both ways, likes and boosts, uploads; their posts and comments stay
as rows without text (their URLs answer 410 with a Tombstone, and importing the archive again
cannot bring them back), everything they sent is forgotten, and their actor URL answers 410.
The row of the member stays with its username, which is never given out again.

The same transaction queues a `Delete` of the actor to every server that follows them, that
they follow, that received anything they sent, or whose accounts replied to or reacted on
their posts, and to the relays. It is signed with the member's key, which is kept until
those deliveries are done (sent, or failed for good); federation/retired.py (housekeeping)
then removes the key file and the public key. An archive author who never had a key pair is known
to no server: nothing is sent, and nothing is created to send it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from ..activitypub import build
from ..activitypub.urls import Urls
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..federation.retired import retire_keys
from ..models import Member
from ..runtime import Runtime
from ..store import (
    activities,
    audit,
    comment_holds,
    comments,
    deliveries,
    events,
    follows,
    groups,
    idempotency,
    invites,
    legacy,
    markers,
    media,
    member_notes,
    member_reactions,
    members,
    membership_requests,
    notifications,
    oauth_tokens,
    outgoing_mail,
    password_resets,
    posts,
    search,
    sessions,
    status_edits,
    tags,
    tombstones,
)
from ..store import actors as actor_store
from ..store.db import Executor
from .groups import pass_on_erasure

__all__ = ["Erased", "erase_account"]


@dataclass(frozen=True)
class Erased:
    """What erasing an account did: its actor, and how many inboxes its Delete goes to."""

    actor: str
    inboxes: int


async def erase_account(rt: Runtime, member: Member, by: str) -> Erased:
    """Erase a member's account; `by` is who asked (the member's username, or "cli") for the audit log."""
    if member.is_deleted:
        raise UserError(f"the account {member.username!r} was deleted already", key="member_deleted")
    if await groups.by_id(rt.db, member.id) is not None:
        raise UserError(f"{member.username!r} is a group, not a member's account")
    actor = rt.urls.actor(member.username)
    now = time.time()
    async with rt.db.transaction() as tx:
        # Every object the member ever sent answers 410 from now on (posts, comments, replies elsewhere).
        created = await activities.object_ids_of_member(tx, member.id)
        inboxes = await _send_delete(tx, rt.urls, member, actor)
        await tombstones.add_many(tx, [*created, actor], actor)
        files = await _forget(rt, tx, member, actor, now)
        await audit.record(tx, by, "account_delete", member.username)
    await asyncio.to_thread(_remove_files, rt.config.media_path, files)
    await retire_keys(rt)  # at once, when there was nothing to send
    return Erased(actor, inboxes)


async def _send_delete(tx: Executor, urls: Urls, member: Member, actor: str) -> int:
    """Queue the Delete of the actor to everyone who knows it; forget what else was sent. Returns the
    number of inboxes it goes to (0: no server knows this account)."""
    targets: dict[str, tuple[str, str, str | None]] = {}
    for found in (
        await deliveries.reached_by_member(tx, member.id),
        await follows.following_targets(tx, member.id),
        await actor_store.inboxes_of_repliers(tx, member.id),
    ):
        for inbox, domain, recipient in found:
            targets.setdefault(inbox, (inbox, domain, recipient))
    followers = await follows.count_followers(tx, member.id)
    keep = 0
    if member.public_key_pem and (targets or followers):
        # Computed before the follows and deliveries below are forgotten.
        keep = await queue_activity(
            tx, build.delete_actor(actor), member.id, followers_of=member.id, targets=targets.values(), to_relays=True
        )
    # Groups that boosted the posts tell their followers too, and what they passed on goes.
    await pass_on_erasure(tx, [urls.post(p) for p in await posts.ids_of_member(tx, member.id)], keep)
    passed_on = await activities.passed_on_of_member(tx, member.id)
    await deliveries.delete_of_activities(tx, passed_on)
    await activities.delete_ids(tx, passed_on)
    await deliveries.delete_of_member(tx, member.id, keep)
    await activities.delete_for_member(tx, member.id, keep)
    return await deliveries.pending_of_member(tx, member.id)


async def _forget(rt: Runtime, tx: Executor, member: Member, actor: str, now: float) -> list[str]:
    """Forget everything of the member but the row itself; returns the media files they used."""
    post_ids = await posts.ids_of_member(tx, member.id)
    erased = await comments.erase_by_member(tx, member.id)
    await search.remove_comments(tx, [comment_id for comment_id, _ in erased])
    for post_id in post_ids:
        await search.remove_post(tx, post_id)
    await tags.clear_for_posts(tx, post_ids)
    # what apps wrote: notes, earlier versions of posts, comments and notes, idempotency keys
    note_ids = await member_notes.delete_for_member(tx, member.id)
    for kind, row_ids in (("post", post_ids), ("comment", [c for c, _ in erased]), ("note", note_ids)):
        await status_edits.delete_for(tx, kind, row_ids)
    await idempotency.delete_for_member(tx, member.id)
    await events.erase_for_member(tx, member.id, post_ids)
    await posts.erase_for_member(tx, member.id, now)
    await legacy.remove_redirects_to(
        tx,
        [actor, *(rt.urls.post(p) for p in post_ids), *(f"{rt.urls.post(p)}#comment-{c}" for c, p in erased)],
    )
    await members.erase(tx, member.id, now)  # the avatar goes before its media record
    files = await media.delete_for_member(tx, member.id, post_ids)
    await follows.remove_all_of_member(tx, member.id)
    await member_reactions.delete_for_member(tx, member.id)
    await sessions.delete_for_member(tx, member.id)
    await oauth_tokens.delete_for_member(tx, member.id)  # the apps' tokens and codes
    await markers.delete_for_member(tx, member.id)
    await invites.delete_for_member(tx, member.id)
    await password_resets.delete_for_member(tx, member.id)
    await notifications.delete_for_member(tx, member.id)
    await notifications.forget_actor(tx, actor)  # what others were told about their comments, likes
    await outgoing_mail.delete_for_member(tx, member.id)
    await comment_holds.set_on(tx, member.id, False)
    await groups.remove_moderator_everywhere(tx, member.id)
    await membership_requests.forget_member(tx, member.id)
    return [name for name in files if not await media.in_use(tx, name)]


def _remove_files(folder: Path, names: list[str]) -> None:
    for name in names:
        if "/" in name or name.startswith("."):
            continue  # names are content hashes; never follow anything else
        (folder / name).unlink(missing_ok=True)
