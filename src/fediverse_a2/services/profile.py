"""A member's profile: name, summary, avatar and fields; every change is sent as Update{Person}."""

from __future__ import annotations

import time
import uuid

from ..activitypub import build
from ..content import inert_text
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import Member
from ..runtime import Runtime
from ..store import members
from ..store.db import Executor
from .members import ensure_key

__all__ = ["MAX_FIELDS", "send_profile", "update_profile"]

MAX_FIELDS = 4  # Mastodon shows four


async def update_profile(
    rt: Runtime,
    member: Member,
    *,
    name: str,
    summary: str,
    fields: list[tuple[str, str]],
    avatar_id: int | None = None,
    locked: bool | None = None,
    also_known_as: tuple[str, ...] | None = None,
) -> Member:
    """Change what the profile shows and send Update{Person} to the member's followers.

    `also_known_as` (actor ids, already resolved: services/moving.py) replaces the aliases when given.
    """
    name = inert_text(name, 100)
    if not name:
        raise UserError("a name must not be empty", key="name_empty")
    clean = [(inert_text(k, 255), inert_text(v, 255)) for k, v in fields if k.strip() or v.strip()]
    if len(clean) > MAX_FIELDS:
        raise UserError(f"at most {MAX_FIELDS} profile fields", key="too_many_fields")
    if any(not k for k, _ in clean):
        raise UserError("a profile field needs a name", key="field_needs_name")
    member = await ensure_key(rt, member)
    async with rt.db.transaction() as tx:
        await members.set_profile(
            tx, member.id, name=name, summary=inert_text(summary, 500), fields=tuple(clean),
            avatar_id=avatar_id, locked=member.locked if locked is None else locked,
        )  # fmt: skip
        if also_known_as is not None:
            await members.set_aliases(tx, member.id, also_known_as)
        return await send_profile(rt, tx, member.id)


async def send_profile(rt: Runtime, tx: Executor, member_id: int) -> Member:
    """Queue Update{Person} with the member's profile as stored now to their followers; returns the member."""
    fresh = await members.by_id(tx, member_id)
    assert fresh is not None
    person = build.person(fresh, rt.urls)
    actor = person["id"]
    update = {
        "@context": build.CONTEXT,
        "id": f"{actor}#updates/{uuid.uuid4().hex}",
        "type": "Update",
        "actor": actor,
        "to": [build.PUBLIC],
        "cc": [rt.urls.followers(fresh.username)],
        "object": {k: v for k, v in person.items() if k != "@context"},
        "published": build.iso(time.time()),
    }
    await queue_activity(tx, update, fresh.id, followers_of=fresh.id)
    return fresh
