"""Plain records passed between the store, the protocol core and the web layer."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DELETED", "ROLES", "Comment", "Member", "Post", "RemoteAuthor"]

ROLES = ("member", "moderator", "admin")  # the old network had owners too: they are admins here
DELETED = "deleted"  # the state of an erased account


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str
    summary: str
    public_key_pem: str  # "" until the member first needs a key pair (archive members)
    created_at: float
    role: str = "member"
    disabled: bool = False
    state: str = "active"  # active | suspended | left | pending (as the archive had them) | deleted
    email: str | None = None  # for invitations; never published
    fields: tuple[tuple[str, str], ...] = ()  # profile fields (organisation, role...): PropertyValue
    avatar: str | None = None  # file name of the avatar in the media folder
    locked: bool = False  # manuallyApprovesFollowers
    also_known_as: tuple[str, ...] = ()  # actor ids of the member's other accounts (alsoKnownAs)
    moved_to: str | None = None  # the account this one moved to (movedTo)

    @property
    def can_sign_in(self) -> bool:
        """Whether this account may sign in (not disabled, not suspended, not gone)."""
        return not self.disabled and self.state == "active"

    @property
    def is_deleted(self) -> bool:
        """Whether the account was erased (its username stays taken; its actor answers 410)."""
        return self.state == DELETED

    @property
    def is_moderator(self) -> bool:
        """Moderators and admins moderate."""
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        """Admins run the instance."""
        return self.role == "admin"


@dataclass(frozen=True)
class Post:
    id: int
    member_id: int
    username: str
    author_name: str
    title: str
    body_md: str
    content_html: str
    published: float
    updated: float | None
    deleted_at: float | None
    views: int
    comment_count: int = 0
    likes: int = 0
    boosts: int = 0
    summary: str | None = None  # content warning
    language: str | None = None  # the post's own language (else the instance's)
    state: str = "published"  # published | draft (a draft is never federated)

    @property
    def is_draft(self) -> bool:
        """Whether this is a private draft of its author."""
        return self.state == "draft"


@dataclass(frozen=True)
class RemoteAuthor:
    uri: str
    name: str
    handle: str
    url: str | None
    icon: str | None


@dataclass(frozen=True)
class Comment:
    id: int
    ap_id: str
    url: str | None
    post_id: int
    parent_id: int | None
    author: RemoteAuthor
    domain: str
    content_html: str
    summary: str | None
    published: float
    updated: float | None
    local: bool = False
    language: str | None = None
