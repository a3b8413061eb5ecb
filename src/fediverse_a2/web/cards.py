"""Posts in listings (the front page, tag pages, the archive): a summary with an excerpt, the
author's avatar, the first image as a thumbnail and the number of comments."""

from __future__ import annotations

from dataclasses import dataclass

from ..content import excerpt as shorten
from ..content import plain_text
from ..html_images import first_image
from ..models import Post
from ..runtime import Runtime
from ..store import comments, media, members

__all__ = ["EXCERPT", "PostCard", "Summary", "Thumbnail", "cut", "excerpt", "post_cards", "summarise"]

EXCERPT = 120  # characters of a short excerpt (a comment on the front page)
SUMMARY = 280  # characters of a post's excerpt in a listing


def cut(text: str, limit: int) -> str:
    """Text on one line, cut at a word to at most `limit` characters (and an ellipsis)."""
    return shorten(" ".join(text.split()), limit)


def excerpt(html: str, limit: int = EXCERPT) -> str:
    """A plain-text excerpt of HTML, cut at a word."""
    return cut(plain_text(html), limit)


@dataclass(frozen=True)
class Summary:
    """A post as listings show it."""

    id: int
    username: str
    author_name: str
    title: str
    published: float
    views: int
    excerpt: str
    language: str | None


def summarise(post: Post) -> Summary:
    """A post's listing entry, with a plain-text excerpt."""
    # A short post (no title) is named by its first words.
    return Summary(
        post.id, post.username, post.author_name, post.heading, post.published, post.views,
        excerpt(post.content_html, SUMMARY), post.language,
    )  # fmt: skip


@dataclass(frozen=True)
class Thumbnail:
    """A post's first image as a listing shows it."""

    src: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class PostCard:
    """A post in a listing: its summary, its author's avatar, its first image and its comment count."""

    post: Summary
    avatar: str | None  # media file name
    thumbnail: Thumbnail | None
    comments: int
    warning: str | None  # a content warning: then no thumbnail and no excerpt


async def post_cards(rt: Runtime, items: list[Post]) -> list[PostCard]:
    """Cards for these posts, with four queries for all of them together."""
    ids = [p.id for p in items]
    avatars = await members.avatars(rt.db, [p.member_id for p in items])
    images = await media.for_posts(rt.db, ids)
    counts = await comments.counts_for_posts(rt.db, ids, rt.policy)
    own_media = rt.urls.media("")
    cards = []
    for p in items:
        thumbnail = None
        attached = images.get(p.id)
        if attached:
            thumbnail = Thumbnail(rt.urls.media(attached[0].file_name), attached[0].width, attached[0].height)
        else:
            # An imported post shows its images in its text; only this instance's own are used.
            inline = first_image(p.content_html, own_media)
            if inline is not None:
                thumbnail = Thumbnail(inline.src, inline.width, inline.height)
        warning = p.summary or None
        cards.append(
            PostCard(
                summarise(p), avatars.get(p.member_id), None if warning else thumbnail, counts.get(p.id, 0), warning
            )
        )
    return cards
