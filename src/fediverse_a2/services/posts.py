"""Writing blog posts: publish, save as draft, edit, delete; each federated change queued to followers.

A draft is private to its author and never federated; publishing it sends the Create. Tags
become `Hashtag` tags linking to their tag page; images are attached as `Image`s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..activitypub import build
from ..content import inert_text, render_post
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import Member, Post
from ..runtime import Runtime
from ..store import comments, media, posts, search, status_edits, tags
from ..store import groups as group_store
from ..store.db import Executor
from .groups import announce_deleted, announce_saved, topic_group
from .members import ensure_key, require_member

__all__ = [
    "LANGUAGES",
    "Draft",
    "delete_post",
    "edit_post",
    "fold_tag",
    "note_of",
    "parse_tags",
    "post_html",
    "publish_post",
    "require_post",
    "save_post",
    "send_update",
    "typed_tags",
]

MAX_TITLE = 300
MAX_BODY = 200_000
MAX_SUMMARY = 500
MAX_TAGS = 10  # typed in the tags field
MAX_ALL_TAGS = 30  # with the #tags of the text
MAX_IMAGES = 4
# Languages a post can be marked with; the interface itself is Dutch or English.
LANGUAGES = ("nl", "en", "de", "fr", "fy")
_TAG_WORD = re.compile(r"[^\W_][\w]{0,49}", re.UNICODE)


@dataclass(frozen=True)
class Draft:
    """What a member wrote, before it is stored: the fields of the editor."""

    title: str
    body: str
    summary: str = ""
    language: str = ""
    tags: str = ""
    media_ids: Sequence[int] = ()
    group: str | None = None  # a topic group's username; "" for none, None to leave it as it is
    short: bool = False  # a short post (as apps write them): no title needed, its text alone


def fold_tag(name: str) -> str:
    """A tag's matching form: lower case, accents folded (#Overheid, #overheid and #Óverheid are one)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    return folded.casefold()


def parse_tags(text: str) -> list[tuple[str, str]]:
    """(name, folded) pairs from what a member typed ("#a, b c"), deduplicated, at most MAX_TAGS."""
    found: dict[str, str] = {}
    for word in re.split(r"[\s,;]+", text or ""):
        word = word.strip().lstrip("#")
        if not word:
            continue
        if not _TAG_WORD.fullmatch(word):
            raise UserError(f"not a valid tag: {word[:60]!r} (letters, digits and _ only)", key="tag_invalid")
        found.setdefault(fold_tag(word), word)
    if len(found) > MAX_TAGS:
        raise UserError(f"at most {MAX_TAGS} tags", key="too_many_tags")
    return [(name, norm) for norm, name in found.items()]


def post_html(rt: Runtime, body: str, typed: str) -> tuple[str, list[tuple[str, str]]]:
    """A post's HTML, its #tags linking to their tag pages, and its tags: those typed in the tags field
    (UserError when one is not a tag), then those of the text, each as its author wrote it."""
    tag_list = parse_tags(typed)
    html, written = render_post(body, lambda name: rt.urls.tag(fold_tag(name)))
    known = {norm for _, norm in tag_list}
    for name in written:
        if len(tag_list) >= MAX_ALL_TAGS:
            break
        if (norm := fold_tag(name)) not in known:
            known.add(norm)
            tag_list.append((name, norm))
    return html, tag_list


def typed_tags(body: str, tags: list[tuple[str, str]]) -> str:
    """The tags field of a stored post: its tags but those its text carries as #tags (they come from the text)."""
    _, written = render_post(body, lambda name: "")
    in_text = {fold_tag(name) for name in written}
    return " ".join(name for name, norm in tags if norm not in in_text)


def _check(draft: Draft) -> None:
    if not draft.title.strip() and not draft.short:
        raise UserError("--title must not be empty", key="title_empty")
    if len(draft.title) > MAX_TITLE:
        raise UserError(f"--title is longer than {MAX_TITLE} characters", key="title_long")
    if not draft.body.strip() and not (draft.short and draft.media_ids):  # a short post may be images alone
        raise UserError("the body must not be empty", key="body_empty")
    if len(draft.body) > MAX_BODY:
        raise UserError(f"the body is longer than {MAX_BODY} characters", key="body_long")
    if len(draft.summary) > MAX_SUMMARY:
        raise UserError(f"the content warning is longer than {MAX_SUMMARY} characters", key="summary_long")
    if draft.language and draft.language not in LANGUAGES:
        raise UserError(f"unknown language {draft.language!r}", key="language_unknown")
    if len(draft.media_ids) > MAX_IMAGES:
        raise UserError(f"at most {MAX_IMAGES} images", key="too_many_images")


async def require_post(rt: Runtime, url: str) -> Post:
    """The live local post a URL names, or a UserError."""
    post_id = rt.urls.post_id(url)
    post = await posts.by_id(rt.db, post_id) if post_id is not None else None
    if post is None or post.is_event:  # an event is changed and cancelled as one (services/events.py)
        raise UserError(f"not a post on this instance: {url}", key="no_such_post")
    if post.deleted_at is not None:
        raise UserError(f"post was deleted: {url}", key="post_deleted")
    return post


async def _keep_version(rt: Runtime, tx: Executor, post: Post) -> None:
    """Before an edit of a published post: what its Note said until now (its edit history)."""
    images = [m.id for m in await media.for_post(tx, post.id)]
    tag_refs = [build.HashtagRef(name, rt.urls.tag(norm)) for name, norm in await tags.for_post(tx, post.id)]
    content = build.post_content(post.title, post.content_html, tag_refs)
    await status_edits.add(tx, "post", post.id, content, post.summary, images, post.updated or post.published)


async def note_of(
    rt: Runtime, db: Executor, post: Post, replies_total: int = 0, first: Sequence[str] = ()
) -> dict[str, Any]:
    """The Note of a post, with its tags and images."""
    tag_refs = [build.HashtagRef(name, rt.urls.tag(norm)) for name, norm in await tags.for_post(db, post.id)]
    images = [
        build.Image(rt.urls.media(m.file_name), m.media_type, m.width, m.height, m.alt)
        for m in await media.for_post(db, post.id)
    ]
    group = await group_store.group_of_post(db, post.id)
    return build.post_note(
        post, rt.urls, rt.config.instance.language, replies_total, list(first), tags=tag_refs, images=images,
        group=rt.urls.actor(group.username) if group else None,
    )  # fmt: skip


async def _own_media(db: Executor, member: Member, media_ids: Sequence[int]) -> list[int]:
    """The given image ids, each checked to be this member's upload."""
    out = []
    for media_id in media_ids:
        found = await media.by_id(db, media_id)
        if found is None or found.member_id != member.id:
            raise UserError("an image of this post is not yours", key="image_not_yours")
        out.append(media_id)
    return out


async def save_post(rt: Runtime, member: Member, draft: Draft, *, publish: bool, post: Post | None = None) -> Post:
    """Store a new post or change one (a draft stays a draft unless `publish`); federates what is public.

    A new published post sends Create{Note}; publishing a draft sends its Create then; an edit
    of a published post sends Update{Note} with `updated` set. Drafts send nothing.
    """
    _check(draft)
    if not member.can_sign_in and post is None:
        raise UserError("this account cannot write", key="cannot_write")
    html, tag_list = post_html(rt, draft.body, draft.tags)
    title = draft.title.strip()
    summary = inert_text(draft.summary, MAX_SUMMARY) or None
    language = draft.language or None
    if publish:
        member = await ensure_key(rt, member)
    async with rt.db.transaction() as tx:
        media_ids = await _own_media(tx, member, draft.media_ids)
        if post is None:
            post_id = await posts.create(
                tx, member.id, title, draft.body, html, summary=summary, language=language,
                state="published" if publish else "draft",
            )  # fmt: skip
            was_public = False
        else:
            post_id = post.id
            was_public = not post.is_draft
            if was_public:
                await _keep_version(rt, tx, post)
            await posts.update(tx, post_id, title, draft.body, html, summary=summary, language=language)
            if publish and post.is_draft:
                await posts.publish(tx, post_id)
        await tags.set_for_post(tx, post_id, tag_list)
        if draft.group is not None:
            group = await topic_group(rt, tx, draft.group) if draft.group else None
            await group_store.set_post_group(tx, post_id, group.id if group else None)
        await media.attach(tx, post_id, media_ids)
        fresh = await posts.by_id(tx, post_id)
        assert fresh is not None
        await search.index_posts(tx, [post_id])  # a draft stays out of the index
        if not fresh.is_draft:
            if was_public:
                await send_update(rt, tx, fresh)
            else:
                activity = build.create(await note_of(rt, tx, fresh))
                row = await queue_activity(tx, activity, member.id, followers_of=member.id, to_relays=True)
                await announce_saved(rt, tx, fresh, activity, row)
    return fresh


async def send_update(rt: Runtime, tx: Executor, post: Post) -> None:
    """Queue Update{Note} (with `updated` set) of a changed public post to its author's followers,
    the relays and the groups that show it."""
    total = await comments.count_visible(tx, post.id, rt.policy)
    note = await note_of(rt, tx, post, total)
    assert post.updated is not None
    activity = build.update(note, post.updated)
    row = await queue_activity(tx, activity, post.member_id, followers_of=post.member_id, to_relays=True)
    await announce_saved(rt, tx, post, activity, row)


async def publish_post(
    rt: Runtime, username: str, title: str, body: str, *, summary: str = "", language: str = "", tags: str = ""
) -> str:
    """Store a post and queue Create{Note} to every follower; returns the post URL."""
    member = await require_member(rt, username)
    post = await save_post(rt, member, Draft(title, body, summary, language, tags), publish=True)
    return rt.urls.post(post.id)


async def edit_post(rt: Runtime, url: str, title: str | None, body: str | None) -> str:
    """Change a post's title and/or body and queue an Update with `updated` set."""
    post = await require_post(rt, url)
    member = await require_member(rt, post.username)
    current = await tags.for_post(rt.db, post.id)
    images = [m.id for m in await media.for_post(rt.db, post.id)]
    draft = Draft(
        post.title if title is None else title,
        post.body_md if body is None else body,
        post.summary or "",
        post.language or "",
        typed_tags(post.body_md, current),
        images,
        short=not post.title,
    )
    await save_post(rt, member, draft, publish=not post.is_draft, post=post)
    return url


async def delete_post(rt: Runtime, url: str) -> str:
    """Mark a post deleted (410 from then on) and queue a Delete to every follower (a draft just goes)."""
    post = await require_post(rt, url)
    actor = rt.urls.actor(post.username)
    async with rt.db.transaction() as tx:
        await posts.mark_deleted(tx, post.id)
        await search.remove_post(tx, post.id)
        if not post.is_draft:
            activity = build.delete(actor, url, [build.PUBLIC], [rt.urls.followers(post.username)])
            row = await queue_activity(tx, activity, post.member_id, followers_of=post.member_id, to_relays=True)
            await announce_deleted(rt, tx, url, activity, row)
    return url
