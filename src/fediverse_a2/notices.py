"""What a notification is: its kinds, the mail choices per kind, and how one reads in a language.

Pure: no database, no network. The store keeps them (store/notifications.py), federation and
services record them, the web lists them and the mail worker sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .content import excerpt, plain_text
from .i18n import translate

__all__ = [
    "DEFAULT_MODES",
    "GROUPS",
    "GROUP_OF",
    "KINDS",
    "MODES",
    "MailSettings",
    "Notification",
    "describe",
    "excerpt_of",
]

EXCERPT = 200  # characters of what was said that a notification shows

# reply: to a member's post or comment; follow_request: a follow waiting for approval.
KINDS = ("reply", "mention", "like", "boost", "follow", "follow_request")
# What a member chooses per group: mail at once, in the daily digest, or not at all.
MODES = ("immediate", "digest", "never")
GROUPS = ("replies", "mentions", "likes", "boosts", "follows")
GROUP_OF = {
    "reply": "replies",
    "mention": "mentions",
    "like": "likes",
    "boost": "boosts",
    "follow": "follows",
    "follow_request": "follows",
}
DEFAULT_MODES = {
    "replies": "immediate",
    "mentions": "immediate",
    "likes": "digest",
    "boosts": "digest",
    "follows": "digest",
}


@dataclass(frozen=True)
class Notification:
    id: int
    member_id: int
    kind: str
    actor_uri: str
    actor_name: str  # inert text, one line, as stored
    actor_url: str | None
    object_url: str
    created_at: float
    read_at: float | None = None
    # The sanitised text of a followers-only or direct note (never shown anywhere else).
    content_html: str | None = None
    activity_id: str | None = None  # the note, like or boost told of (what an Undo or Delete takes away)
    subject: str | None = None  # the title of the member's post it is about
    excerpt: str | None = None  # the beginning of what was said, plain text

    @property
    def unread(self) -> bool:
        """Not yet marked read on the notifications page."""
        return self.read_at is None


@dataclass(frozen=True)
class MailSettings:
    """A member's mail choices; `language` is None until chosen (then the instance's is used)."""

    modes: dict[str, str]
    language: str | None = None

    def mode(self, kind: str) -> str:
        """immediate, digest or never for a notification kind."""
        return self.group_mode(GROUP_OF.get(kind, ""))

    def group_mode(self, group: str) -> str:
        """immediate, digest or never for a group of kinds (replies, mentions, ...)."""
        return self.modes.get(group) or DEFAULT_MODES.get(group, "never")


def excerpt_of(html: str) -> str | None:
    """The plain-text beginning of a comment or note a notification quotes (None when it says nothing)."""
    return excerpt(plain_text(html), EXCERPT) or None


def describe(language: str, notification: Notification) -> str:
    """One line: who did what, and where ("Bob Jansen reageerde op ‘Open data’")."""
    name = notification.actor_name or notification.actor_uri
    if notification.subject:
        return translate(language, f"notice_{notification.kind}_on", name=name, title=notification.subject)
    return translate(language, f"notice_{notification.kind}", name=name)
