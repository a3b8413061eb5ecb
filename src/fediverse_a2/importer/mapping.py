"""PURE: the old platform's records as what this server stores (see the package docstring for the mapping).

No database, no files: members become `NewMember`s, blog posts, discussions and groups become
`ImportPost`s with their comments, categories and group names become tags, and each record names
the old ids and addresses that must lead to it.
"""

from __future__ import annotations

import re
import time
import unicodedata
from urllib.parse import unquote, urlsplit

from ..archive.ning_groups import NingDiscussion, NingGroup
from ..archive.ning_model import MemberState, NingComment, NingMember, NingPost
from ..archive.saved_page_model import SavedPage
from ..store.members import NewMember
from .model import AuthorRef, ImportComment, ImportPost

__all__ = [
    "UNKNOWN_AUTHOR",
    "author_ref",
    "discussion_post",
    "group_post",
    "member_row",
    "name_key",
    "old_path",
    "page_post",
    "post_of",
    "tag_of",
]

# Comments whose author the archive does not name (a deleted member) are by this archive author.
UNKNOWN_AUTHOR = AuthorRef("ning:unknown", "Oud lid")
_WORD = re.compile(r"\w+", re.UNICODE)


def member_row(member: NingMember, username: str, now: float | None = None) -> NewMember:
    """A member of the archive as a member row: suspended and pending ones disabled."""
    return NewMember(
        legacy_id=member.contributor_name,
        username=username,
        name=member.full_name[:100] or member.contributor_name,
        email=member.email,
        role=member.role.value,
        state=member.state.value,
        disabled=member.state in (MemberState.SUSPENDED, MemberState.PENDING),
        created_at=member.joined if member.joined is not None else (now or time.time()),
    )


def name_key(full_name: str) -> str:
    """The legacy key of an archive author known only by name (commenters of saved pages)."""
    return "name:" + " ".join(full_name.split())


def author_ref(contributor_name: str, names: dict[str, str]) -> AuthorRef:
    """Who a contributorName is (its full name when the member list has it); the unknown author for ''."""
    if not contributor_name:
        return UNKNOWN_AUTHOR
    return AuthorRef(contributor_name, names.get(contributor_name) or contributor_name)


def tag_of(text: str | None) -> tuple[str, str] | None:
    """A category or group name as a hashtag (display name, folded): "Open data" -> ("OpenData", "opendata")."""
    words = _WORD.findall(text or "")
    if not words:
        return None
    name = words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    name = name.strip("_")[:50]
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    return name, folded.casefold()


def old_path(url: str | None) -> str | None:
    """The path of an old address (`https://x.ning.com/profiles/blogs/slug` -> `/profiles/blogs/slug`)."""
    if not url:
        return None
    path = unquote(urlsplit(url.strip()).path).rstrip("/")
    return path if path.startswith("/") and len(path) > 1 else None


def _comments(items: tuple[NingComment, ...], names: dict[str, str]) -> tuple[ImportComment, ...]:
    return tuple(
        ImportComment(c.id, author_ref(c.contributor_name, names), c.description, c.created, c.file_attachments)
        for c in items
    )


def _published(*dates: float | None) -> float:
    return next((d for d in dates if d is not None), time.time())


def _updated(updated: float | None, published: float) -> float | None:
    return updated if updated is not None and updated > published else None


def post_of(post: NingPost, names: dict[str, str]) -> ImportPost:
    """A blog post: drafts and queued posts stay drafts; the category a tag."""
    published = _published(post.published, post.created, post.updated)
    tag = tag_of(post.category)
    return ImportPost(
        legacy_id=post.id,
        author=author_ref(post.contributor_name, names),
        title=post.title or "(zonder titel)",
        html=post.description,
        published=published,
        updated=_updated(post.updated, published),
        draft=post.is_draft,
        source="ning",
        tags=(tag[0],) if tag else (),
        attachments=post.file_attachments,
        comments=_comments(post.comments, names),
        old=((post.id, "post"),),
        warnings=post.warnings,
    )


def discussion_post(discussion: NingDiscussion, names: dict[str, str], groups: dict[str, NingGroup]) -> ImportPost:
    """A forum discussion: a post tagged with its category and its group; a private group's stays a draft."""
    group = groups.get(discussion.group_id or "")
    published = _published(discussion.created, discussion.updated)
    tags = [t[0] for t in (tag_of(discussion.category), tag_of(group.title if group else None)) if t]
    return ImportPost(
        legacy_id=discussion.id,
        author=author_ref(discussion.contributor_name, names),
        title=discussion.title or "(zonder titel)",
        html=discussion.description,
        published=published,
        updated=_updated(discussion.updated, published),
        draft=group is not None and group.is_private,
        group=group.id if group is not None and not group.is_private else None,
        source="ning",
        tags=tuple(dict.fromkeys(tags)),
        attachments=discussion.file_attachments,
        comments=_comments(discussion.comments, names),
        old=((discussion.id, "post"),),
        warnings=discussion.warnings,
    )


def group_post(group: NingGroup, names: dict[str, str]) -> ImportPost:
    """A group: a post by its creator under the group's tag, the wall comments as its comments."""
    published = _published(group.created, group.updated)
    tag = tag_of(group.title)
    return ImportPost(
        legacy_id=group.id,
        author=author_ref(group.contributor_name, names),
        title=group.title or "(groep)",
        html=group.description,
        published=published,
        updated=_updated(group.updated, published),
        draft=group.is_private,
        source="ning",
        tags=(tag[0],) if tag else (),
        comments=_comments(group.comments, names),
        old=((group.id, "group"),),
        group=None if group.is_private else group.id,
        warnings=group.warnings,
    )


def page_post(page: SavedPage, legacy_id: str, author: AuthorRef, commenters: list[AuthorRef]) -> ImportPost:
    """A saved page: dated by the page, else by its first comment (the post is at least that old)."""
    first = page.comments[0].published if page.comments else None
    published = _published(page.published, first)
    comments = tuple(
        ImportComment(f"{legacy_id}#c{n}", who, c.body_html, c.published)
        for n, (c, who) in enumerate(zip(page.comments, commenters, strict=True), start=1)
    )
    path = old_path(page.old_url)
    return ImportPost(
        legacy_id=legacy_id,
        author=author,
        title=page.title or "(zonder titel)",
        html=page.body_html,
        published=published,
        updated=None,
        draft=False,
        source="page",
        comments=comments,
        old=((path, "page"),) if path else (),
        views=page.views or 0,
    )
