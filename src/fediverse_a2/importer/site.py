"""The network's own pages and notes of the archive as pages of the site (/pages/SLUG, in the footer).

A page keeps its title and its HTML (sanitised, its images copied as a post's are); its comments,
if it had any, are kept under it as text ("Reactie van NAAM op DATUM"), since a page of the site
takes no new comments. Its slug comes from its title (made unique: `-2`, `-3` ...); its old id
and address lead to it (301). Found again by its legacy id on a second run.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..archive.ning_model import NingComment
from ..archive.ning_pages import NingPage, page_slug
from ..i18n import format_date
from ..runtime import Runtime
from ..store import legacy, site_pages
from ..store.db import Executor
from ..store.site_pages import NewSitePage
from .mapping import UNKNOWN_AUTHOR, first_date, old_path
from .writer import Writer

__all__ = ["unique_slug", "write_site_pages"]


def unique_slug(base: str, taken: set[str]) -> str:
    """The slug, or the first of `slug-2`, `slug-3` ... that is free; it is then taken."""
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def _comments_html(rt: Runtime, writer: Writer, comments: Sequence[NingComment], names: dict[str, str]) -> str:
    if not comments:
        return ""
    items = []
    for c in comments:
        name = names.get(c.contributor_name) or c.contributor_name or UNKNOWN_AUTHOR.name
        when = format_date(c.created, "nl", rt.tz) if c.created is not None else ""
        head = f"Reactie van {html.escape(name)}" + (f" op {html.escape(when)}" if when else "")
        body = writer.archive_html(c.description, c.file_attachments)
        items.append(f"<li><p><strong>{head}</strong></p>{body}</li>")
    return "<h2>Reacties</h2><ul>" + "".join(items) + "</ul>"


async def write_site_pages(
    tx: Executor, rt: Runtime, writer: Writer, pages: Sequence[NingPage], names: dict[str, str]
) -> None:
    """Write the pages and notes that are new (in the order given: the footer's), and report them all."""
    summary = writer.summary
    known = await site_pages.legacy_ids(tx, [p.id for p in pages])
    taken = await site_pages.slugs(tx)
    rows: list[NewSitePage] = []
    fresh: list[NingPage] = []
    seen: set[str] = set()
    for position, page in enumerate(pages):
        summary.found("pages")
        summary.found("comments", len(page.comments))
        if page.id in known:
            summary.already("pages")
            summary.already("comments", len(page.comments))
            continue
        if page.id in seen:
            summary.skipped("pages", "listed twice in the export")
            summary.skipped("comments", "listed twice in the export", len(page.comments))
            continue
        seen.add(page.id)
        slug = unique_slug(page_slug(page.title, page.id), taken)
        content = writer.archive_html(page.description, page.file_attachments) + _comments_html(
            rt, writer, page.comments, names
        )
        created = first_date(page.created, page.updated)
        updated = page.updated if page.updated is not None and page.updated > created else None
        rows.append(NewSitePage(slug, page.title or slug, content, page.id, created, updated, position))
        fresh.append(page)
    ids = await site_pages.add_many(tx, rows)
    redirects: list[tuple[str, str, str]] = []
    for page, row, page_id in zip(fresh, rows, ids, strict=True):
        if page_id is None:  # written meanwhile by another run
            summary.already("pages")
            summary.already("comments", len(page.comments))
            continue
        summary.created["pages"] += 1
        summary.imported("pages")
        summary.imported("comments", len(page.comments))  # kept on the page, as text
        target = rt.urls.site_page(row.slug)
        redirects.append((page.id, target, "page"))
        path = old_path(page.url)
        if path:
            redirects.append((path, target, "page"))
    await legacy.add_redirects(tx, redirects)
    summary.created["redirects"] += len(redirects)
