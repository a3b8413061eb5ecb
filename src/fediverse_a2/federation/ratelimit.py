"""PURE per-key token-bucket rate limiting (e.g. inbox POSTs per remote host), bounded in memory."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["TokenBucketLimiter"]


class _Bucket:
    """Tokens left at the time they were last counted."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class TokenBucketLimiter:
    """Allow `per_minute` requests a minute per key, refilled continuously, with bursts up to capacity."""

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 0:
            raise ValueError("per_minute must be 0 (disabled) or more")
        if burst is not None and burst < 1:
            raise ValueError("burst must be at least 1")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.per_minute = per_minute
        # A big instance delivers in bursts (one post fans out to many inboxes at once), so the
        # capacity defaults to a whole minute's worth rather than one request at a time.
        self.capacity = float(burst if burst is not None else per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.max_keys = max_keys
        self._clock = clock
        # Insertion order is recency order (a used key is re-inserted): eviction pops the front.
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        """False when per_minute is 0: every request is allowed and nothing is stored."""
        return self.per_minute > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, key: str) -> float:
        """Take a token for key: 0.0 if allowed, else the seconds until one is available (for Retry-After)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
        else:
            self._refill(bucket, now)
        self._buckets[key] = bucket
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            result = 0.0
        else:
            # A refused request takes nothing, so the wait is just the time to earn one token.
            result = (1.0 - bucket.tokens) / self.rate
        if len(self._buckets) > self.max_keys:
            self._evict(now)
        return result

    def peek(self, key: str) -> float:
        """0.0 if a request for key would be allowed now, else the seconds until it would; takes nothing."""
        if not self.enabled:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        now = self._clock()
        tokens = min(self.capacity, bucket.tokens + max(0.0, now - bucket.stamp) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.stamp)  # never refund tokens if a clock steps back
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
        bucket.stamp = now

    def _is_full(self, bucket: _Bucket, now: float) -> bool:
        return bucket.tokens + max(0.0, now - bucket.stamp) * self.rate >= self.capacity

    def _evict(self, now: float) -> None:
        # A full bucket is the same as no bucket, so dropping those loses nothing. Sweep them all
        # at once (amortised: the sweep only runs when the table overflows), down to 90% so the
        # next few new keys don't trigger another sweep.
        target = max(1, int(self.max_keys * 0.9))
        for key in [k for k, b in self._buckets.items() if self._is_full(b, now)]:
            del self._buckets[key]
        # Still too many busy keys: forget the least recently used. That key gets a fresh bucket
        # if it comes back, which is the price of bounded memory under a flood of distinct keys.
        while len(self._buckets) > target:
            del self._buckets[next(iter(self._buckets))]
