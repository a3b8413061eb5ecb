"""Who holds a lease: a process named by host, boot, process id and process start time.

A queue row leased by a worker records its owner. A process that starts on the same host
can then tell at once whether that owner still runs: its pid is gone, or the pid now belongs
to another process (a different start time), or the machine rebooted since (another boot
id). Such a lease is taken back without waiting for it to run out. An owner on another host
cannot be checked from here; its lease is only taken once it has expired, and a live worker
renews its leases long before that.

Linux gives the start time (/proc/PID/stat) and the boot id; elsewhere only "is the pid
alive" can be asked, and a live pid then always counts as the owner (never taken early).
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LeaseOwner", "current_owner", "is_dead_here", "parse_owner"]

_UNKNOWN = "-"
_SEP = "|"


@dataclass(frozen=True)
class LeaseOwner:
    """One process, as stored in a lease_owner column: host|boot|pid|start."""

    host: str
    boot: str
    pid: int
    started: str

    def __str__(self) -> str:
        return _SEP.join((self.host, self.boot, str(self.pid), self.started))


def parse_owner(value: str) -> LeaseOwner | None:
    """The owner a lease_owner column names, or None for a value this code did not write."""
    parts = value.split(_SEP)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return LeaseOwner(parts[0], parts[1], int(parts[2]), parts[3])


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or _UNKNOWN
    except OSError:
        return _UNKNOWN


def _start_time(pid: int) -> str | None:
    """The start time of a process in clock ticks since boot; None if no such process, or
    one that has ended (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _UNKNOWN
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[1].split()
    if fields and fields[0] in ("Z", "X"):
        return None  # a zombie has ended; it only waits for a parent that may never reap it
    return fields[19] if len(fields) > 19 else _UNKNOWN


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


@functools.cache
def current_owner() -> LeaseOwner:
    """This process as a lease owner (computed once; a fork gets its own through os.register_at_fork)."""
    pid = os.getpid()
    return LeaseOwner(socket.gethostname(), _boot_id(), pid, _start_time(pid) or _UNKNOWN)


os.register_at_fork(after_in_child=current_owner.cache_clear)


def is_dead_here(owner: LeaseOwner, me: LeaseOwner | None = None) -> bool:
    """True when `owner` ran on this host and certainly runs no more (never for this process)."""
    me = me or current_owner()
    if owner.host != me.host or owner == me:
        return False
    if owner.boot != me.boot and _UNKNOWN not in (owner.boot, me.boot):
        return True  # the machine rebooted since: every process of before is gone
    if Path("/proc/self/stat").exists():
        started = _start_time(owner.pid)
        if started is None:
            return True
        return _UNKNOWN not in (started, owner.started) and started != owner.started
    return not _pid_alive(owner.pid)
