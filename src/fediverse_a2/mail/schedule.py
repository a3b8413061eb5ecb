"""When the next digest is due: pure functions of the last one, the clock and the settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["next_digest"]


def next_digest(last: float, hour: int, interval: int, tz: ZoneInfo) -> float:
    """The time after `last` when the next digest goes out.

    With an interval (seconds, > 0) simply `last + interval`; otherwise the first `hour`:00
    in the instance's time zone that comes after `last`.
    """
    if interval > 0:
        return last + interval
    local = datetime.fromtimestamp(last, tz)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due = (due + timedelta(days=1)).replace(hour=hour)
    return due.timestamp()
