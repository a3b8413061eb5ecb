"""PURE: the Like and Announce a member sends, and their Undo, shaped as Mastodon sends them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .build import CONTEXT, PUBLIC, iso, undo

__all__ = ["announce", "like", "undo_reaction"]


def like(activity_id: str, actor: str, object_id: str, author: str) -> dict[str, Any]:
    """Like{object}, addressed to the object's author."""
    return {"@context": CONTEXT, "id": activity_id, "type": "Like", "actor": actor, "object": object_id,
            "to": [author]}  # fmt: skip


def announce(
    activity_id: str, actor: str, object_id: str, published: float, author: str, followers: str
) -> dict[str, Any]:
    """A public boost: to Public, cc the object's author and the booster's followers."""
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": "Announce",
        "actor": actor,
        "published": iso(published),
        "to": [PUBLIC],
        "cc": [author, followers],
        "object": object_id,
    }


def undo_reaction(activity_id: str, actor: str, inner: dict[str, Any]) -> dict[str, Any]:
    """Undo{Like|Announce}, addressed like the activity it takes back."""
    doc = undo(activity_id, actor, inner)
    for key in ("to", "cc"):
        value: Iterable[str] | None = inner.get(key)
        if value:
            doc[key] = list(value)
    return doc
