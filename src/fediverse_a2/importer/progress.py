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

from ..i18n import translate
from .report import kind_name

__all__ = ["PlainProgress", "Progress", "RichProgress", "make_progress"]


class Progress(Protocol):
    """What an importer reports as it goes."""

    def phase(self, name: str, total: int | None) -> None:
        """A new step (members, posts, ...) of about `total` records."""

    def advance(self, done: int, comments: int | None = None) -> None:
        """`done` more records of the current step are committed; comments: how many comments so far."""

    def close(self) -> None:
        """The import ended."""


def _eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


class PlainProgress:
    """One line per committed batch (at most one a second), for logs and pipes."""

    def __init__(self, out: TextIO, interval: float = 1.0, language: str = "en") -> None:
        self.out = out
        self.language = language
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

    def advance(self, done: int, comments: int | None = None) -> None:
        self.done += done
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if now - self.printed < self.interval and not finished:
            return
        self.printed = now
        elapsed = now - self.started
        line = f"{kind_name(self.name, self.language)}: {self.done}"
        if self.total:
            line += f"/{self.total} ({min(100, 100 * self.done // self.total)}%)"
        if comments is not None:
            line += ", " + translate(self.language, "cli_progress_comments", n=str(comments))
        line += f", {_eta(elapsed)}"
        if self.total and 0 < self.done < self.total:
            left = _eta(elapsed / self.done * (self.total - self.done))
            line += ", " + translate(self.language, "cli_progress_time_left", time=left)
        print(line, file=self.out, flush=True)

    def close(self) -> None:
        pass


class RichProgress:
    """A progress bar per step, with counts and the time left."""

    def __init__(self, console: Console, language: str = "en") -> None:
        self.language = language
        self.bar = RichBar(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TextColumn(translate(language, "cli_progress_left")),
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
        self.task = self.bar.add_task(kind_name(name, self.language), total=total, extra="")

    def advance(self, done: int, comments: int | None = None) -> None:
        task = self._current()
        if task is None:
            return
        if task.total is not None and task.completed + done > task.total:
            self.bar.update(task.id, total=task.completed + done)  # the estimate was low
        extra = "" if comments is None else translate(self.language, "cli_progress_comments", n=str(comments))
        self.bar.update(task.id, advance=done, extra=extra)

    def close(self) -> None:
        self._end()
        self.bar.stop()


def make_progress(out: TextIO | None = None, language: str = "en") -> Progress:
    """A progress bar when `out` (standard error) is a terminal, plain lines otherwise; in language."""
    out = out or sys.stderr
    if out.isatty():
        return RichProgress(Console(file=out), language)
    return PlainProgress(out, language=language)
