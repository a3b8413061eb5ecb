"""Pages of the site: the network's own pages (about, house rules), served at /pages/SLUG.

The importer brings them in from the archive's pages and notes (found again by legacy id); every
page is listed in the footer, in `position` order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor
from .sql import chunks, columns, marks, record

__all__ = ["NewSitePage", "SiteLink", "SitePage", "add_many", "by_slug", "legacy_ids", "links", "slugs"]


@dataclass(frozen=True)
class SitePage:
    """A page of the site."""

    id: int
    slug: str
    title: str
    content_html: str
    created_at: float
    updated_at: float | None


@dataclass(frozen=True)
class SiteLink:
    """What the footer links to: a page's slug and title."""

    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class NewSitePage:
    """A page to store (HTML already sanitised); legacy_id finds it again on a second import."""

    slug: str
    title: str
    content_html: str
    legacy_id: str | None
    created_at: float
    updated_at: float | None = None
    position: int = 0


_SELECT = f"SELECT {columns(SitePage)} FROM site_pages"


async def add_many(db: Executor, rows: Sequence[NewSitePage]) -> list[int | None]:
    """Insert pages; their ids, None where the legacy id or slug was taken already."""
    ids = await db.fetchval_each(
        "INSERT INTO site_pages (slug, title, content_html, legacy_id, position, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        [(r.slug, r.title, r.content_html, r.legacy_id, r.position, r.created_at or time.time(), r.updated_at)
         for r in rows],
    )  # fmt: skip
    return [None if i is None else int(i) for i in ids]


async def by_slug(db: Executor, slug: str) -> SitePage | None:
    """The page at /pages/SLUG, or None."""
    row = await db.fetchone(f"{_SELECT} WHERE slug = ?", (slug,))
    return record(SitePage, row) if row else None


async def links(db: Executor, limit: int = 20) -> list[SiteLink]:
    """The pages the footer lists, in their order."""
    rows = await db.fetchall("SELECT slug, title FROM site_pages ORDER BY position, id LIMIT ?", (limit,))
    return [record(SiteLink, r) for r in rows]


async def slugs(db: Executor) -> set[str]:
    """Every slug in use."""
    return {str(r[0]) for r in await db.fetchall("SELECT slug FROM site_pages")}


async def legacy_ids(db: Executor, ids: Sequence[str]) -> dict[str, str]:
    """The pages already imported among these legacy ids: legacy id -> slug."""
    out: dict[str, str] = {}
    for chunk in chunks(list(ids)):
        rows = await db.fetchall(
            f"SELECT legacy_id, slug FROM site_pages WHERE legacy_id IN ({marks(len(chunk))})", chunk
        )
        out.update((str(r[0]), str(r[1])) for r in rows)
    return out
