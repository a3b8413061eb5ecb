"""What an account of the client API counts: statuses, followers, following, when it last wrote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .db import Executor
from .sql import LIVE_BLOG_POST

__all__ = ["AccountStats", "InstanceStats", "for_instance", "for_members"]


@dataclass(frozen=True, slots=True)
class AccountStats:
    statuses: int  # live published posts and visible comments
    followers: int
    following: int  # accepted follows
    last_status_at: float | None


# Statuses are blog posts and comments: events are not listed among an account's statuses.
_QUERY = f"""
SELECT m.id,
  (SELECT COUNT(*) FROM posts p WHERE p.member_id = m.id AND {LIVE_BLOG_POST}),
  (SELECT COUNT(*) FROM comments c WHERE c.member_id = m.id AND c.state = 'visible'),
  (SELECT COUNT(*) FROM followers f WHERE f.member_id = m.id),
  (SELECT COUNT(*) FROM following g WHERE g.member_id = m.id AND g.state = 'accepted'),
  (SELECT MAX(p.published) FROM posts p WHERE p.member_id = m.id AND {LIVE_BLOG_POST}),
  (SELECT MAX(c.published) FROM comments c WHERE c.member_id = m.id AND c.state = 'visible')
FROM members m WHERE m.id IN ({{marks}})
"""


async def for_members(db: Executor, member_ids: Sequence[int]) -> dict[int, AccountStats]:
    """The counts of several members, in one statement."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return {}
    rows = await db.fetchall(_QUERY.format(marks=", ".join("?" * len(wanted))), tuple(wanted))
    out: dict[int, AccountStats] = {}
    for member_id, posts, comments, followers, following, last_post, last_comment in rows:
        last = max((t for t in (last_post, last_comment) if t is not None), default=None)
        out[int(member_id)] = AccountStats(int(posts) + int(comments), int(followers), int(following), last)
    return out


@dataclass(frozen=True, slots=True)
class InstanceStats:
    members: int
    statuses: int  # live posts and visible comments of members
    domains: int  # other servers we know actors of


async def for_instance(db: Executor) -> InstanceStats:
    """What the instance entity counts."""
    row = await db.fetchone(
        """SELECT (SELECT COUNT(*) FROM members WHERE kind = 'person' AND state = 'active'),
                  (SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL AND state = 'published' AND kind = 'post'),
                  (SELECT COUNT(*) FROM comments WHERE member_id IS NOT NULL AND state = 'visible'),
                  (SELECT COUNT(DISTINCT domain) FROM actors)"""
    )
    assert row is not None
    people, posts, comments, domains = row
    return InstanceStats(int(people), int(posts) + int(comments), int(domains))
