"""Progress of an import: a rich progress bar (counts, time left) on a terminal, plain lines otherwise.

Both go to standard error, so standard output keeps the summary and (for pages) the URLs.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar

__all__ = ["PlainProgress", "Progress", "RichProgress", "make_progress"]


class Progress(Protocol):
    """What an importer reports as it goes."""

    def phase(self, name: str, total: int | None) -> None:
        """A new step (members, posts, ...) of about `total` records."""

    def advance(self, done: int, extra: str = "") -> None:
        """`done` more records of the current step are committed; extra says what else (comments)."""

    def close(self) -> None:
        """The import ended."""


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


class PlainProgress:
    """One line per committed batch (at most one a second), for logs and pipes."""

    def __init__(self, out: TextIO, interval: float = 1.0) -> None:
        self.out = out
        self.interval = interval
        self.name = ""
        self.total: int | None = None
        self.done = 0
        self.started = 0.0
        self.printed = 0.0

    def phase(self, name: str, total: int | None) -> None:
        self.name, self.total, self.done = name, total, 0
        self.started = time.monotonic()
        self.printed = 0.0

    def advance(self, done: int, extra: str = "") -> None:
        self.done += done
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if now - self.printed < self.interval and not finished:
            return
        self.printed = now
        elapsed = now - self.started
        line = f"{self.name}: {self.done}"
        if self.total:
            line += f"/{self.total} ({min(100, 100 * self.done // self.total)}%)"
        if extra:
            line += f", {extra}"
        line += f", {_eta(elapsed)}"
        if self.total and 0 < self.done < self.total:
            line += f", about {_eta(elapsed / self.done * (self.total - self.done))} left"
        print(line, file=self.out, flush=True)

    def close(self) -> None:
        pass


class RichProgress:
    """A progress bar per step, with counts and the time left."""

    def __init__(self, console: Console) -> None:
        self.bar = RichBar(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.bar.start()

    def _current(self) -> Task | None:
        return next((t for t in self.bar.tasks if t.id == self.task), None)

    def _end(self) -> None:
        task = self._current()
        if task is not None:
            self.bar.update(task.id, total=task.completed)  # an estimate ends where the step did

    def phase(self, name: str, total: int | None) -> None:
        self._end()
        self.task = self.bar.add_task(name, total=total, extra="")

    def advance(self, done: int, extra: str = "") -> None:
        task = self._current()
        if task is None:
            return
        if task.total is not None and task.completed + done > task.total:
            self.bar.update(task.id, total=task.completed + done)  # the estimate was low
        self.bar.update(task.id, advance=done, extra=extra)

    def close(self) -> None:
        self._end()
        self.bar.stop()


def make_progress(out: TextIO | None = None) -> Progress:
    """A progress bar when `out` (standard error) is a terminal, plain lines otherwise."""
    out = out or sys.stderr
    if out.isatty():
        return RichProgress(Console(file=out))
    return PlainProgress(out)
