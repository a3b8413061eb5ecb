"""PURE: members, blog posts and comments of a Ning export as frozen records.

Field names are those of the archiver (FEDIVERSE_NOTES; the same names are used by the Ning
importers of Discourse, SocialEngine and Pleio). Mapping decisions:

- `level` -> role: `owner` and `admin` are admins, `moderator` a moderator, anything else a member.
  The value may hold several words (SocialEngine's importer splits it on spaces): the strongest wins.
- `state` -> `MemberState`: active; suspended (cannot sign in); left (kept only as the author of
  archived content); pending (had not been approved: cannot sign in until an admin approves).
  `blocked`/`banned` count as suspended, `unfinished` and unknown values as pending, a missing
  state as active (older exports have none).
- `publishStatus`: `publish` is published; `draft` and `queued` (scheduled, never shown before the
  export) stay drafts of their author. Without a status a post is published if it has a
  `publishTime` (the Ning API leaves it null until publication), else a draft.
- `published` is `publishTime` when there is one, else `createdDate`; `updated` is `updatedDate`.
- `category` becomes a tag; Ning's default `Uncategorized` is no category.
- Comments come newest first; they are returned oldest first, by date, stable: equal dates keep
  the reverse of the export order (the later written comment is listed first by Ning), and a
  comment without a date stays after the comment that preceded it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fediverse_a2.archive.ning_fields import FieldReader, NingRecordError, synthetic_id
from fediverse_a2.archive.ning_profile import ProfileAnswers, read_profile

__all__ = [
    "MemberState",
    "NingComment",
    "NingMember",
    "NingPost",
    "PublishStatus",
    "Role",
    "order_comments",
    "parse_comments",
    "parse_member",
    "parse_post",
    "role_for_level",
    "state_for",
]


class Role(StrEnum):
    """A member's role on the new server."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    MEMBER = "member"


class MemberState(StrEnum):
    """A member's state in the archive."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"
    PENDING = "pending"


class PublishStatus(StrEnum):
    """A blog post's publication state on Ning."""

    PUBLISHED = "publish"
    DRAFT = "draft"
    QUEUED = "queued"


_ROLE_OF_LEVEL = {"owner": Role.ADMIN, "admin": Role.ADMIN, "administrator": Role.ADMIN, "moderator": Role.MODERATOR}
_RANK = {Role.ADMIN: 2, Role.MODERATOR: 1, Role.MEMBER: 0}
_STATE_OF = {
    "active": MemberState.ACTIVE,
    "suspended": MemberState.SUSPENDED,
    "blocked": MemberState.SUSPENDED,
    "banned": MemberState.SUSPENDED,
    "left": MemberState.LEFT,
    "pending": MemberState.PENDING,
    "unfinished": MemberState.PENDING,
}
_NO_CATEGORY = frozenset({"uncategorized", "uncategorised", "geen categorie", "ongecategoriseerd"})

_MEMBER_FIELDS = frozenset(
    {
        "contributorName", "fullName", "email", "createdDate", "profilePhoto", "level", "state",
        "profileQuestions", "location", "country", "birthdate", "birthDate", "birthday", "dateOfBirth", "gender",
    }
)  # fmt: skip
_POST_FIELDS = frozenset(
    {
        "id", "contributorName", "title", "description", "createdDate", "updatedDate", "publishTime",
        "publishStatus", "category", "fileAttachments", "comments",
    }
)  # fmt: skip
_COMMENT_FIELDS = frozenset({"id", "contributorName", "description", "createdDate", "fileAttachments"})


def role_for_level(level: str | None) -> Role:
    """The role for Ning's `level` (owner/admin -> admin, moderator -> moderator, else member)."""
    best = Role.MEMBER
    for word in (level or "").lower().replace(",", " ").split():
        role = _ROLE_OF_LEVEL.get(word, Role.MEMBER)
        if _RANK[role] > _RANK[best]:
            best = role
    return best


def state_for(state: str | None) -> MemberState:
    """The member state for Ning's `state` (see the module docstring for the odd values)."""
    if state is None or not state.strip():
        return MemberState.ACTIVE
    return _STATE_OF.get(state.strip().lower(), MemberState.PENDING)


@dataclass(frozen=True, slots=True)
class NingMember:
    """A member of the old network."""

    contributor_name: str  # Ning's key for the member, joining every file
    full_name: str
    email: str | None = field(repr=False)  # kept for invitations, never published (nor logged via repr)
    joined: float | None
    profile_photo: str | None  # an address as written (a URL, or a path beside the -local file)
    level: str
    role: Role
    state: MemberState
    profile: ProfileAnswers = field(default_factory=lambda: ProfileAnswers("", (), ()))
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def can_sign_in(self) -> bool:
        """Only active members get an account that can sign in."""
        return self.state is MemberState.ACTIVE

    @property
    def archive_author_only(self) -> bool:
        """A member who left is kept as the author of the archive, without an account."""
        return self.state is MemberState.LEFT


@dataclass(frozen=True, slots=True)
class NingComment:
    """A comment on a post (or a reply in a discussion, or on a group's wall)."""

    id: str
    contributor_name: str  # "" when the archive does not say (a deleted member)
    description: str  # HTML as written
    created: float | None
    file_attachments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NingPost:
    """A blog post with its comments, oldest first."""

    id: str
    contributor_name: str
    title: str
    description: str  # HTML as written, to be sanitised by ning_html
    created: float | None
    updated: float | None
    publish_time: float | None
    status: PublishStatus
    category: str | None
    file_attachments: tuple[str, ...]
    comments: tuple[NingComment, ...]
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def published(self) -> float | None:
        """The original publication date: publishTime, else createdDate."""
        return self.publish_time if self.publish_time is not None else self.created

    @property
    def is_draft(self) -> bool:
        """Drafts and queued posts stay private drafts of their author."""
        return self.status is not PublishStatus.PUBLISHED


def parse_member(data: Mapping[str, Any]) -> NingMember:
    """A member from a record of ning-members(-local).json; NingRecordError without a contributorName."""
    f = FieldReader(data, _MEMBER_FIELDS)
    name = f.opt_text("contributorName")
    if name is None:
        raise NingRecordError("member without contributorName")
    email = f.opt_text("email")
    if email is not None and "@" not in email:
        f.warnings.append("email is not an address")
        email = None
    level = f.text("level")
    return NingMember(
        contributor_name=name,
        full_name=f.text("fullName", unescape=True) or name,
        email=email,
        joined=f.date("createdDate"),
        profile_photo=f.opt_text("profilePhoto"),
        level=level,
        role=role_for_level(level),
        state=state_for(f.opt_text("state")),
        profile=read_profile(data),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )


def order_comments(comments: Sequence[NingComment]) -> tuple[NingComment, ...]:
    """Comments in the export's newest-first order -> oldest first by date, stable (see module docstring)."""
    oldest_first = list(reversed(comments))
    keys: list[float] = []
    last = float("-inf")
    for comment in oldest_first:
        if comment.created is not None:
            last = comment.created
        keys.append(last)
    order = sorted(range(len(oldest_first)), key=keys.__getitem__)
    return tuple(oldest_first[i] for i in order)


def parse_comments(items: Sequence[Mapping[str, Any]], parent_id: str) -> tuple[NingComment, ...]:
    """The comments[] of a post, discussion or group, oldest first."""
    parsed: list[NingComment] = []
    total = len(items)
    for position, item in enumerate(items):
        f = FieldReader(item, _COMMENT_FIELDS)
        cid = f.opt_text("id")
        if cid is None:
            # Numbered oldest first, so the id does not depend on how many comments followed.
            cid = f"{parent_id}#comment-{total - position}"
            f.warnings.append("comment without id")
        author = f.text("contributorName")
        if not author:
            f.warnings.append("comment without contributorName")
        parsed.append(
            NingComment(
                id=cid,
                contributor_name=author,
                description=f.html("description"),
                created=f.date("createdDate"),
                file_attachments=f.strings("fileAttachments"),
                warnings=tuple(f.warnings),
            )
        )
    return order_comments(parsed)


def _status(f: FieldReader, publish_time: float | None) -> PublishStatus:
    raw = f.opt_text("publishStatus")
    if raw is None:
        return PublishStatus.PUBLISHED if publish_time is not None else PublishStatus.DRAFT
    try:
        return PublishStatus(raw.lower())
    except ValueError:
        f.warnings.append(f"unknown publishStatus {raw[:20]!r}, kept as a draft")
        return PublishStatus.DRAFT


def parse_post(data: Mapping[str, Any]) -> NingPost:
    """A blog post from a record of ning-blogs(-local).json, comments oldest first."""
    f = FieldReader(data, _POST_FIELDS)
    pid = f.opt_text("id")
    if pid is None:
        pid = synthetic_id("blog", data)
        f.warnings.append("post without id")
    author = f.text("contributorName")
    if not author:
        f.warnings.append("post without contributorName")
    publish_time = f.date("publishTime")
    category = f.opt_text("category", unescape=True)
    if category is not None and category.lower() in _NO_CATEGORY:
        category = None
    return NingPost(
        id=pid,
        contributor_name=author,
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        publish_time=publish_time,
        status=_status(f, publish_time),
        category=category,
        file_attachments=f.strings("fileAttachments"),
        comments=parse_comments(f.objects("comments"), pid),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )
