"""Publishing, editing and deleting blog posts, each queued for delivery to followers."""

from __future__ import annotations

from ..activitypub import build
from ..content import render_markdown
from ..errors import UserError
from ..federation.outbox import queue_activity
from ..models import Post
from ..runtime import Runtime
from ..store import comments, posts
from .members import require_member

__all__ = ["delete_post", "edit_post", "publish_post", "require_post"]

MAX_TITLE = 300
MAX_BODY = 200_000


def _check(title: str, body: str) -> None:
    if not title.strip():
        raise UserError("--title must not be empty")
    if not body.strip():
        raise UserError("the body must not be empty")
    if len(title) > MAX_TITLE:
        raise UserError(f"--title is longer than {MAX_TITLE} characters")
    if len(body) > MAX_BODY:
        raise UserError(f"the body is longer than {MAX_BODY} characters")


async def require_post(rt: Runtime, url: str) -> Post:
    """The live local post a URL names, or a UserError."""
    post_id = rt.urls.post_id(url)
    post = await posts.by_id(rt.db, post_id) if post_id is not None else None
    if post is None:
        raise UserError(f"not a post on this instance: {url}")
    if post.deleted_at is not None:
        raise UserError(f"post was deleted: {url}")
    return post


async def publish_post(rt: Runtime, username: str, title: str, body: str) -> str:
    """Store a post and queue Create{Note} to every follower; returns the post URL."""
    member = await require_member(rt, username)
    _check(title, body)
    html = render_markdown(body)
    async with rt.db.transaction() as tx:
        post_id = await posts.create(tx, member.id, title.strip(), body, html)
        post = await posts.by_id(tx, post_id)
        assert post is not None
        note = build.post_note(post, rt.urls, rt.config.instance.language)
        await queue_activity(tx, build.create(note), member.id, followers_of=member.id)
    return rt.urls.post(post_id)


async def edit_post(rt: Runtime, url: str, title: str | None, body: str | None) -> str:
    """Change a post's title and/or body and queue an Update with `updated` set."""
    post = await require_post(rt, url)
    new_title = post.title if title is None else title
    new_body = post.body_md if body is None else body
    _check(new_title, new_body)
    html = render_markdown(new_body)
    async with rt.db.transaction() as tx:
        updated = await posts.update(tx, post.id, new_title.strip(), new_body, html)
        fresh = await posts.by_id(tx, post.id)
        assert fresh is not None
        total = await comments.count_visible(tx, post.id, rt.policy)
        note = build.post_note(fresh, rt.urls, rt.config.instance.language, total)
        await queue_activity(tx, build.update(note, updated), post.member_id, followers_of=post.member_id)
    return url


async def delete_post(rt: Runtime, url: str) -> str:
    """Mark a post deleted (410 from then on) and queue a Delete to every follower."""
    post = await require_post(rt, url)
    actor = rt.urls.actor(post.username)
    async with rt.db.transaction() as tx:
        await posts.mark_deleted(tx, post.id)
        activity = build.delete(actor, url, [build.PUBLIC], [rt.urls.followers(post.username)])
        await queue_activity(tx, activity, post.member_id, followers_of=post.member_id)
    return url
