"""Plain records passed between the store, the protocol core and the web layer."""

from __future__ import annotations

from dataclasses import dataclass

from .content import first_words

__all__ = [
    "DELETED",
    "EVENT",
    "GOING",
    "MAYBE",
    "NOT_GOING",
    "POST",
    "ROLES",
    "RSVP_STATUSES",
    "Comment",
    "Event",
    "Member",
    "Post",
    "RemoteAuthor",
    "RemoteImage",
    "Rsvp",
]

ROLES = ("member", "moderator", "admin")  # the old network had owners too: they are admins here
DELETED = "deleted"  # the state of an erased account
POST, EVENT = "post", "event"  # the kinds of posts: a blog post (a Note), an event (an Event)
GOING, MAYBE, NOT_GOING = "going", "maybe", "not_going"
RSVP_STATUSES = (GOING, MAYBE, NOT_GOING)  # an answer to an event, as its page lists them


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
    # Profile fields only the member sees until they choose to show them (answers from the archive).
    hidden_fields: tuple[tuple[str, str], ...] = ()
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
    # published | draft (never federated) | group (in a members-only group: its members see it; never
    # federated nor listed publicly)
    state: str = "published"
    kind: str = POST  # post | event (an event's own fields are in Event)

    @property
    def is_draft(self) -> bool:
        """Whether this is a private draft of its author."""
        return self.state == "draft"

    @property
    def is_public(self) -> bool:
        """Whether anyone may see it (and it is federated): published, outside a members-only group."""
        return self.state == "published"

    @property
    def in_private_group(self) -> bool:
        """Whether only the members of its (members-only) group may see it."""
        return self.state == "group"

    @property
    def heading(self) -> str:
        """What names the post in lists, page titles and feeds: its title, or the first words of a
        short post (one written in an app, without a title); "" for a short post of images alone."""
        return self.title or first_words(self.content_html)

    @property
    def is_event(self) -> bool:
        """Whether this post is an event (served at /events/ID as an AS2 Event)."""
        return self.kind == EVENT


@dataclass(frozen=True)
class Event:
    """An event: a post of kind event (author, title, description, dates, group, comments) and its times and place.

    Times are epoch seconds (UTC); pages show them in the instance's time zone.
    """

    post: Post
    starts_at: float
    ends_at: float | None  # None: no end given (an imported event may lack one)
    location_name: str = ""
    location_address: str = ""
    online_url: str | None = None

    @property
    def id(self) -> int:
        """The event's id: its post's."""
        return self.post.id

    def is_over(self, now: float) -> bool:
        """Whether the event has ended (one without an end, once it started): answers to it are closed."""
        return (self.ends_at if self.ends_at is not None else self.starts_at) < now


@dataclass(frozen=True)
class Rsvp:
    """One person's answer to an event: a member, or a remote actor who sent Join, Accept, TentativeAccept or Reject."""

    actor_uri: str
    status: str  # going | maybe | not_going
    member_id: int | None
    name: str
    handle: str
    url: str  # their profile
    updated_at: float


@dataclass(frozen=True)
class RemoteAuthor:
    uri: str
    name: str
    handle: str
    url: str | None
    icon: str | None


@dataclass(frozen=True)
class RemoteImage:
    """An image attached to a remote comment: where it lives and its description (alt text)."""

    url: str
    description: str | None
    width: int | None = None
    height: int | None = None


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
    visibility: str = "public"  # public | unlisted | followers | direct (activitypub/visibility.py)
    source: str | None = None  # what a local member typed (None for remote comments and old ones)
    images: tuple[RemoteImage, ...] = ()  # a remote comment's attached images, shown through the media proxy
    sensitive: bool = False  # its images are shown behind a warning
