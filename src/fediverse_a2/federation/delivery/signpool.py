"""Signing processes: a batch's signatures computed on spare cores while this process sends.

`delivery.signing_processes` (config.py) says how many; -1 (the default) decides by the
machine: one per spare core, at most two, none on one core. With auto, the processes are
started by the first batch of at least `AUTO_START` deliveries (a server that sends a few
activities a day never starts them) and stopped after `IDLE_STOP` seconds without a batch.
Starting takes a moment (spawn, imports): until the processes have answered a first no-op
task, batches are signed in the delivering process, so a fan-out never waits for them.

Jobs go in chunks (one task per delivery would cost as much in pickling and wake-ups as the
signature); the first chunk of a batch is small, so sending starts early.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from .signing import Presigned, SignJob, init_signing_process, retrieve, sign_chunk

__all__ = ["AUTO_START", "FIRST_CHUNK", "IDLE_STOP", "SIGN_CHUNK", "SigningPool"]

log = logging.getLogger(__name__)

SIGN_CHUNK = 32
FIRST_CHUNK = 8
AUTO_START = 64
IDLE_STOP = 600.0


def _ready() -> bool:
    """The warm-up task: proves a process is up with its imports done."""
    return True


class SigningPool:
    """`processes` signing processes reading keys from `keys_dir`, started on demand."""

    def __init__(self, processes: int, keys_dir: Path, *, auto: bool) -> None:
        self.processes = processes
        self.keys_dir = keys_dir
        self.auto = auto
        self._executor: ProcessPoolExecutor | None = None
        self._warm: Future[bool] | None = None
        self._last_used = 0.0

    def wanted(self, batch: int) -> bool:
        """Whether a batch of `batch` deliverable deliveries should be signed in the processes."""
        return self._executor is not None or not self.auto or batch >= AUTO_START

    @property
    def ready(self) -> bool:
        """Whether the processes are up (the warm-up task came back)."""
        warm = self._warm
        return warm is not None and warm.done() and not warm.cancelled() and warm.exception() is None

    def start(self) -> None:
        """Start the processes (spawned: the delivering process has threads) and warm them up."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_signing_process,
                initargs=(str(self.keys_dir), os.getpid()),
            )
            self._warm = self._executor.submit(_ready)
            self._last_used = time.monotonic()

    def presign(self, jobs: list[tuple[int, SignJob]]) -> dict[int, Presigned]:
        """Submit (delivery id, job) pairs in chunks; the Presigned of each delivery id."""
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        self._last_used = time.monotonic()
        out: dict[int, Presigned] = {}
        start = 0
        while start < len(jobs):
            size = FIRST_CHUNK if start == 0 else SIGN_CHUNK
            chunk = jobs[start : start + size]
            start += size
            future = loop.run_in_executor(self._executor, sign_chunk, [job for _, job in chunk])
            future.add_done_callback(retrieve)
            for index, (delivery_id, job) in enumerate(chunk):
                out[delivery_id] = Presigned(future, index, job[2], job[4])
        return out

    def stop_if_idle(self) -> None:
        """With auto, stop processes that have had nothing to sign for IDLE_STOP seconds."""
        if self.auto and self._executor is not None and time.monotonic() - self._last_used > IDLE_STOP:
            log.info("stopping the idle signing processes")
            self.close(wait=False)

    def close(self, *, wait: bool = True) -> None:
        """Stop the processes, if started."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None
            self._warm = None
