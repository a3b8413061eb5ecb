"""The `worker` process that `serve` runs beside its web process (config key server.background).

With more than one core, `serve` splits its work: the web process verifies and stores what
arrives and renders pages; a child `fediverse-a2 worker` process handles the stored inbox
items, the deliveries, housekeeping and mail. They share the database; the web process wakes
the worker through work/wakeups.py (a datagram on SQLite, NOTIFY on PostgreSQL).

The child dies with its parent: on Linux the kernel sends it SIGKILL when `serve` ends for any
reason (a `kill -9` included), so a restarted `serve` never finds an orphan worker still
holding leases. A graceful stop of `serve` stops the child gracefully first. A child that
exits on its own is started again, after a pause that grows while it keeps failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from pathlib import Path

from ..parentdeath import pre_exec_hook

__all__ = ["WorkerChild"]

log = logging.getLogger(__name__)

_STOP_SECONDS = 10.0
_MAX_PAUSE = 30.0
_STEADY_SECONDS = 60.0


class WorkerChild:
    """Starts, watches and stops one `fediverse-a2 worker` child process."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        self.proc: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._stopping = False

    def start(self) -> None:
        """Start the child (its output goes where serve's goes)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fediverse_a2", "--config", str(self.config_file), "worker"],
            stdin=subprocess.DEVNULL,
            preexec_fn=pre_exec_hook(),  # calls only a prctl resolved before the fork
        )
        self._started_at = time.monotonic()

    async def watch(self) -> None:
        """Until stopped: start the child again whenever it has ended on its own."""
        pause = 1.0
        while not self._stopping:
            await asyncio.sleep(0.5)
            proc = self.proc
            if self._stopping or proc is None or proc.poll() is None:
                continue
            if time.monotonic() - self._started_at > _STEADY_SECONDS:
                pause = 1.0  # it had been running fine: this is a new failure, not a loop
            log.error("the worker process ended (exit code %s); starting it again in %.0f s", proc.returncode, pause)
            await asyncio.sleep(pause)
            pause = min(_MAX_PAUSE, pause * 2)
            if not self._stopping:
                self.start()

    def stop(self) -> None:
        """Stop the child: SIGTERM, then SIGKILL if it has not ended within ten seconds."""
        self._stopping = True
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("the worker process did not stop within %.0f s; killing it", _STOP_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
