"""Atom feeds: the instance's newest posts, a member's, and a tag's."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response

from ..activitypub.build import iso
from ..models import Post
from ..runtime import Runtime
from ..services.posts import fold_tag
from ..store import members, posts

__all__ = ["atom_feed", "member_feed", "tag_feed"]

FEED_SIZE = 30


async def atom_feed(rt: Runtime, request: Request) -> Response:
    """/feed.atom: the newest posts with their full HTML content."""
    items = await posts.recent(rt.db, FEED_SIZE)
    return _feed(rt, items, rt.config.instance.name, "/feed.atom", "/")


async def member_feed(rt: Runtime, request: Request) -> Response:
    """/users/NAME/feed.atom: a member's newest posts."""
    member = await members.by_username(rt.db, request.path_params["username"])
    if member is None:
        return Response("no such member", status_code=404, media_type="text/plain; charset=utf-8")
    if member.is_deleted:
        return Response("this account was deleted", status_code=410, media_type="text/plain; charset=utf-8")
    items = await posts.recent(rt.db, FEED_SIZE, member_id=member.id)
    path = f"/users/{member.username}"
    return _feed(rt, items, f"{member.name} - {rt.config.instance.name}", f"{path}/feed.atom", path)


async def tag_feed(rt: Runtime, request: Request) -> Response:
    """/tags/TAG/feed.atom: the newest posts with a tag."""
    norm = fold_tag(request.path_params["tag"])[:60]
    items = await posts.by_ids(rt.db, await posts.live_ids(rt.db, FEED_SIZE, tag=norm))
    path = rt.urls.tag(norm).removeprefix(rt.urls.base)
    return _feed(rt, items, f"#{norm} - {rt.config.instance.name}", f"{path}/feed.atom", path)


def _feed(rt: Runtime, items: list[Post], title: str, self_path: str, alternate_path: str) -> Response:
    base = rt.urls.base
    updated = max((p.updated or p.published for p in items), default=0.0)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<id>{escape(base + self_path)}</id>",
        f"<title>{escape(title)}</title>",
        f"<updated>{iso(updated)}</updated>",
        f'<link rel="self" href={quoteattr(base + self_path)}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(base + alternate_path)}/>',
    ]
    for post in items:
        url = rt.urls.post(post.id)
        parts += [
            "<entry>",
            f"<id>{escape(url)}</id>",
            f"<title>{escape(post.heading or post.author_name)}</title>",
            f'<link rel="alternate" type="text/html" href={quoteattr(url)}/>',
            f"<author><name>{escape(post.author_name)}</name><uri>{escape(rt.urls.actor(post.username))}</uri></author>",
            f"<published>{iso(post.published)}</published>",
            f"<updated>{iso(post.updated or post.published)}</updated>",
            f'<content type="html">{escape(post.content_html)}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return Response("\n".join(parts), media_type="application/atom+xml; charset=utf-8")
