"""Notifications of members (replies, mentions, likes, boosts, follows) and their mail choices.

A followers-only or direct reply or mention carries its text (`content_html`): the member it
is addressed to reads it on the notifications page, and nowhere else shows it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..notices import GROUPS, MailSettings, Notification
from .db import Executor, Row
from .sql import chunks, columns, record

__all__ = [
    "NewNotification",
    "add",
    "add_many",
    "by_id",
    "claim_mail",
    "delete_for_member",
    "digest_items",
    "digest_members",
    "dismiss",
    "forget_activity",
    "forget_actor",
    "forget_texts_of",
    "get_settings",
    "mark_all_read",
    "page",
    "page_between",
    "put_settings",
    "to_triage",
    "unread_count",
    "update_text",
]

_COLUMNS = columns(Notification)
_WIDTH = _COLUMNS.count(",") + 1


def _notification(row: Row) -> Notification:
    """The notification in the first columns of a row (to_triage reads more after them)."""
    return record(Notification, row[:_WIDTH])


def _settings(language: str | None, modes: Sequence[str | None]) -> MailSettings:
    """Mail choices from the language and GROUPS columns of notification_settings (NULL: the default)."""
    return MailSettings(modes={g: mode for g, mode in zip(GROUPS, modes, strict=True) if mode}, language=language)


async def add(
    db: Executor,
    member_id: int,
    kind: str,
    actor_uri: str,
    actor_name: str,
    actor_url: str | None,
    object_url: str,
    activity_id: str | None = None,
    content_html: str | None = None,
    *,
    subject: str | None = None,
    excerpt: str | None = None,
) -> bool:
    """Store one notification; an activity already notified to this member (kind alike) is not stored twice.

    `subject` is the title of the member's post it concerns, `excerpt` the plain beginning of what was said."""
    values = (member_id, kind, actor_uri, actor_name, actor_url, object_url, activity_id, time.time(), content_html,
              subject, excerpt)  # fmt: skip
    if activity_id is None:
        sql = (
            "INSERT INTO notifications (member_id, kind, actor_uri, actor_name, actor_url, object_url, activity_id, "
            "created_at, content_html, subject, excerpt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        return await db.execute(sql, values) > 0
    # One statement: the insert happens only when no row of this activity, member and kind exists.
    count = await db.execute(
        "INSERT INTO notifications (member_id, kind, actor_uri, actor_name, actor_url, object_url, activity_id, "
        "created_at, content_html, subject, excerpt) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS ("
        "SELECT 1 FROM notifications WHERE activity_id = ? AND member_id = ? AND kind = ?)",
        (*values, activity_id, member_id, kind),
    )
    return count > 0


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A notification to store with others in one statement (`add_many`)."""

    member_id: int
    kind: str
    actor_uri: str
    actor_name: str
    actor_url: str | None
    object_url: str
    activity_id: str
    content_html: str | None = None
    subject: str | None = None  # the title of the member's post it concerns
    excerpt: str | None = None  # the plain beginning of what was said


# Typed in the first place they appear, so PostgreSQL does not take the VALUES as text.
_ROW = "(CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?, CAST(? AS DOUBLE PRECISION), ?, ?, ?)"


async def add_many(db: Executor, rows: Sequence[NewNotification]) -> None:
    """Store notifications in one statement (per 500); like `add`, one already stored for the same
    activity, member and kind (or twice in `rows`) is stored once."""
    unique = list({(r.activity_id, r.member_id, r.kind): r for r in rows}.values())
    now = time.time()
    for chunk in chunks(unique):
        values: list[object] = []
        for r in chunk:
            values += (r.member_id, r.kind, r.actor_uri, r.actor_name, r.actor_url, r.object_url, r.activity_id, now)
            values += (r.content_html, r.subject, r.excerpt)
        await db.execute(
            "INSERT INTO notifications (member_id, kind, actor_uri, actor_name, actor_url, object_url, activity_id, "
            f"created_at, content_html, subject, excerpt) SELECT * FROM (VALUES {', '.join([_ROW] * len(chunk))}) AS v "
            "WHERE NOT EXISTS (SELECT 1 FROM notifications n "
            "WHERE n.activity_id = v.column7 AND n.member_id = v.column1 AND n.kind = v.column2)",
            values,
        )


async def update_text(db: Executor, activity_id: str, actor_uri: str, content_html: str, excerpt: str | None) -> None:
    """Its author edited a note: the notifications that quote it show the new excerpt (and a private
    note's, the new text)."""
    await db.execute(
        "UPDATE notifications SET content_html = ? "
        "WHERE activity_id = ? AND actor_uri = ? AND content_html IS NOT NULL",
        (content_html, activity_id, actor_uri),
    )
    await db.execute(
        "UPDATE notifications SET excerpt = ? WHERE activity_id = ? AND actor_uri = ? AND excerpt IS NOT NULL",
        (excerpt, activity_id, actor_uri),
    )


async def forget_texts_of(db: Executor, actor_uri: str) -> None:
    """An actor deleted itself: the private notes it sent are not kept in notifications."""
    await db.execute("DELETE FROM notifications WHERE actor_uri = ? AND content_html IS NOT NULL", (actor_uri,))


async def forget_activity(db: Executor, activity_id: str, actor_uri: str) -> None:
    """An Undo: the notifications an actor's activity made go away."""
    await db.execute("DELETE FROM notifications WHERE activity_id = ? AND actor_uri = ?", (activity_id, actor_uri))


async def page(db: Executor, member_id: int, limit: int, offset: int = 0) -> list[Notification]:
    """A member's notifications, newest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM notifications WHERE member_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [_notification(r) for r in rows]


async def page_between(
    db: Executor,
    member_id: int,
    kinds: Sequence[str],
    *,
    below: int | None,
    above: int | None,
    limit: int,
    oldest_first: bool = False,
) -> list[Notification]:
    """A member's notifications of some kinds with ids between two (exclusive), newest first (or oldest first)."""
    if not kinds:
        return []
    where = f"member_id = ? AND kind IN ({', '.join('?' * len(kinds))})"
    params: list[object] = [member_id, *kinds]
    if below is not None:
        where += " AND id < ?"
        params.append(below)
    if above is not None:
        where += " AND id > ?"
        params.append(above)
    order = "ASC" if oldest_first else "DESC"
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM notifications WHERE {where} ORDER BY id {order} LIMIT ?", (*params, limit)
    )
    return [_notification(r) for r in rows]


async def by_id(db: Executor, member_id: int, notification_id: int) -> Notification | None:
    """One of a member's notifications."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM notifications WHERE id = ? AND member_id = ?", (notification_id, member_id)
    )
    return None if row is None else _notification(row)


async def dismiss(db: Executor, member_id: int, notification_id: int | None = None) -> int:
    """Remove one of a member's notifications (or, with None, all of them); how many went."""
    if notification_id is None:
        return await db.execute("DELETE FROM notifications WHERE member_id = ?", (member_id,))
    return await db.execute("DELETE FROM notifications WHERE id = ? AND member_id = ?", (notification_id, member_id))


async def unread_count(db: Executor, member_id: int) -> int:
    """How many of a member's notifications are not read yet."""
    value = await db.fetchval(
        "SELECT COUNT(*) FROM notifications WHERE member_id = ? AND read_at IS NULL", (member_id,)
    )
    return int(value or 0)


async def mark_all_read(db: Executor, member_id: int, up_to_id: int | None = None) -> int:
    """Mark a member's unread notifications read (those up to `up_to_id`, when given: what the page showed)."""
    if up_to_id is None:
        return await db.execute(
            "UPDATE notifications SET read_at = ? WHERE member_id = ? AND read_at IS NULL", (time.time(), member_id)
        )
    return await db.execute(
        "UPDATE notifications SET read_at = ? WHERE member_id = ? AND read_at IS NULL AND id <= ?",
        (time.time(), member_id, up_to_id),
    )


async def get_settings(db: Executor, member_id: int) -> MailSettings:
    """A member's mail choices (the defaults when they never chose)."""
    row = await db.fetchone(f"SELECT language, {', '.join(GROUPS)} FROM notification_settings WHERE member_id = ?",
                            (member_id,))  # fmt: skip
    if row is None:
        return MailSettings(modes={})
    return _settings(row[0], row[1:])


async def put_settings(db: Executor, member_id: int, settings: MailSettings) -> None:
    """Store a member's mail choices."""
    values = [settings.modes.get(g) for g in GROUPS]
    updates = ", ".join(f"{g} = excluded.{g}" for g in ("language", *GROUPS))
    await db.execute(
        f"INSERT INTO notification_settings (member_id, language, {', '.join(GROUPS)}) "
        f"VALUES (?, ?, {', '.join('?' for _ in GROUPS)}) ON CONFLICT (member_id) DO UPDATE SET {updates}",
        (member_id, settings.language, *values),
    )


async def to_triage(db: Executor, limit: int) -> list[tuple[Notification, str | None, MailSettings]]:
    """Notifications the mail worker has not looked at yet, with their member's address and choices."""
    rows = await db.fetchall(
        f"SELECT {columns(Notification, 'n')}, m.email, s.language, {', '.join(f's.{g}' for g in GROUPS)} "
        "FROM notifications n JOIN members m ON m.id = n.member_id "
        "LEFT JOIN notification_settings s ON s.member_id = n.member_id "
        "WHERE n.mail_state = 'new' ORDER BY n.id LIMIT ?",
        (limit,),
    )
    return [(_notification(row), row[_WIDTH], _settings(row[_WIDTH + 1], row[_WIDTH + 2 :])) for row in rows]


async def claim_mail(db: Executor, notification_id: int, old: str, new: str) -> bool:
    """Move a notification's mail state from `old` to `new`; False when another worker was first."""
    return (
        await db.execute(
            "UPDATE notifications SET mail_state = ? WHERE id = ? AND mail_state = ?", (new, notification_id, old)
        )
        > 0
    )


async def digest_members(db: Executor) -> list[int]:
    """Members with notifications waiting for the digest."""
    rows = await db.fetchall("SELECT DISTINCT member_id FROM notifications WHERE mail_state = 'digest'")
    return [int(r[0]) for r in rows]


async def digest_items(db: Executor, member_id: int, limit: int) -> list[Notification]:
    """A member's notifications waiting for the digest, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM notifications WHERE member_id = ? AND mail_state = 'digest' ORDER BY id LIMIT ?",
        (member_id, limit),
    )
    return [_notification(r) for r in rows]


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget a member's notifications and mail choices (an erased account)."""
    await db.execute("DELETE FROM notifications WHERE member_id = ?", (member_id,))
    await db.execute("DELETE FROM notification_settings WHERE member_id = ?", (member_id,))


async def forget_actor(db: Executor, actor_uri: str) -> None:
    """Forget the notifications an actor's activities made for anyone (that actor was erased)."""
    await db.execute("DELETE FROM notifications WHERE actor_uri = ?", (actor_uri,))
