"""Wake-ups: work queued by one process is started by the others at once, not at their next poll.

`announce(tx, channel)` inside the transaction that queued the work; `listen(db, ...)` in the
processes that do it. On PostgreSQL this is NOTIFY (store/wakeups.py: sent by the server only
when the transaction commits, never for a rollback) and LISTEN on a connection of its own,
opened again if it drops. Either way a wake-up is a hint: the workers still poll, so a lost one
costs one poll interval.

SQLite has nothing alike, so every process that works a queue listens on a UDP port of
127.0.0.1 and writes that port into a file in a folder beside the database
(`db.sqlite3.wake/PID-PORT.port`). A process that queued work (the CLI `post`, after its
commit) sends one tiny datagram, the channel name, to every port listed. Why UDP and not a
unix socket: a unix socket path is limited to ~108 bytes, which a deep data folder exceeds;
the port file has no such limit. A datagram is only a hint to look now: anything may send one
(the worst it does is an early poll), and its content is never trusted beyond being one of the
known channel names.

`Poker` is for work stored outside a transaction of the caller (the inbox's group commit):
many pokes within a few milliseconds become one wake-up, so a busy inbox sends a few hundred
a second at most, not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from ..store import wakeups as store
from ..store.db import Database, Executor
from ..store.wakeups import CHANNELS, DELIVERIES, INBOX

__all__ = [
    "CHANNELS",
    "DELIVERIES",
    "INBOX",
    "Listening",
    "LocalListener",
    "Poker",
    "announce",
    "listen",
    "live_listeners",
    "ports",
    "send",
    "send_to",
    "wake_dir",
]

log = logging.getLogger(__name__)

_RECONNECT_SECONDS = 1.0

HOST = "127.0.0.1"
SUFFIX = ".wake"
MAX_DATAGRAM = 64


def wake_dir(database: Path) -> Path:
    """The folder of port files that belongs to an SQLite database file."""
    return database.with_name(database.name + SUFFIX)


def ports(folder: Path) -> list[int]:
    """The ports the listeners of `folder` announced."""
    found = []
    try:
        entries = list(folder.glob("*.port"))
    except OSError:
        return []
    for entry in entries:
        with contextlib.suppress(OSError, ValueError):
            found.append(int(entry.read_text().strip()))
    return found


def send(folder: Path, channel: str) -> int:
    """Tell every listener of `folder` to look at `channel` now; how many were sent (never raises)."""
    return send_to(ports(folder), channel)


def send_to(targets: Iterable[int], channel: str) -> int:
    """Send the wake-up for `channel` to these ports of 127.0.0.1 (never raises)."""
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for port in targets:
            try:
                sock.sendto(channel.encode("ascii"), (HOST, port))
                sent += 1
            except OSError:  # a listener that is gone, a full buffer: the poll covers it
                continue
    return sent


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, channels: frozenset[str], callback: Callable[[str], None]) -> None:
        self.channels, self.callback = channels, callback

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int] | str | bytes) -> None:
        channel = data[:MAX_DATAGRAM].decode("ascii", "replace")
        if channel in self.channels:
            self.callback(channel)

    def error_received(self, exc: Exception) -> None:
        log.debug("wake-up socket: %s", exc)


def _pid_of(entry: Path) -> int | None:
    stem = entry.stem.split("-", 1)[0]
    return int(stem) if stem.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_listeners(folder: Path) -> list[int]:
    """The process ids of the listeners of `folder` that still run (a serve or worker on this database)."""
    try:
        entries = list(folder.glob("*.port"))
    except OSError:
        return []
    return sorted({pid for entry in entries if (pid := _pid_of(entry)) is not None and _alive(pid)})


class LocalListener:
    """Listens for wake-up datagrams of some channels while open; `close` removes its port file."""

    def __init__(self, transport: asyncio.DatagramTransport, port_file: Path) -> None:
        self._transport, self.port_file = transport, port_file

    @classmethod
    async def open(cls, folder: Path, channels: Iterable[str], callback: Callable[[str], None]) -> LocalListener:
        """Bind a UDP port of 127.0.0.1 and announce it in `folder` (made if missing)."""
        folder.mkdir(exist_ok=True)
        for entry in folder.glob("*.port"):  # left behind by processes killed without a clean stop
            pid = _pid_of(entry)
            if pid is not None and pid != os.getpid() and not _alive(pid):
                entry.unlink(missing_ok=True)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(frozenset(channels), callback), local_addr=(HOST, 0)
        )
        port = transport.get_extra_info("sockname")[1]
        port_file = folder / f"{os.getpid()}-{port}.port"
        temp = port_file.with_suffix(".tmp")
        temp.write_text(str(port))
        temp.replace(port_file)  # a sender never reads a half-written file
        return cls(transport, port_file)

    def close(self) -> None:
        """Stop listening and withdraw the port file."""
        self._transport.close()
        self.port_file.unlink(missing_ok=True)


# -- the two transports behind one interface ------------------------------------------------


class Listening(Protocol):
    """An open listener; `close` stops it."""

    async def close(self) -> None: ...


async def announce(db: Executor, channel: str) -> None:
    """Wake the listeners of `channel` once the work queued in this transaction is committed."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown wake-up channel {channel!r}")
    if db.path is None:  # PostgreSQL
        await store.notify(db, channel)
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
            await store.notify(self.db, self.channel)
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
        name = channel.removeprefix(store.PG_PREFIX)
        if name in self.channels:
            self.callback(name)

    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url, server_settings={"application_name": "fediverse-a2 listen"})
        conn.add_termination_listener(lambda _: self._lost.set())
        for channel in sorted(self.channels):
            await conn.add_listener(store.PG_PREFIX + channel, self._notified)
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
