"""What a local group sends (FEP-1b12): Announce of what was posted to it, and Undo of that.

Used by services/groups.py for members' posts and by handlers/groups.py for remote posts
addressed to a group. Every activity here is the group's own (signed with its key) and goes
to the group's followers.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..activitypub import build
from ..activitypub.urls import Urls
from ..store import deliveries, groups
from ..store.db import Executor
from ..store.groups import Group, GroupPost
from .outbox import queue_activity

__all__ = ["announce_activity", "announce_object", "share_with_followers", "undo_announce"]


def _announce_id(urls: Urls, group: Group) -> str:
    return f"{urls.actor(group.username)}#announces/{uuid.uuid4().hex}"


async def announce_object(
    tx: Executor,
    urls: Urls,
    group: Group,
    object_id: str,
    author_uri: str,
    *,
    post_id: int | None = None,
    content_html: str = "",
    url: str | None = None,
) -> bool:
    """Announce{object id} (a boost, what Mastodon shows) to the group's followers, once per object."""
    announce_id = _announce_id(urls, group)
    fresh = await groups.record_post(
        tx, group.id, object_id, announce_id, author_uri, post_id=post_id, content_html=content_html, url=url
    )
    if not fresh:
        return False
    activity = build.announce(announce_id, urls.actor(group.username), object_id, urls.followers(group.username),
                              time.time())  # fmt: skip
    await queue_activity(tx, activity, group.id, followers_of=group.id)
    return True


async def announce_activity(tx: Executor, urls: Urls, group: Group, activity: dict[str, Any]) -> None:
    """Announce{Update} or Announce{Delete}: FEP-1b12 groups pass on changes as whole activities."""
    doc = build.announce(_announce_id(urls, group), urls.actor(group.username), activity,
                         urls.followers(group.username), time.time())  # fmt: skip
    await queue_activity(tx, doc, group.id, followers_of=group.id)


async def share_with_followers(tx: Executor, activity_row: int, group: Group) -> None:
    """Also deliver an author's own activity (Update, Delete) to the group's followers.

    Mastodon applies an author's Update or Delete of a post it knows whoever sent it there, and
    ignores an Announce of an activity: this is how an edit reaches a follower of the group only.
    One delivery per inbox: someone following the author too gets it once.
    """
    await deliveries.enqueue_followers(tx, activity_row, group.id, time.time())


async def undo_announce(tx: Executor, urls: Urls, group: Group, shown: GroupPost) -> bool:
    """Take an object out of the group: Undo{Announce} (an un-boost) to its followers."""
    if not await groups.mark_removed(tx, shown.id):
        return False
    if groups.ARCHIVED in shown.announce_id or groups.PRIVATE in shown.announce_id:
        return True  # imported from the archive, or in a members-only group: never announced, nothing to undo
    group_uri = urls.actor(group.username)
    followers = urls.followers(group.username)
    inner = build.announce(shown.announce_id, group_uri, shown.object_id, followers, shown.created_at)
    undo = build.undo(f"{shown.announce_id}/undo", group_uri, inner)
    undo.update(to=[build.PUBLIC], cc=[followers])
    await queue_activity(tx, undo, group.id, followers_of=group.id)
    return True
