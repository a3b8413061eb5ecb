"""Token-bucket limiter: bursts, continuous refill, per-key isolation, bounded memory."""

from __future__ import annotations

import pytest

from fediverse_a2.federation.ratelimit import TokenBucketLimiter


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def drain(limiter: TokenBucketLimiter, key: str) -> int:
    """Take tokens until refused; how many were granted."""
    granted = 0
    while limiter.allow(key) == 0.0:
        granted += 1
        assert granted < 100_000
    return granted


def test_burst_up_to_capacity_then_refusal(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, clock=clock)
    assert all(limiter.allow("a.example") == 0.0 for _ in range(60))
    wait = limiter.allow("a.example")
    assert wait == pytest.approx(1.0)  # 60/minute: one token a second
    assert limiter.allow("a.example") == pytest.approx(1.0)  # a refusal takes nothing


def test_explicit_burst_sets_capacity(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(6, burst=3, clock=clock)
    assert drain(limiter, "k") == 3
    assert limiter.allow("k") == pytest.approx(10.0)  # 6/minute: a token every 10 s
    big = TokenBucketLimiter(6, burst=500, clock=clock)
    assert drain(big, "k") == 500


def test_refill_is_continuous_not_a_fixed_window(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, clock=clock)
    assert drain(limiter, "k") == 60
    clock.advance(30)  # half a minute later, half the tokens are back
    assert drain(limiter, "k") == 30
    clock.advance(0.5)
    assert limiter.allow("k") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.allow("k") == 0.0
    assert limiter.allow("k") == pytest.approx(1.0)


def test_refill_never_exceeds_capacity(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, burst=10, clock=clock)
    drain(limiter, "k")
    clock.advance(3600)
    assert drain(limiter, "k") == 10


def test_retry_after_is_the_time_to_one_token(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(2, burst=1, clock=clock)
    assert limiter.allow("k") == 0.0
    assert limiter.allow("k") == pytest.approx(30.0)
    clock.advance(12)
    assert limiter.allow("k") == pytest.approx(18.0)
    clock.advance(18)
    assert limiter.allow("k") == 0.0


def test_keys_are_isolated(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(5, clock=clock)
    assert drain(limiter, "busy.example") == 5
    assert limiter.allow("busy.example") > 0
    assert drain(limiter, "quiet.example") == 5


def test_zero_disables(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(0, clock=clock)
    assert not limiter.enabled
    assert all(limiter.allow("k") == 0.0 for _ in range(10_000))
    assert len(limiter) == 0  # nothing is stored when disabled


def test_clock_stepping_back_does_not_refund(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, burst=2, clock=clock)
    drain(limiter, "k")
    clock.advance(-100)
    assert limiter.allow("k") > 0


def test_memory_is_bounded(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, max_keys=100, clock=clock)
    for i in range(10_000):
        limiter.allow(f"host{i}.example")
        assert len(limiter) <= 100


def test_eviction_prefers_full_buckets_and_keeps_recent_busy_keys(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(60, burst=5, max_keys=10, clock=clock)
    drain(limiter, "abuser.example")  # empty bucket, must survive the flood below
    for i in range(8):
        limiter.allow(f"old{i}.example")
    clock.advance(60)  # the old buckets are full again, so forgetting them loses nothing
    limiter.allow("abuser.example")  # refilled: 5 tokens, takes one
    drain(limiter, "abuser.example")
    for i in range(20):
        limiter.allow(f"new{i}.example")
        limiter.allow("abuser.example")  # keeps it recently used
    assert len(limiter) <= 10
    assert limiter.allow("abuser.example") > 0  # still limited: its bucket was not evicted


def test_evicting_a_busy_bucket_when_all_are_busy(clock: FakeClock) -> None:
    limiter = TokenBucketLimiter(1, burst=1, max_keys=3, clock=clock)
    for key in ("a", "b", "c", "d"):
        assert limiter.allow(key) == 0.0
    assert len(limiter) <= 3
    assert limiter.allow("d") > 0  # the newest key is kept


@pytest.mark.parametrize(
    "kwargs", [{"per_minute": -1}, {"per_minute": 10, "burst": 0}, {"per_minute": 10, "max_keys": 0}]
)
def test_bad_arguments(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(**kwargs)


def test_default_clock_works() -> None:
    limiter = TokenBucketLimiter(1)
    assert limiter.allow("k") == 0.0
    assert 0 < limiter.allow("k") <= 60
