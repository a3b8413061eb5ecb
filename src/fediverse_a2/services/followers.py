"""A member's followers: approving or rejecting follow requests of a locked account, and
removing a follower (answered with Reject{Follow}, as Mastodon does, so their server forgets it)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..activitypub import build
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import Member
from ..runtime import Runtime
from ..store import follow_requests, follows

__all__ = ["approve_request", "reject_request", "remove_follower"]


def _follow_of(raw: str) -> dict[str, Any]:
    follow = json.loads(raw)
    return follow if isinstance(follow, dict) else {}


async def approve_request(rt: Runtime, member: Member, request_id: int) -> str:
    """The requester becomes a follower and gets an Accept; returns their actor id."""
    return await _decide(rt, member, request_id, approve=True)


async def reject_request(rt: Runtime, member: Member, request_id: int) -> str:
    """The request is refused with a Reject; returns the requester's actor id."""
    return await _decide(rt, member, request_id, approve=False)


async def _decide(rt: Runtime, member: Member, request_id: int, *, approve: bool) -> str:
    me = rt.urls.actor(member.username)
    async with rt.db.transaction() as tx:
        request = await follow_requests.by_id(tx, member.id, request_id)
        if request is None:
            raise UserError("no such follow request", key="no_follow_request")
        if approve:
            await follows.add_follower(
                tx, member.id, request.actor_uri, request.inbox, request.shared_inbox, request.domain,
                request.follow_id,
            )  # fmt: skip
            answer = build.accept(f"{me}#accepts/{uuid.uuid4().hex}", me, _follow_of(request.activity))
        else:
            answer = build.reject(f"{me}#rejects/{uuid.uuid4().hex}", me, _follow_of(request.activity))
        await follow_requests.remove(tx, request.id)
        await queue_activity(tx, answer, member.id, targets=[(request.inbox, request.domain, request.actor_uri)])
    return request.actor_uri


async def remove_follower(rt: Runtime, member: Member, actor_uri: str) -> None:
    """Stop an actor following the member: forget them and send Reject{Follow} to their inbox."""
    me = rt.urls.actor(member.username)
    async with rt.db.transaction() as tx:
        row = await follows.follower_row(tx, member.id, actor_uri)
        if row is None:
            raise UserError("that account does not follow you", key="not_a_follower")
        await follows.remove_follower(tx, member.id, actor_uri)
        follow = {"id": row.follow_id, "type": "Follow", "actor": actor_uri, "object": me}
        if not row.follow_id:
            del follow["id"]
        reject = build.reject(f"{me}#rejects/{uuid.uuid4().hex}", me, follow)
        await queue_activity(tx, reject, member.id, targets=[(row.inbox, row.domain, actor_uri)])
