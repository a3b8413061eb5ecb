"""Received activities, stored raw before processing, deduplicated by activity id.

Beside the raw body, an item keeps the document as the inbox normalised it (only when
normalising changed it): the worker reads that and never normalises again.

States: queued -> done | failed. A claim is a lease (locked_until, lease_owner); an item leased
by a process that died is released at once by a process on its host (store/leases.py), or else
claimed again once its lease runs out. A transient failure also parks an item with
locked_until (its retry time), without an owner.

Raw bodies of processed items are pruned after `inbox.keep_raw_days` (`prune_raw`); the row
itself stays, so its activity id still deduplicates a replay.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .db import Executor

__all__ = [
    "InboxItem",
    "add",
    "claim",
    "mark_done",
    "mark_done_many",
    "mark_failed",
    "prune_raw",
    "release",
    "renew_leases",
]


@dataclass(frozen=True)
class InboxItem:
    id: int
    activity_id: str
    actor_uri: str
    document: str  # the normalised document (the raw body when normalising changed nothing)
    attempts: int


_ADD = (
    "INSERT INTO inbox_items (activity_id, actor_uri, domain, body, document, received_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (activity_id) DO NOTHING RETURNING id"
)


async def add(
    db: Executor, activity_id: str, actor_uri: str, domain: str, body: str, document: str | None = None
) -> bool:
    """Store a verified activity (and its normalised form, if different); False for a duplicate.

    On a Database (not inside a caller's transaction), concurrent calls are group-committed:
    the inserts that arrive while one commit is on its way go together in the next
    transaction, and each caller returns only once its own row is committed.
    """
    params = (activity_id, actor_uri, domain, body, document, time.time())
    if not hasattr(db, "transaction"):
        return await db.fetchval(_ADD, params) is not None
    committer = _committers.get(db)
    if committer is None:
        committer = _committers[db] = _GroupCommit(db)
    return await committer.add(params) is not None


class _GroupCommit:
    """Batches concurrent inserts of one database into shared transactions, one at a time."""

    MAX_BATCH = 256

    def __init__(self, db: Executor) -> None:
        self._db = weakref.ref(db)  # the registry below must not keep the database alive
        self.waiting: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def add(self, params: tuple[Any, ...]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append((params, future))
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        try:
            while self.waiting:
                db = self._db()
                if db is None:
                    break
                # Let the requests that are already being handled join this batch.
                await asyncio.sleep(0)
                batch, self.waiting = self.waiting[: self.MAX_BATCH], self.waiting[self.MAX_BATCH :]
                try:
                    results = await db.fetchval_each(_ADD, [p for p, _ in batch])
                except Exception:
                    # One bad row must not fail the others: commit them one by one.
                    results = []
                    for params, future in batch:
                        try:
                            _settle(future, await db.fetchval(_ADD, params))
                        except Exception as exc:
                            if not future.done():
                                future.set_exception(exc)
                else:
                    for (_, future), value in zip(batch, results, strict=False):
                        _settle(future, value)
                batch = []
        finally:
            self.task = None
            for _, future in batch + self.waiting:
                if not future.done():
                    future.cancel()
            self.waiting = []


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


_committers: weakref.WeakKeyDictionary[Any, _GroupCommit] = weakref.WeakKeyDictionary()


async def claim(
    db: Executor, now: float, lease_seconds: float, limit: int, owner: str | None = None
) -> list[InboxItem]:
    """Lease up to `limit` queued items to `owner`, oldest first."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
    rows = await db.fetchall(
        f"""UPDATE inbox_items SET locked_until = ?, lease_owner = ?, attempts = attempts + 1
            WHERE id IN (SELECT id FROM inbox_items WHERE state = 'queued'
                           AND (locked_until IS NULL OR locked_until <= ?)
                         ORDER BY id LIMIT ?{skip_locked})
            RETURNING id, activity_id, actor_uri, COALESCE(document, body) AS document, attempts""",
        (now + lease_seconds, owner, now, limit),
    )
    items = [InboxItem(r["id"], r["activity_id"], r["actor_uri"], r["document"], r["attempts"]) for r in rows]
    items.sort(key=lambda i: i.id)
    return items


async def mark_done(db: Executor, item_id: int) -> None:
    """Processing succeeded."""
    await db.execute(
        "UPDATE inbox_items SET state = 'done', locked_until = NULL, lease_owner = NULL WHERE id = ?", (item_id,)
    )


async def mark_done_many(db: Executor, item_ids: Sequence[int]) -> None:
    """Processing of each of these items succeeded (one statement for a batch)."""
    if item_ids:
        marks = ", ".join("?" * len(item_ids))
        await db.execute(
            f"UPDATE inbox_items SET state = 'done', locked_until = NULL, lease_owner = NULL WHERE id IN ({marks})",
            tuple(item_ids),
        )


async def mark_failed(db: Executor, item_id: int, error: str) -> None:
    """Processing failed for good."""
    await db.execute(
        "UPDATE inbox_items SET state = 'failed', locked_until = NULL, lease_owner = NULL, last_error = ? WHERE id = ?",
        (error[:500], item_id),
    )


async def release(db: Executor, item_id: int, error: str, retry_at: float) -> None:
    """Processing hit a transient error; try again after retry_at."""
    await db.execute(
        "UPDATE inbox_items SET locked_until = ?, lease_owner = NULL, last_error = ? WHERE id = ?",
        (retry_at, error[:500], item_id),
    )


async def renew_leases(db: Executor, ids: Sequence[int], until: float, owner: str) -> None:
    """Extend `owner`'s leases of items still being processed (not those finished or parked since)."""
    if ids:
        marks = ", ".join("?" * len(ids))
        await db.execute(
            f"UPDATE inbox_items SET locked_until = ? WHERE state = 'queued' AND locked_until IS NOT NULL "
            f"AND lease_owner = ? AND id IN ({marks})",
            (until, owner, *ids),
        )


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
