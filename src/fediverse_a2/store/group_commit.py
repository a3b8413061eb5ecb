"""Group commit: concurrent single-row statements of one database share transactions.

The inbox route stores each verified activity with one `INSERT ... RETURNING`. Under load
hundreds arrive within a few milliseconds, and a commit each would be most of their cost. A
`GroupCommit` gathers the statements that arrive while one commit is on its way and sends them
together in the next transaction (`fetchval_each`, at most `MAX_BATCH` rows); each caller
gets its own row's value and returns only once that row is committed. A batch that fails is
sent again row by row, so one bad row never fails the others.

`fetchval(db, sql, params)` is the entry point: one committer per (database, statement), kept
only as long as the database lives.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from .db import Database

__all__ = ["MAX_BATCH", "GroupCommit", "fetchval"]

MAX_BATCH = 256


async def fetchval(db: Database, sql: str, params: Sequence[Any]) -> Any:
    """`db.fetchval(sql, params)`, committed together with whatever else is waiting for `sql` on `db`."""
    committers = _committers.get(db)
    if committers is None:
        committers = _committers[db] = {}
    committer = committers.get(sql)
    if committer is None:
        committer = committers[sql] = GroupCommit(db, sql)
    return await committer.fetchval(params)


class GroupCommit:
    """Batches concurrent runs of one statement on one database into shared transactions, one at a time."""

    def __init__(self, db: Database, sql: str) -> None:
        self._db = weakref.ref(db)  # the registry below must not keep the database alive
        self.sql = sql
        self.waiting: list[tuple[Sequence[Any], asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def fetchval(self, params: Sequence[Any]) -> Any:
        """The statement's first value for these parameters, once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append((params, future))
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Sequence[Any], asyncio.Future[Any]]] = []
        try:
            while self.waiting:
                db = self._db()
                if db is None:
                    break
                # Let the requests that are already being handled join this batch.
                await asyncio.sleep(0)
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                try:
                    results = await db.fetchval_each(self.sql, [p for p, _ in batch])
                except Exception:
                    # One bad row must not fail the others: commit them one by one.
                    for params, future in batch:
                        try:
                            _settle(future, await db.fetchval(self.sql, params))
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


_committers: weakref.WeakKeyDictionary[Any, dict[str, GroupCommit]] = weakref.WeakKeyDictionary()
