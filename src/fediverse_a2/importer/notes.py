"""PURE: the Create activities of imported posts and comments, as the outbox stores them.

They are the same documents a post or comment written here gets (`activitypub.build`), with the
original dates: `published` of the Note and of the Create is when it was written on the old
platform. They are stored, never delivered.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ..activitypub import build
from ..activitypub.urls import Urls
from ..models import Post
from ..store.activities import NewActivity

__all__ = ["comment_create", "post_create"]


def post_create(
    post: Post,
    urls: Urls,
    language: str,
    *,
    replies_total: int,
    first_replies: Sequence[str],
    tags: Sequence[build.HashtagRef],
    images: Sequence[build.Image],
) -> NewActivity:
    """The Create{Note} of an imported post, dated when it was published."""
    note = build.post_note(post, urls, language, replies_total, list(first_replies), tags=tags, images=images)
    activity = build.create(note)
    return NewActivity(
        activity["id"], post.member_id, "Create", note["id"], orjson.dumps(activity).decode(), post.published
    )


def comment_create(
    comment_url: str,
    member_id: int,
    username: str,
    post_url: str,
    post_author: str,
    content_html: str,
    published: float,
    language: str,
    urls: Urls,
) -> NewActivity:
    """The Create{Note} of an imported comment, a reply to its post, dated when it was written."""
    note = build.comment_note(
        comment_url, urls.actor(username), post_url, content_html, published, language,
        [build.PUBLIC], [urls.followers(post_author)],
    )  # fmt: skip
    activity = build.create(note)
    return NewActivity(activity["id"], member_id, "Create", comment_url, orjson.dumps(activity).decode(), published)
