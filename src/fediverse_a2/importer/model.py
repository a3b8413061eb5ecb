"""PURE: what an importer hands to the writer: posts with their comments, mapped from the old platform."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AuthorRef", "ImportComment", "ImportEvent", "ImportPost"]


@dataclass(frozen=True, slots=True)
class AuthorRef:
    """Who wrote something: the legacy key of a member (contributorName, or `name:FULL NAME`) and a name."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class ImportComment:
    """A comment to import, HTML as written (the writer sanitises it)."""

    legacy_id: str
    author: AuthorRef
    html: str
    published: float | None
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportEvent:
    """What an imported post that is an event has beyond a post: its times (UTC), place and answers."""

    starts_at: float
    ends_at: float | None
    location_name: str = ""
    location_address: str = ""
    answers: tuple[tuple[AuthorRef, str], ...] = ()  # (who, going | maybe | not_going)
    unanswered: int = 0  # attendees invited who never answered (no answer to import; reported)


@dataclass(frozen=True, slots=True)
class ImportPost:
    """A post to import with its comments oldest first; HTML as written (the writer sanitises it)."""

    legacy_id: str
    author: AuthorRef
    title: str
    html: str
    published: float
    updated: float | None
    draft: bool
    source: str  # "ning" or "page"
    tags: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()  # addresses as written (local paths of the export)
    comments: tuple[ImportComment, ...] = ()
    old: tuple[tuple[str, str], ...] = ()  # (old id or address, kind) that must lead to this post
    views: int = 0
    warnings: tuple[str, ...] = field(default=())
    group: str | None = None  # legacy id of the old group it belongs to: its topic group here
    members_only: bool = False  # in a members-only group: state 'group', seen by the group's members only
    kind: str = "posts"  # what the import report counts it as (posts, groups, discussions, albums, ...)
    counts: tuple[tuple[str, int], ...] = ()  # what else it brings in for the report, e.g. (("photos", 12),)
    event: ImportEvent | None = None  # set for an event (a post of kind event)
