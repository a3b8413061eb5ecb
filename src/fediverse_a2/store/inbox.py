"""Received activities, stored raw before processing, deduplicated by activity id.

Beside the raw body, an item keeps the document as the inbox normalised it (only when
normalising changed it): the worker reads that and never normalises again.

States: queued -> done | failed, and queued -> queued for a transient failure (retried at
next_attempt_at). A claim is a lease (locked_until, lease_owner) of the one leased queue
(store/queue.py); an item leased by a process that died is released at once by a process on
its host (work/reclaim.py), or else claimed again once its lease runs out. An attempt is
counted when an item is claimed, so one that crashes its worker again and again runs out.

Concurrent `add`s on the database are group-committed (store/group_commit.py).

Raw bodies of processed items are pruned after `inbox.keep_raw_days` (`prune_raw`); the row
itself stays, so its activity id still deduplicates a replay.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from . import group_commit
from .db import Database, Executor
from .queue import LeasedQueue, Move

__all__ = [
    "PRUNE_CHUNK",
    "QUEUE",
    "InboxItem",
    "InboxState",
    "add",
    "claim",
    "mark_done",
    "mark_done_many",
    "mark_failed",
    "prune_raw",
    "release",
]


class InboxState(StrEnum):
    """The states of one received activity."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


_S = InboxState
TRANSITIONS: Mapping[InboxState, frozenset[InboxState]] = MappingProxyType(
    {_S.QUEUED: frozenset({_S.QUEUED, _S.DONE, _S.FAILED}), _S.DONE: frozenset(), _S.FAILED: frozenset()}
)


@dataclass(frozen=True)
class InboxItem:
    """A stored activity leased to a worker."""

    id: int
    activity_id: str
    actor_uri: str
    document: str  # the normalised document (the raw body when normalising changed nothing)
    attempts: int


def _item(r: Any) -> InboxItem:
    return InboxItem(r[0], r[1], r[2], r[3], r[4])


QUEUE: LeasedQueue[InboxState, InboxItem] = LeasedQueue(
    table="inbox_items",
    states=InboxState,
    waiting=InboxState.QUEUED,
    transitions=TRANSITIONS,
    order="id",
    returning="id, activity_id, actor_uri, COALESCE(document, body), attempts",
    read=_item,
    counts_on_claim=True,
)

_ADD = (
    "INSERT INTO inbox_items (activity_id, actor_uri, domain, body, document, received_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (activity_id) DO NOTHING RETURNING id"
)


async def add(
    db: Database, activity_id: str, actor_uri: str, domain: str, body: str, document: str | None = None
) -> bool:
    """Store a verified activity (and its normalised form, if different); False for a duplicate.

    Concurrent calls are group-committed: each caller returns once its own row is committed.
    """
    params = (activity_id, actor_uri, domain, body, document, time.time())
    return await group_commit.fetchval(db, _ADD, params) is not None


async def claim(db: Executor, now: float, lease_seconds: float, limit: int, owner: str) -> list[InboxItem]:
    """Lease up to `limit` queued items to `owner`, oldest first."""
    items = await QUEUE.claim(db, now, lease_seconds, limit, owner)
    items.sort(key=lambda i: i.id)
    return items


async def mark_done(db: Executor, item_id: int) -> None:
    """Processing succeeded."""
    await QUEUE.move_all(db, [item_id], InboxState.DONE)


async def mark_done_many(db: Executor, item_ids: Sequence[int]) -> None:
    """Processing of each of these items succeeded (one statement for a batch)."""
    await QUEUE.move_all(db, item_ids, InboxState.DONE)


async def mark_failed(db: Executor, item_id: int, error: str) -> None:
    """Processing failed for good."""
    await QUEUE.move(db, [Move(item_id, InboxState.FAILED, (error[:500],))], ("last_error",))


async def release(db: Executor, item_id: int, error: str, retry_at: float) -> None:
    """Processing hit a transient error; try again after retry_at."""
    await QUEUE.move(db, [Move(item_id, InboxState.QUEUED, (retry_at, error[:500]))], ("next_attempt_at", "last_error"))


PRUNE_CHUNK = 1000


async def prune_raw(db: Executor, received_before: float, limit: int = PRUNE_CHUNK) -> int:
    """Empty the raw and normalised bodies of up to `limit` processed items received before then.

    The row keeps its activity id (the dedupe key), actor, state and times. Queued items keep
    their body: they still have to be processed. Returns how many rows were pruned.
    """
    return await db.execute(
        """UPDATE inbox_items SET body = '', document = NULL
           WHERE id IN (SELECT id FROM inbox_items
                        WHERE body <> '' AND received_at < ? AND state <> 'queued'
                        ORDER BY received_at LIMIT ?)""",
        (received_before, limit),
    )
