"""Events and the answers to them (RSVPs).

An event is a post of kind `event` (store/posts.py writes that row: author, title, description,
publication, cancelling as deletion, group); this module owns what only an event has: its times
and place (`events`, keyed by the post id), and who answered going, maybe or not going
(`event_rsvps`): members, and remote actors who sent Join, Accept, TentativeAccept or Reject.

Times are epoch seconds (UTC). "Upcoming" means not yet ended: an event that has no end counts
as ended once it started.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..activitypub.urls import Urls
from ..models import RSVP_STATUSES, Event, Post, Rsvp
from .db import Executor, Row
from .sql import chunks, marks, record

__all__ = [
    "EventRow",
    "MemberAnswer",
    "RsvpRow",
    "add",
    "add_many",
    "answer_of",
    "answers_of_member",
    "by_id",
    "count_by_status",
    "erase_for_member",
    "past",
    "remote_answerers",
    "remove_answer",
    "remove_answer_by_activity",
    "rsvp_owner",
    "rsvps",
    "set_answer",
    "set_answers",
    "upcoming",
    "update",
]

_SELECT = """
SELECT p.id, p.member_id, m.username, m.name AS author_name, p.title, p.body_md, p.content_html,
       p.published, p.updated, p.deleted_at, p.views, p.summary, p.language, p.state, p.kind,
       e.starts_at, e.ends_at, e.location_name, e.location_address, e.online_url
FROM events e JOIN posts p ON p.id = e.post_id JOIN members m ON m.id = p.member_id
"""
_LIVE = "p.deleted_at IS NULL AND p.state = 'published'"
_END = "COALESCE(e.ends_at, e.starts_at)"


@dataclass(frozen=True, slots=True)
class EventRow:
    """What an event has beyond its post: for `add` and the importer's `add_many`."""

    post_id: int
    starts_at: float
    ends_at: float | None
    location_name: str = ""
    location_address: str = ""
    online_url: str | None = None


@dataclass(frozen=True, slots=True)
class RsvpRow:
    """One answer to store: a member's (member_id set, actor_uri their actor URL) or a remote actor's."""

    post_id: int
    actor_uri: str
    status: str
    member_id: int | None = None
    activity_id: str | None = None
    at: float | None = None


def _event(row: Row) -> Event:
    post = Post(
        id=row["id"], member_id=row["member_id"], username=row["username"], author_name=row["author_name"],
        title=row["title"], body_md=row["body_md"], content_html=row["content_html"], published=row["published"],
        updated=row["updated"], deleted_at=row["deleted_at"], views=row["views"], summary=row["summary"],
        language=row["language"], state=row["state"], kind=row["kind"],
    )  # fmt: skip
    return Event(
        post=post,
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        location_name=row["location_name"],
        location_address=row["location_address"],
        online_url=row["online_url"],
    )


def _check_status(status: str) -> None:
    if status not in RSVP_STATUSES:
        raise ValueError(f"unknown answer {status!r}")


async def add(db: Executor, row: EventRow) -> None:
    """Store the times and place of an event whose post was just created."""
    await add_many(db, [row])


async def add_many(db: Executor, rows: Sequence[EventRow]) -> None:
    """Store the times and place of several events (the importer's batches); one already there stays."""
    await db.executemany(
        "INSERT INTO events (post_id, starts_at, ends_at, location_name, location_address, online_url) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id) DO NOTHING",
        [(r.post_id, r.starts_at, r.ends_at, r.location_name, r.location_address, r.online_url) for r in rows],
    )


async def update(db: Executor, row: EventRow) -> None:
    """Replace an event's times and place."""
    await db.execute(
        "UPDATE events SET starts_at = ?, ends_at = ?, location_name = ?, location_address = ?, online_url = ? "
        "WHERE post_id = ?",
        (row.starts_at, row.ends_at, row.location_name, row.location_address, row.online_url, row.post_id),
    )


async def by_id(db: Executor, post_id: int) -> Event | None:
    """An event by its (post) id, cancelled ones included: the caller decides (410)."""
    row = await db.fetchone(_SELECT + " WHERE p.id = ?", (post_id,))
    return _event(row) if row else None


async def upcoming(db: Executor, now: float, limit: int, offset: int = 0) -> list[Event]:
    """Live events that have not ended yet, soonest first."""
    rows = await db.fetchall(
        _SELECT + f" WHERE {_LIVE} AND {_END} >= ? ORDER BY e.starts_at, p.id LIMIT ? OFFSET ?",
        (now, limit, offset),
    )
    return [_event(r) for r in rows]


async def past(db: Executor, now: float, limit: int, offset: int = 0) -> list[Event]:
    """Live events that have ended, the most recent first."""
    rows = await db.fetchall(
        _SELECT + f" WHERE {_LIVE} AND {_END} < ? ORDER BY e.starts_at DESC, p.id DESC LIMIT ? OFFSET ?",
        (now, limit, offset),
    )
    return [_event(r) for r in rows]


# -- answers (RSVPs) ---------------------------------------------------------------------------


async def set_answer(db: Executor, row: RsvpRow) -> None:
    """Store or change one person's answer to an event (the latest answer counts)."""
    _check_status(row.status)
    at = row.at if row.at is not None else time.time()
    # Another answer by the same person replaces this one's activity id: clear a clash first.
    if row.activity_id is not None:
        await db.execute(
            "UPDATE event_rsvps SET activity_id = NULL WHERE activity_id = ? AND NOT (post_id = ? AND actor_uri = ?)",
            (row.activity_id, row.post_id, row.actor_uri),
        )
    await db.execute(
        """INSERT INTO event_rsvps (post_id, actor_uri, member_id, status, activity_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (post_id, actor_uri) DO UPDATE SET status = excluded.status,
               activity_id = excluded.activity_id, updated_at = excluded.updated_at""",
        (row.post_id, row.actor_uri, row.member_id, row.status, row.activity_id, at, at),
    )


async def set_answers(db: Executor, rows: Sequence[RsvpRow]) -> None:
    """Store answers in a batch (the importer): an answer already stored for that person stays as it is."""
    for row in rows:
        _check_status(row.status)
    now = time.time()
    await db.executemany(
        """INSERT INTO event_rsvps (post_id, actor_uri, member_id, status, activity_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, actor_uri) DO NOTHING""",
        [(r.post_id, r.actor_uri, r.member_id, r.status, r.activity_id, r.at or now, r.at or now) for r in rows],
    )


async def remove_answer(db: Executor, post_id: int, actor_uri: str) -> bool:
    """Forget one person's answer; False when there was none."""
    return bool(await db.execute("DELETE FROM event_rsvps WHERE post_id = ? AND actor_uri = ?", (post_id, actor_uri)))


async def remove_answer_by_activity(db: Executor, activity_id: str, actor_uri: str) -> bool:
    """Forget the answer an actor gave with this activity (its Undo); False when none matches."""
    return bool(
        await db.execute("DELETE FROM event_rsvps WHERE activity_id = ? AND actor_uri = ?", (activity_id, actor_uri))
    )


async def answer_of(db: Executor, post_id: int, actor_uri: str) -> str | None:
    """One person's answer to an event, or None."""
    value = await db.fetchval(
        "SELECT status FROM event_rsvps WHERE post_id = ? AND actor_uri = ?", (post_id, actor_uri)
    )
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class MemberAnswer:
    """A member's answer to an event, as their data export lists it."""

    id: int
    post_id: int
    title: str
    starts_at: float
    status: str
    updated_at: float


async def answers_of_member(db: Executor, member_id: int, after: int, limit: int) -> list[MemberAnswer]:
    """A member's answers to events, in the order given, after answer `after` (for an export)."""
    rows = await db.fetchall(
        "SELECT r.id, r.post_id, p.title, e.starts_at, r.status, r.updated_at FROM event_rsvps r "
        "JOIN posts p ON p.id = r.post_id JOIN events e ON e.post_id = r.post_id "
        "WHERE r.member_id = ? AND r.id > ? ORDER BY r.id LIMIT ?",
        (member_id, after, limit),
    )
    return [record(MemberAnswer, r) for r in rows]


async def remote_answerers(db: Executor, post_id: int) -> list[str]:
    """The remote actors who answered an event (they hear of its changes and its cancellation)."""
    rows = await db.fetchall(
        "SELECT actor_uri FROM event_rsvps WHERE post_id = ? AND member_id IS NULL ORDER BY id", (post_id,)
    )
    return [str(r["actor_uri"]) for r in rows]


async def rsvp_owner(db: Executor, activity_id: str) -> str | None:
    """The actor whose answer came in this activity (for the inbox's ownership check of an Undo)."""
    value = await db.fetchval("SELECT actor_uri FROM event_rsvps WHERE activity_id = ?", (activity_id,))
    return None if value is None else str(value)


async def rsvps(db: Executor, post_id: int, urls: Urls) -> list[Rsvp]:
    """Every answer to an event, oldest first, with each person's name, handle and profile URL.

    Answers of blocked actors stay stored but are not listed (as their comments are hidden).
    """
    rows = await db.fetchall(
        """SELECT r.actor_uri, r.status, r.member_id, r.updated_at, m.username, m.name AS member_name,
                  a.name AS actor_name, a.handle, a.url
           FROM event_rsvps r
           LEFT JOIN members m ON m.id = r.member_id
           LEFT JOIN actors a ON a.uri = r.actor_uri
           WHERE r.post_id = ? AND r.actor_uri NOT IN (SELECT actor_uri FROM blocked_actors)
           ORDER BY r.created_at, r.id""",
        (post_id,),
    )
    return [_rsvp(r, urls) for r in rows]


def _rsvp(row: Row, urls: Urls) -> Rsvp:
    if row["username"]:
        handle = urls.handle(row["username"])
        name, url = row["member_name"] or row["username"], row["actor_uri"]
    else:
        handle = row["handle"] or row["actor_uri"]
        name, url = row["actor_name"] or handle, row["url"] or row["actor_uri"]
    return Rsvp(
        actor_uri=row["actor_uri"],
        status=row["status"],
        member_id=row["member_id"],
        name=name,
        handle=handle,
        url=url,
        updated_at=row["updated_at"],
    )


async def count_by_status(db: Executor, post_id: int) -> dict[str, int]:
    """How many answered going, maybe and not going."""
    rows = await db.fetchall(
        "SELECT status, COUNT(*) AS n FROM event_rsvps WHERE post_id = ? "
        "AND actor_uri NOT IN (SELECT actor_uri FROM blocked_actors) GROUP BY status",
        (post_id,),
    )
    counts = dict.fromkeys(RSVP_STATUSES, 0)
    counts.update({r["status"]: int(r["n"]) for r in rows})
    return counts


async def erase_for_member(db: Executor, member_id: int, post_ids: Sequence[int]) -> None:
    """An erased account: its answers to events, and its events' place, link and every answer to them, go."""
    await db.execute("DELETE FROM event_rsvps WHERE member_id = ?", (member_id,))
    for chunk in chunks(list(post_ids)):
        await db.execute(f"DELETE FROM event_rsvps WHERE post_id IN ({marks(len(chunk))})", tuple(chunk))
        await db.execute(
            f"UPDATE events SET location_name = '', location_address = '', online_url = NULL "
            f"WHERE post_id IN ({marks(len(chunk))})",
            tuple(chunk),
        )
