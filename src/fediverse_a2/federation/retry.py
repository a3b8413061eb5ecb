"""PURE retry policy for outgoing deliveries, shared by every sender.

Mastodon's schedule: about attempt**4 + 15 seconds plus jitter, 16 attempts (2-3 days).
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

__all__ = ["MAX_ATTEMPTS", "Outcome", "backoff", "classify", "parse_retry_after"]

MAX_ATTEMPTS = 16
MAX_RETRY_AFTER = 86_400.0


class Outcome:
    """What one delivery attempt means for the delivery's state."""

    SENT = "sent"  # 2xx: done
    RETRY = "retry"  # try again later
    FAILED = "failed"  # permanent: don't try again
    GONE = "gone"  # 410: the recipient is gone


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), with jitter."""
    jitter = (rng or random).randrange(10) * (attempt + 1)
    return float(attempt**4 + 15 + jitter)


def classify(status: int | None) -> str:
    """Map an HTTP status (None for a network error) to an Outcome."""
    if status is None:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.SENT
    if status == 410:
        return Outcome.GONE
    if status in (401, 408, 429) or status >= 500:
        return Outcome.RETRY
    if 400 <= status < 500:
        return Outcome.FAILED
    # 1xx/3xx from an inbox is a misbehaving server; treat as transient.
    return Outcome.RETRY


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER)
