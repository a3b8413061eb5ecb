"""PURE: the network's own pages of a Ning export (`ning-pages.json`, `ning-notes.json`).

Ning's Pages (about, house rules, contact) and Notes (a simple wiki the network's owners kept)
carry `id` (a note may have only its title), `contributorName`, `title`, `description` (HTML),
`createdDate`, `updatedDate`, `url` (the old address, `/page/slug` or `/notes/Title`) and
sometimes `comments[]`. Both become pages of the site (served at `/pages/SLUG`): the slug is made
from the title as usernames are (`archive.usernames.slugify`, with `-` between words).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fediverse_a2.archive.ning_fields import FieldReader, synthetic_id
from fediverse_a2.archive.ning_model import NingComment, parse_comments
from fediverse_a2.archive.usernames import slugify

__all__ = ["MAX_SLUG", "NingPage", "page_slug", "parse_page"]

MAX_SLUG = 60
_PAGE_FIELDS = frozenset(
    {
        "id",
        "contributorName",
        "title",
        "description",
        "createdDate",
        "updatedDate",
        "url",
        "comments",
        "fileAttachments",
    }
)


@dataclass(frozen=True, slots=True)
class NingPage:
    """A page or note of the network."""

    id: str
    kind: str  # "pages" or "notes"
    contributor_name: str
    title: str
    description: str
    created: float | None
    updated: float | None
    url: str | None
    comments: tuple[NingComment, ...]
    file_attachments: tuple[str, ...] = ()
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def page_slug(title: str, fallback: str) -> str:
    """`Over Ambtenaar 2.0` -> `over-ambtenaar-2-0`; the fallback's slug when the title leaves nothing."""
    slug = slugify(title).replace("_", "-")[:MAX_SLUG].strip("-")
    return slug or slugify(fallback).replace("_", "-")[:MAX_SLUG].strip("-") or "pagina"


def parse_page(data: Mapping[str, Any], kind: str) -> NingPage:
    """A page (kind "pages") or note ("notes") from a record of the export."""
    f = FieldReader(data, _PAGE_FIELDS)
    title = f.text("title", unescape=True)
    pid = f.opt_text("id")
    if pid is None:
        if title:
            pid = f"{kind}:{title}"  # Ning keys a note by its title
        else:
            pid = synthetic_id(kind, data)
            f.warnings.append(f"{kind[:-1]} without id or title")
    return NingPage(
        id=pid,
        kind=kind,
        contributor_name=f.text("contributorName"),
        title=title,
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        url=f.opt_text("url"),
        comments=parse_comments(f.objects("comments"), pid),
        file_attachments=f.strings("fileAttachments"),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )
