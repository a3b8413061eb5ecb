"""Images without a description: which of a member's images lack one, and giving them one.

Two kinds: images attached to a post (rows of `media`, described by their `alt`), and images in
the text of an imported post (an `<img>` without alt in its HTML; archive imports keep their
images in the text). A changed public post is sent again as Update{Note}, so the descriptions
reach the servers that have it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..content import inert_text
from ..html_images import describe, find_images, undescribed
from ..models import Member
from ..runtime import Runtime
from ..store import media, posts, search
from .members import ensure_key
from .posts import send_update
from .uploads import MAX_ALT

__all__ = ["Undescribed", "describe_images", "undescribed_images"]


@dataclass(frozen=True)
class Undescribed:
    """One image without a description, and where it is."""

    key: str  # "m<media id>" (attached) or "p<post id>:<address>" (in the text)
    post_id: int
    post_title: str
    src: str
    width: int | None
    height: int | None
    own: bool  # served by this instance (so the page may show it)


def _inline_key(post_id: int, src: str) -> str:
    return f"p{post_id}:{src}"


async def undescribed_images(rt: Runtime, member: Member) -> list[Undescribed]:
    """The member's images without a description, newest post first."""
    items = await posts.all_of_member(rt.db, member.id)
    attached = await media.for_posts(rt.db, [p.id for p in items])
    own = rt.urls.media("")
    out: list[Undescribed] = []
    for post in items:
        for m in attached.get(post.id, []):
            if not m.alt.strip():
                out.append(Undescribed(f"m{m.id}", post.id, post.heading, rt.urls.media(m.file_name), m.width,
                                       m.height, True))  # fmt: skip
        if post.body_md != post.content_html:
            continue  # a member's own Markdown post has no images in its text
        sizes = {ref.src: ref for ref in find_images(post.content_html)}
        for src in undescribed(post.content_html):
            ref = sizes[src]
            out.append(Undescribed(_inline_key(post.id, src), post.id, post.heading, src, ref.width, ref.height,
                                   src.startswith(own)))  # fmt: skip
    return out


async def describe_images(rt: Runtime, member: Member, descriptions: Mapping[str, str]) -> int:
    """Give the member's undescribed images the descriptions given by key (empty ones are skipped);
    returns how many got one. Keys of other members' images, or of images that have a description
    by now, change nothing."""
    wanted = {key: inert_text(text, MAX_ALT) for key, text in descriptions.items()}
    wanted = {key: text for key, text in wanted.items() if text}
    if not wanted:
        return 0
    missing = {item.key: item for item in await undescribed_images(rt, member)}
    chosen = {key: text for key, text in wanted.items() if key in missing}
    if not chosen:
        return 0
    changed_posts = sorted({missing[key].post_id for key in chosen})
    member = await ensure_key(rt, member)
    async with rt.db.transaction() as tx:
        for key, text in chosen.items():
            if key.startswith("m"):
                await media.set_alt(tx, int(key[1:]), text)
        for post_id in changed_posts:
            post = await posts.by_id(tx, post_id)
            if post is None or post.member_id != member.id:
                continue
            inline = {missing[k].src: t for k, t in chosen.items() if k.startswith(f"p{post_id}:")}
            if inline:
                html = describe(post.content_html, inline)
                await posts.update(tx, post.id, post.title, html, html, summary=post.summary, language=post.language)
                await search.index_posts(tx, [post.id])
            else:
                await posts.touch(tx, post.id)
            fresh = await posts.by_id(tx, post_id)
            assert fresh is not None
            if not fresh.is_draft:
                await send_update(rt, tx, fresh)
    return len(chosen)
