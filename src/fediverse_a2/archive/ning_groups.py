"""PURE: groups and discussions of a Ning export (`ning-groups.json`, `ning-discussions.json`).

Their fields, as the Ning importers of SocialEngine, Discourse and Pleio read them:

- a group: `id`, `contributorName` (its creator), `title`, `description`, `createdDate`,
  `updatedDate`, `members[]` (`contributorName`, `fullName`, `status`), privacy as `groupPrivacy`
  (`public`/`private`) or `isPrivate`, and `comments[]` (the group's wall, newest first);
- a discussion (a forum topic): `id`, `contributorName`, `title`, `description`, `createdDate`,
  `updatedDate`, `category`, `fileAttachments`, `groupId` when it belongs to a group, and its
  replies as `comments[]` (newest first, like a post's).

How they map on the new server:

- a group becomes a topic group (a `Group` actor, FEP-1b12): its id, title and description; its
  creator and the members whose status is member/admin/owner/moderator (`is_member`) join it, the
  admins and the creator as its admins; invited, requested and banned entries are not members.
  A private group's posts are visible to its members only. Wall comments become posts to the group.
- a discussion with a `groupId` becomes a post in that group by its author; without one, an
  ordinary post by its author (its `category` a tag, like a blog post's). Its replies become
  comments, oldest first, with their original dates, exactly as a blog post's comments do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fediverse_a2.archive.ning_fields import FieldReader, synthetic_id
from fediverse_a2.archive.ning_model import NingComment, parse_comments

__all__ = ["NingDiscussion", "NingGroup", "NingGroupMember", "parse_discussion", "parse_group"]

_GROUP_FIELDS = frozenset(
    {
        "id", "contributorName", "title", "description", "createdDate", "updatedDate", "members",
        "groupPrivacy", "isPrivate", "comments", "iconUrl",
    }
)  # fmt: skip
_DISCUSSION_FIELDS = frozenset(
    {
        "id", "contributorName", "title", "description", "createdDate", "updatedDate", "category",
        "groupId", "fileAttachments", "comments",
    }
)  # fmt: skip
_MEMBER_STATUSES = frozenset({"member", "admin", "owner", "moderator", "active", ""})
_ADMIN_STATUSES = frozenset({"admin", "owner"})
_TRUE = frozenset({"y", "yes", "true", "1", "private"})


@dataclass(frozen=True, slots=True)
class NingGroupMember:
    """An entry of a group's members[]."""

    contributor_name: str
    full_name: str
    status: str  # as written, lower case

    @property
    def is_member(self) -> bool:
        """Member, admin, owner or moderator; not invited, requested or banned."""
        return self.status in _MEMBER_STATUSES

    @property
    def is_admin(self) -> bool:
        """An admin or the owner of the group."""
        return self.status in _ADMIN_STATUSES


@dataclass(frozen=True, slots=True)
class NingGroup:
    """A group of the old network."""

    id: str
    contributor_name: str
    title: str
    description: str
    created: float | None
    updated: float | None
    is_private: bool
    members: tuple[NingGroupMember, ...]
    comments: tuple[NingComment, ...]
    icon: str | None = None
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NingDiscussion:
    """A forum discussion, in a group when group_id is set, with its replies oldest first."""

    id: str
    contributor_name: str
    title: str
    description: str
    created: float | None
    updated: float | None
    category: str | None
    group_id: str | None
    file_attachments: tuple[str, ...]
    comments: tuple[NingComment, ...]
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _private(data: Mapping[str, Any]) -> bool:
    for key in ("groupPrivacy", "isPrivate"):
        value = data.get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip():
            return value.strip().lower() in _TRUE
    return False


def parse_group(data: Mapping[str, Any]) -> NingGroup:
    """A group from a record of ning-groups(-local).json."""
    f = FieldReader(data, _GROUP_FIELDS)
    gid = f.opt_text("id")
    if gid is None:
        gid = synthetic_id("group", data)
        f.warnings.append("group without id")
    members: list[NingGroupMember] = []
    seen: set[str] = set()
    for item in f.objects("members"):
        m = FieldReader(item, frozenset())
        name = m.opt_text("contributorName")
        if name is None:
            f.warnings.append("group member without contributorName")
            continue
        if name in seen:
            continue
        seen.add(name)
        members.append(NingGroupMember(name, m.text("fullName", unescape=True), m.text("status").lower()))
    return NingGroup(
        id=gid,
        contributor_name=f.text("contributorName"),
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        is_private=_private(data),
        members=tuple(members),
        comments=parse_comments(f.objects("comments"), gid),
        icon=f.opt_text("iconUrl"),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )


def parse_discussion(data: Mapping[str, Any]) -> NingDiscussion:
    """A discussion from a record of ning-discussions(-local).json, replies oldest first."""
    f = FieldReader(data, _DISCUSSION_FIELDS)
    did = f.opt_text("id")
    if did is None:
        did = synthetic_id("discussion", data)
        f.warnings.append("discussion without id")
    author = f.text("contributorName")
    if not author:
        f.warnings.append("discussion without contributorName")
    category = f.opt_text("category", unescape=True)
    if category is not None and category.lower() == "uncategorized":
        category = None
    return NingDiscussion(
        id=did,
        contributor_name=author,
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        category=category,
        group_id=f.opt_text("groupId"),
        file_attachments=f.strings("fileAttachments"),
        comments=parse_comments(f.objects("comments"), did),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )
