"""Link previews: the Open Graph description of a post or a profile (title, excerpt, image), so a
link shared in a chat or on Mastodon shows what it leads to.

A post behind a content warning shows the warning, never its text or image.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..activitypub.urls import Urls
from ..html_images import first_image
from ..models import Member, Post
from ..store.media import Media
from .cards import cut, excerpt

__all__ = ["DESCRIPTION", "Preview", "post_preview", "profile_preview"]

DESCRIPTION = 200  # characters of the excerpt


@dataclass(frozen=True)
class Preview:
    """What the page's <meta property="og:..."> tags say."""

    kind: str  # og:type: article | profile
    title: str
    description: str
    url: str
    image: str | None = None  # absolute URL
    image_alt: str = ""
    image_width: int | None = None
    image_height: int | None = None
    published: float | None = None
    large: bool = False  # a picture of the post itself (twitter:card summary_large_image)


def post_preview(urls: Urls, post: Post, images: list[Media], author_avatar: str | None, warning: str) -> Preview:
    """A post's preview: its title, an excerpt, and its first image (else its author's avatar)."""
    url = urls.post(post.id)
    if post.summary:
        return Preview("article", post.heading, f"{warning}: {post.summary}", url, published=post.published)
    description = excerpt(post.content_html, DESCRIPTION)
    if images:
        first = images[0]
        return Preview(
            "article", post.heading, description, url, urls.media(first.file_name), first.alt, first.width,
            first.height, post.published, large=True,
        )  # fmt: skip
    inline = first_image(post.content_html, urls.media(""))
    if inline is not None:
        return Preview(
            "article", post.heading, description, url, inline.src, inline.alt, inline.width, inline.height,
            post.published, large=True,
        )  # fmt: skip
    avatar = urls.media(author_avatar) if author_avatar else None
    return Preview("article", post.heading, description, url, avatar, published=post.published)


def profile_preview(urls: Urls, member: Member) -> Preview:
    """A member's preview: name, handle and summary, and their avatar."""
    description = cut(" · ".join(part for part in (urls.handle(member.username), member.summary) if part), DESCRIPTION)
    avatar = urls.media(member.avatar) if member.avatar else None
    return Preview("profile", member.name, description, urls.actor(member.username), avatar)
