"""Wake-ups: work queued by one process is started by the others at once, not at their next poll.

`announce(tx, channel)` inside the transaction that queued the work; `listen(db, ...)` in the
processes that do it. On PostgreSQL this is NOTIFY (sent by the server only when the
transaction commits, never for a rollback) and LISTEN on a connection of its own, opened
again if it drops. On SQLite it is a datagram to 127.0.0.1 after the commit (wakeup.py).
Either way a wake-up is a hint: the workers still poll, so a lost one costs one poll interval.

`Poker` is for work stored outside a transaction of the caller (the inbox's group commit):
many pokes within a few milliseconds become one wake-up, so a busy inbox sends a few hundred
a second at most, not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..wakeup import LocalListener, ports, send, send_to, wake_dir
from .db import Database, Executor

__all__ = ["CHANNELS", "DELIVERIES", "INBOX", "Listening", "Poker", "announce", "listen"]

log = logging.getLogger(__name__)

DELIVERIES = "deliveries"
INBOX = "inbox"  # activities stored by a web process for a worker process to handle
CHANNELS = frozenset({DELIVERIES, INBOX})
_PG_PREFIX = "fediverse_a2_"
_RECONNECT_SECONDS = 1.0


class Listening(Protocol):
    """An open listener; `close` stops it."""

    async def close(self) -> None: ...


async def announce(db: Executor, channel: str) -> None:
    """Wake the listeners of `channel` once the work queued in this transaction is committed."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown wake-up channel {channel!r}")
    if db.path is None:  # PostgreSQL
        await db.execute("SELECT pg_notify(?, '')", (_PG_PREFIX + channel,))
        return
    folder = wake_dir(db.path)
    db.after_commit(lambda: send(folder, channel))


class Poker:
    """Wakes the listeners of one channel soon after `poke()`, coalescing pokes `delay` apart."""

    def __init__(self, db: Database, channel: str, delay: float = 0.005) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown wake-up channel {channel!r}")
        self.db, self.channel, self.delay = db, channel, delay
        self._pending = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._ports: list[int] = []
        self._ports_seen = -1

    def poke(self) -> None:
        """Ask for a wake-up; the work is already committed."""
        if self._pending:
            return
        self._pending = True
        asyncio.get_running_loop().call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._pending = False
        if self.db.path is not None:  # SQLite
            folder = wake_dir(self.db.path)
            try:
                changed = folder.stat().st_mtime_ns  # a listener came or went: read the folder again
            except OSError:
                return
            if changed != self._ports_seen:
                self._ports, self._ports_seen = ports(folder), changed
            send_to(self._ports, self.channel)
            return
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        try:
            await self.db.execute("SELECT pg_notify(?, '')", (_PG_PREFIX + self.channel,))
        except Exception as exc:  # a hint only: the poll finds the work anyway
            log.debug("wake-up %s not sent: %s", self.channel, exc)


async def listen(db: Database, channels: Iterable[str], callback: Callable[[str], None]) -> Listening:
    """Call `callback(channel)` whenever another (or this) process announces work on a channel."""
    wanted = frozenset(channels)
    if not wanted <= CHANNELS:
        raise ValueError(f"unknown wake-up channels {sorted(wanted - CHANNELS)}")
    if db.path is not None:  # SQLite
        return _Local(await LocalListener.open(wake_dir(db.path), wanted, callback))
    listener = _PgListener(db.url or "", wanted, callback)
    await listener.start()
    return listener


class _Local:
    def __init__(self, listener: LocalListener) -> None:
        self._listener = listener

    async def close(self) -> None:
        self._listener.close()


class _PgListener:
    """LISTEN on a connection of its own; when it drops, connect again (and wake once, in
    case a NOTIFY was missed meanwhile)."""

    def __init__(self, url: str, channels: frozenset[str], callback: Callable[[str], None]) -> None:
        self.url, self.channels, self.callback = url, channels, callback
        self._conn: Any = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        name = channel.removeprefix(_PG_PREFIX)
        if name in self.channels:
            self.callback(name)

    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url, server_settings={"application_name": "fediverse-a2 listen"})
        conn.add_termination_listener(lambda _: self._lost.set())
        for channel in sorted(self.channels):
            await conn.add_listener(_PG_PREFIX + channel, self._notified)
        self._conn = conn

    async def start(self) -> None:
        """Connect and listen; a failure now is logged and retried in the background."""
        try:
            await self._connect()
        except Exception as exc:
            log.warning("LISTEN failed, relying on polling until it works: %s", exc)
            self._lost.set()
        self._task = asyncio.get_running_loop().create_task(self._keep())

    async def _keep(self) -> None:
        while True:
            await self._lost.wait()
            self._lost.clear()
            await self._drop()
            await asyncio.sleep(_RECONNECT_SECONDS)
            try:
                await self._connect()
            except Exception as exc:
                log.warning("LISTEN reconnect failed: %s", exc)
                self._lost.set()
                continue
            for channel in sorted(self.channels):
                self.callback(channel)

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def close(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop()
