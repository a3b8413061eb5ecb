"""PURE: who may see a note, read from its addressing the way Mastodon reads it.

* public: the Public collection in `to`;
* unlisted: Public only in `cc` (shown under the post, left out of discovery);
* followers: no Public, the author's followers collection in `to` or `cc`;
* direct: anything else (a private mention, a "limited" circle): only the addressees.

Only public and unlisted notes are ever shown to everyone (`SHOWN`). A note that names no
audience of its own takes its activity's (as Mastodon does: `object.to || activity.to`).
"""

from __future__ import annotations

from collections.abc import Iterable

from .values import PUBLIC_SPELLINGS

__all__ = ["DIRECT", "FOLLOWERS", "PUBLIC", "SHOWN", "UNLISTED", "VISIBILITIES", "addressed", "visibility_of"]

PUBLIC, UNLISTED, FOLLOWERS, DIRECT = "public", "unlisted", "followers", "direct"
VISIBILITIES = (PUBLIC, UNLISTED, FOLLOWERS, DIRECT)
SHOWN = (PUBLIC, UNLISTED)  # shown to everyone: under the post, in the replies collection, counts


def _has_public(items: Iterable[str]) -> bool:
    return any(item in PUBLIC_SPELLINGS for item in items)


def visibility_of(to: Iterable[str], cc: Iterable[str], followers_url: str | None) -> str:
    """public, unlisted, followers or direct for a note's `to` and `cc` (ids as parsed)."""
    to, cc = tuple(to), tuple(cc)
    if _has_public(to):
        return PUBLIC
    if _has_public(cc):
        return UNLISTED
    if followers_url and (followers_url in to or followers_url in cc):
        return FOLLOWERS
    return DIRECT


def addressed(to: Iterable[str], cc: Iterable[str], uri: str) -> bool:
    """Whether an actor is one of a note's addressees (named in `to` or `cc`)."""
    return uri in to or uri in cc
