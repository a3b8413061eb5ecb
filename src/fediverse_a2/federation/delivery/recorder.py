"""Writing outcomes while a round is still sending, so a crash re-sends as little as possible.

Each finished attempt is handed to `add`; one writer task stores whatever has gathered in one
transaction, then the next lot (no timer: while a write runs, more results pile up, so under
load the writes grow and stay few). A `kill -9` then re-sends only what was in flight or
finished in the last few milliseconds, not the whole claimed batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Recorder"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Recorder(Generic[T]):
    """Gathers results and writes them in batches from one task; `close` waits for the last."""

    def __init__(self, write: Callable[[Sequence[T]], Awaitable[None]]) -> None:
        self._write = write
        self._buffer: list[T] = []
        self._ready = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, result: T) -> None:
        """Queue one result for the next write."""
        self._buffer.append(result)
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._buffer = self._buffer, []
            if batch:
                try:
                    await self._write(batch)
                except Exception:  # the rows stay leased; once the lease ends they are sent again
                    log.exception("recording %d delivery outcomes failed", len(batch))
            if self._closing and not self._buffer:
                return

    async def close(self) -> None:
        """Write what is left and end the writer task."""
        self._closing = True
        self._ready.set()
        await self._task
