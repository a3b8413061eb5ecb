"""The Atom feed of recent posts."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..store import posts

__all__ = ["atom_feed"]

FEED_SIZE = 30


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def atom_feed(rt: Runtime, request: Request) -> Response:
    """/feed.atom: the newest posts with their full HTML content."""
    items = await posts.recent(rt.db, FEED_SIZE)
    base = rt.urls.base
    updated = max((p.updated or p.published for p in items), default=0.0)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{escape(base)}/</id>",
        f"<title>{escape(rt.config.instance.name)}</title>",
        f"<updated>{_when(updated)}</updated>",
        f'<link rel="self" href={quoteattr(base + "/feed.atom")}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(base + "/")}/>',
    ]
    for post in items:
        url = rt.urls.post(post.id)
        parts += [
            "<entry>",
            f"<id>{escape(url)}</id>",
            f"<title>{escape(post.title)}</title>",
            f'<link rel="alternate" type="text/html" href={quoteattr(url)}/>',
            f"<author><name>{escape(post.author_name)}</name><uri>{escape(rt.urls.actor(post.username))}</uri></author>",
            f"<published>{_when(post.published)}</published>",
            f"<updated>{_when(post.updated or post.published)}</updated>",
            f'<content type="html">{escape(post.content_html)}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return Response("\n".join(parts), media_type="application/atom+xml; charset=utf-8")
