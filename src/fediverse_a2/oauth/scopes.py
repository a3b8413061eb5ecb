"""PURE: Mastodon's OAuth scopes, and whether the scopes of a token cover what a route needs.

`read`, `write` and `push` as Mastodon has them, their sub-scopes (`read:statuses`,
`write:media`, ...), the old `follow` (the follow, block and mute sub-scopes), and `profile`
(Mastodon 4.3: only who the member is, for verify_credentials). A token holding `read` holds
every `read:*`. Admin scopes are not offered: apps cannot moderate here.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT",
    "FOLLOW",
    "SUPPORTED",
    "ScopeError",
    "covers",
    "parse",
]

_READ = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications",
         "search", "statuses")  # fmt: skip
_WRITE = ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media",
          "mutes", "notifications", "reports", "statuses")  # fmt: skip
FOLLOW = frozenset({"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"})
SUPPORTED: tuple[str, ...] = (
    "read", "write", "follow", "push", "profile",
    *(f"read:{s}" for s in _READ), *(f"write:{s}" for s in _WRITE),
)  # fmt: skip
_KNOWN = frozenset(SUPPORTED)
DEFAULT = ("read",)  # what an app gets when it names no scope, as on Mastodon
MAX_LENGTH = 1000


class ScopeError(ValueError):
    """A scope string names a scope this server does not have."""


def parse(value: str | None, default: tuple[str, ...] = DEFAULT) -> tuple[str, ...]:
    """The scopes of a space-separated string (Mastodon also accepts `+` and commas), in order, once each."""
    if value is None or not value.strip():
        return default
    if len(value) > MAX_LENGTH:
        raise ScopeError("too many scopes")
    names = tuple(dict.fromkeys(value.replace("+", " ").replace(",", " ").split()))
    unknown = [name for name in names if name not in _KNOWN]
    if unknown:
        raise ScopeError(f"unknown scope {unknown[0]!r}")
    return names


def _holds(granted: frozenset[str], scope: str) -> bool:
    if scope in granted:
        return True
    family, _, sub = scope.partition(":")
    if sub and family in granted:
        return True
    return "follow" in granted and scope in FOLLOW


def covers(granted: tuple[str, ...] | frozenset[str], needed: tuple[str, ...]) -> bool:
    """Whether scopes `granted` allow a route that accepts any one of `needed` (nothing needed: yes)."""
    held = frozenset(granted)
    return not needed or any(_holds(held, scope) for scope in needed)
