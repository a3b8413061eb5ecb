"""Who a stored thing belongs to, whatever kind of thing its id names."""

from __future__ import annotations

from . import comments, events, follows, reactions, remote_posts
from .db import Executor

__all__ = ["owner_of"]


async def owner_of(db: Executor, object_id: str) -> str | None:
    """The actor a stored comment, remote post, follow, reaction or answer to an event belongs to; None if unknown."""
    for lookup in (comments.owner, remote_posts.owner, follows.owner, reactions.owner, events.rsvp_owner):
        owner = await lookup(db, object_id)
        if owner is not None:
            return owner
    return None
