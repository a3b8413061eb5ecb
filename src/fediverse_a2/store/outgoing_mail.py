"""The outgoing mail queue: written in a request or a CLI command, sent by the mail worker.

States: pending -> sent, or pending -> failed after too many attempts. A worker takes a row by
setting locked_until (a lease), so two processes never send the same mail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .db import Executor

__all__ = [
    "OutgoingMail",
    "claim_due",
    "delete_for_member",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "prune",
    "queue",
    "states",
]


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    member_id: int | None
    to_addr: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


def _mail(row: Any) -> OutgoingMail:
    return OutgoingMail(
        id=row["id"], member_id=row["member_id"], to_addr=row["to_addr"], subject=row["subject"],
        body_text=row["body_text"], body_html=row["body_html"], attempts=row["attempts"],
    )  # fmt: skip


async def queue(
    db: Executor, member_id: int | None, to_addr: str, subject: str, body_text: str, body_html: str | None
) -> None:
    """Queue one mail to be sent as soon as a worker gets to it."""
    now = time.time()
    await db.execute(
        "INSERT INTO outgoing_mail (member_id, to_addr, subject, body_text, body_html, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (member_id, to_addr, subject, body_text, body_html, now, now),
    )


async def claim_due(db: Executor, limit: int, lease_seconds: float) -> list[OutgoingMail]:
    """Take up to `limit` due mails under a lease; rows another worker took first are skipped."""
    now = time.time()
    rows = await db.fetchall(
        "SELECT id FROM outgoing_mail WHERE state = 'pending' AND next_attempt_at <= ? "
        "AND (locked_until IS NULL OR locked_until < ?) ORDER BY next_attempt_at, id LIMIT ?",
        (now, now, limit),
    )
    taken = []
    for row in rows:
        claimed = await db.fetchone(
            "UPDATE outgoing_mail SET locked_until = ? WHERE id = ? AND state = 'pending' "
            "AND (locked_until IS NULL OR locked_until < ?) "
            "RETURNING id, member_id, to_addr, subject, body_text, body_html, attempts",
            (now + lease_seconds, row["id"], now),
        )
        if claimed is not None:
            taken.append(_mail(claimed))
    return taken


async def mark_sent(db: Executor, mail_id: int) -> None:
    """The SMTP server took the mail."""
    await db.execute(
        "UPDATE outgoing_mail SET state = 'sent', sent_at = ?, locked_until = NULL, attempts = attempts + 1 "
        "WHERE id = ?",
        (time.time(), mail_id),
    )


async def mark_retry(db: Executor, mail_id: int, next_attempt_at: float, error: str) -> None:
    """Sending failed for now: try again later."""
    await db.execute(
        "UPDATE outgoing_mail SET attempts = attempts + 1, next_attempt_at = ?, locked_until = NULL, last_error = ? "
        "WHERE id = ?",
        (next_attempt_at, error[:500], mail_id),
    )


async def mark_failed(db: Executor, mail_id: int, error: str) -> None:
    """Sending failed for good (refused recipient, or too many attempts)."""
    await db.execute(
        "UPDATE outgoing_mail SET state = 'failed', attempts = attempts + 1, locked_until = NULL, last_error = ? "
        "WHERE id = ?",
        (error[:500], mail_id),
    )


async def states(db: Executor) -> dict[str, int]:
    """How many mails are in each state (for the CLI and tests)."""
    rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM outgoing_mail GROUP BY state")
    return {r["state"]: int(r["n"]) for r in rows}


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget every mail to a member, sent or waiting (an erased account)."""
    await db.execute("DELETE FROM outgoing_mail WHERE member_id = ?", (member_id,))


async def prune(db: Executor, before: float) -> int:
    """Forget mail that was sent or failed for good before a time."""
    return await db.execute("DELETE FROM outgoing_mail WHERE state IN ('sent', 'failed') AND created_at < ?", (before,))
