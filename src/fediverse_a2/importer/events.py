"""Events of the archive (`ning-events.json`): what becomes of them here.

This server has no events yet (they come with the events feature: posts of kind `event`, with
their times, place and answers). Until then every event is read (so a broken record is still
reported by its number), counted, and reported as skipped with that reason, with its comments and
its answers (RSVPs): nothing is dropped without a line saying so.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..archive.ning_events import NingEvent
from ..runtime import Runtime
from .progress import Progress
from .session import Session
from .writer import Writer

__all__ = ["NOT_YET", "EventWriter"]

NOT_YET = "this server has no events yet: not imported"


class EventWriter:
    """Writes the events of the archive (see the module docstring)."""

    def __init__(self, rt: Runtime, writer: Writer, session: Session, progress: Progress, batch_size: int) -> None:
        self.rt = rt
        self.writer = writer
        self.summary = writer.summary
        self.session = session
        self.progress = progress
        self.batch_size = batch_size

    async def write(self, events: Iterable[NingEvent]) -> None:
        """Count every event, its answers and comments, and report them skipped (for now)."""
        for event in events:
            self.summary.found("events")
            self.summary.skipped("events", NOT_YET)
            answers = sum(1 for a in event.attendees if a.answer is not None)
            if answers:
                self.summary.found("answers", answers)
                self.summary.skipped("answers", "on an event that was not imported", answers)
            if event.comments:
                self.summary.found("comments", len(event.comments))
                self.summary.skipped("comments", "on an event that was not imported", len(event.comments))
