"""The outgoing mail queue: written in a request or a CLI command, sent by the mail worker.

States: pending -> sent; pending -> pending (a failure to retry at next_attempt_at); pending
-> failed (refused, or too many attempts). Claiming is a lease of the one leased queue
(store/queue.py) with its owner, renewed while the mail is being sent, handed back when the
worker stops, and taken back at once from a dead owner on this host (work/reclaim.py): two
processes never send the same mail, and a crashed one delays none.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .db import Executor
from .queue import LeasedQueue, Move

__all__ = [
    "QUEUE",
    "MailState",
    "OutgoingMail",
    "claim",
    "delete_for_member",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "prune",
    "queue",
    "states",
]


class MailState(StrEnum):
    """The states of one outgoing mail."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


_S = MailState
TRANSITIONS: Mapping[MailState, frozenset[MailState]] = MappingProxyType(
    {_S.PENDING: frozenset({_S.PENDING, _S.SENT, _S.FAILED}), _S.SENT: frozenset(), _S.FAILED: frozenset()}
)


@dataclass(frozen=True)
class OutgoingMail:
    """A queued mail leased to a worker; `attempts` counts the tries before this one."""

    id: int
    member_id: int | None
    to_addr: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


def _mail(r: Any) -> OutgoingMail:
    return OutgoingMail(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


QUEUE: LeasedQueue[MailState, OutgoingMail] = LeasedQueue(
    table="outgoing_mail",
    states=MailState,
    waiting=MailState.PENDING,
    transitions=TRANSITIONS,
    order="next_attempt_at, id",
    returning="id, member_id, to_addr, subject, body_text, body_html, attempts",
    read=_mail,
)


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


async def claim(db: Executor, now: float, lease_seconds: float, limit: int, owner: str) -> list[OutgoingMail]:
    """Lease up to `limit` due mails to `owner`, the longest waiting first."""
    return await QUEUE.claim(db, now, lease_seconds, limit, owner)


async def mark_sent(db: Executor, mail: OutgoingMail) -> None:
    """The SMTP server took the mail."""
    await QUEUE.move(db, [Move(mail.id, MailState.SENT, (mail.attempts + 1, time.time()))], ("attempts", "sent_at"))


async def mark_retry(db: Executor, mail: OutgoingMail, next_attempt_at: float, error: str) -> None:
    """Sending failed for now: try again later."""
    await QUEUE.move(
        db,
        [Move(mail.id, MailState.PENDING, (mail.attempts + 1, next_attempt_at, error[:500]))],
        ("attempts", "next_attempt_at", "last_error"),
    )


async def mark_failed(db: Executor, mail: OutgoingMail, error: str) -> None:
    """Sending failed for good (refused recipient, or too many attempts)."""
    await QUEUE.move(
        db, [Move(mail.id, MailState.FAILED, (mail.attempts + 1, error[:500]))], ("attempts", "last_error")
    )


async def states(db: Executor) -> dict[str, int]:
    """How many mails are in each state (for the CLI and tests)."""
    return await QUEUE.counts(db)


async def delete_for_member(db: Executor, member_id: int) -> None:
    """Forget every mail to a member, sent or waiting (an erased account)."""
    await db.execute("DELETE FROM outgoing_mail WHERE member_id = ?", (member_id,))


async def prune(db: Executor, before: float) -> int:
    """Forget mail that was sent or failed for good before a time."""
    return await db.execute("DELETE FROM outgoing_mail WHERE state IN ('sent', 'failed') AND created_at < ?", (before,))
