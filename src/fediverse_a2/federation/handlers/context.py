"""What a handler gets: the runtime, the transaction, the parsed activity and its actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...activitypub.parse import Activity
from ...runtime import Runtime
from ...store.actors import ActorRecord
from ...store.db import Executor
from ...store.notifications import NewNotification

__all__ = ["Context", "Rejected", "parse_time"]


class Rejected(Exception):
    """The activity is refused for good (forged, malformed); the reason is logged."""


@dataclass
class Context:
    rt: Runtime
    tx: Executor
    activity: Activity
    actor: ActorRecord
    # Filled by the worker before the transaction: an object fetched from its origin when it
    # came only as an id (or when a group announced it).
    fetched: dict[str, Any] | None = None
    # The group (or relay) whose Announce brought this activity, when it came that way.
    via: str | None = None
    notes: list[str] = field(default_factory=list)
    # In a run of the inbox worker: reply notifications wait here and are written for the whole run
    # in one statement (federation/processing.py); None: written at once.
    pending: list[NewNotification] | None = None

    def object(self) -> dict[str, Any] | None:
        """The activity's object: embedded, else as fetched from its origin."""
        obj = self.activity.object
        return obj if isinstance(obj, dict) else self.fetched


def parse_time(value: str | None, default: float | None = None) -> float | None:
    """An ISO 8601 timestamp as epoch seconds; `default` when absent or unparseable."""
    if not value:
        return default
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default
