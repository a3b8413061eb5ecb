"""The transactions of one import run: one per batch, or (a dry run) one for everything, rolled back.

A dry run does all the work of a real one (so what it reports is what a real run would do) inside
a single transaction that is rolled back at the end; media files are not written. On SQLite that
transaction holds the write lock until the dry run ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..store.db import Database, Executor

__all__ = ["Session"]


class _DryRunDone(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


class Session:
    """`async with session.run(): ... async with session.batch() as tx: ...`."""

    def __init__(self, db: Database, *, dry_run: bool) -> None:
        self.db = db
        self.dry_run = dry_run
        self._outer: Executor | None = None

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """The whole import; a dry run's changes are undone when it ends."""
        if not self.dry_run:
            yield
            return
        try:
            async with self.db.transaction() as tx:
                self._outer = tx
                yield
                raise _DryRunDone
        except _DryRunDone:
            pass
        finally:
            self._outer = None

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Executor]:
        """One batch: committed when the block ends (a dry run: part of the one transaction)."""
        if self._outer is not None:
            yield self._outer
            return
        async with self.db.transaction() as tx:
            yield tx
