"""Flag: a report of a remote account's content, sent to its server as Mastodon expects it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .build import CONTEXT

__all__ = ["flag"]


def flag(activity_id: str, actor: str, reported_actor: str, objects: Sequence[str], content: str) -> dict[str, Any]:
    """Flag{[reported actor, objects...]}: Mastodon files it as a report against the first actor named.

    Sent by the instance actor, so the remote moderators do not learn which member reported.
    """
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": "Flag",
        "actor": actor,
        "object": [reported_actor, *objects],
        "content": content,
        "to": [reported_actor],
    }
