"""A circuit breaker per host: after N failures in a row, skip the host for a while."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BREAKER_FAILURES", "BREAKER_SECONDS", "Breaker"]

BREAKER_FAILURES = 10
BREAKER_SECONDS = 60.0


class Breaker:
    """Counts consecutive failures per host; open means "don't even try" until it times out."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.failures: dict[str, int] = {}
        self.open_until: dict[str, float] = {}

    def is_open(self, host: str) -> bool:
        """Whether deliveries to host are paused."""
        return self.open_until.get(host, 0.0) > self.clock()

    def record(self, host: str, ok: bool) -> None:
        """Count one outcome (ok: the host answered in a way that is not its fault)."""
        if ok:
            self.failures.pop(host, None)
            self.open_until.pop(host, None)
            return
        count = self.failures.get(host, 0) + 1
        self.failures[host] = count
        if count >= BREAKER_FAILURES:
            self.open_until[host] = self.clock() + BREAKER_SECONDS
            self.failures[host] = 0
