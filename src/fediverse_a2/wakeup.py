"""Local wake-ups for SQLite: a UDP datagram on 127.0.0.1 tells `serve` that work was queued.

PostgreSQL has LISTEN/NOTIFY (store/wakeups.py); SQLite has nothing alike, so every process
that works a queue listens on a UDP port of 127.0.0.1 and writes that port into a file in a
folder beside the database (`db.sqlite3.wake/PID.port`). A process that queued work (the CLI
`post`, after its commit) sends one tiny datagram, the channel name, to every port listed.

Why UDP and not a unix socket: a unix socket path is limited to ~108 bytes, which a deep data
folder exceeds; the port file has no such limit. A datagram is only a hint to look now:
anything may send one (the worst it does is an early poll), a lost one costs at most the poll
interval, and the content is never trusted beyond being one of the known channel names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["LocalListener", "live_listeners", "ports", "send", "send_to", "wake_dir"]

log = logging.getLogger(__name__)

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
