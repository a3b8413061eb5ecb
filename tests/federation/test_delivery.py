"""The delivery queue: retry policy, backoff on a fake clock, 410s, unavailable domains, kill -9."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_a2.federation.delivery import Deliverer
from fediverse_a2.federation.retry import Outcome, backoff, classify, parse_retry_after
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import deliveries, follows
from helpers import LiveServer, ServiceProcess, free_socket, last_line, live_server, serving, wait_for

DAY = 86_400.0


# -- pure policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SENT),
        (202, Outcome.SENT),
        (410, Outcome.GONE),
        (400, Outcome.FAILED),
        (403, Outcome.FAILED),
        (404, Outcome.FAILED),
        (401, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_classify(status: int | None, outcome: str) -> None:
    assert classify(status) == outcome


def test_backoff_follows_mastodons_schedule() -> None:
    rng = random.Random(1)
    for attempt in range(1, 17):
        delay = backoff(attempt, rng)
        assert attempt**4 + 15 <= delay <= attempt**4 + 15 + 9 * (attempt + 1)
    # Sixteen attempts add up to roughly two to three days.
    total = sum(n**4 + 15 for n in range(1, 17))
    assert 2 * DAY < total < 3 * DAY


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", 0) == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412420.0) == 60
    assert parse_retry_after("999999999", 0) == DAY
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None


# -- a scripted sink ---------------------------------------------------------------------


class Sink:
    """An inbox server on 127.0.0.1 that answers from a script and counts what it got."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sock = free_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.script: list[tuple[int, dict[str, str]]] = []
        self.default = 202
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.schemes: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    async def inbox(self, request: Request) -> Response:
        await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.schemes.append("rfc9421" if "signature-input" in request.headers else "cavage")
        self.hits[request.url.path] += 1
        status, headers = self.script.pop(0) if self.script else (self.default, {})
        return Response(status_code=status, headers=headers)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def setup(tmp_path: Path, database_url: str | None) -> AsyncIterator[tuple[LiveServer, Sink]]:
    async with live_server(tmp_path, database=database_url) as a2, serving(Sink()) as sink:
        await add_member(a2.rt, "alice", "Alice")
        yield a2, sink


async def _follower(a2: LiveServer, sink: Sink, name: str, shared: bool = False) -> None:
    await follows.add_follower(
        a2.rt.db,
        1,
        f"{sink.base}/users/{name}",
        f"{sink.base}/users/{name}/inbox",
        f"{sink.base}/inbox" if shared else None,
        "127.0.0.1",
        None,
    )


async def _states(a2: LiveServer) -> list[tuple[str, int]]:
    rows = await a2.rt.db.fetchall("SELECT state, attempts FROM deliveries ORDER BY id")
    return [(r["state"], r["attempts"]) for r in rows]


async def test_retries_back_off_and_honour_retry_after(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    clock = Clock()
    deliverer = Deliverer(a2.rt, clock=clock)
    await _follower(a2, sink, "bob")
    await publish_post(a2.rt, "alice", "T", "b")
    sink.script = [(503, {"Retry-After": "600"}), (500, {})]

    assert await deliverer.run_once() == 1
    row = await a2.rt.db.fetchone("SELECT state, attempts, next_attempt_at, last_status, last_error FROM deliveries")
    assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 503)
    assert row["next_attempt_at"] == clock.now + 600  # Retry-After beats the 16 s backoff
    assert "503" in row["last_error"]

    clock.now += 599
    assert await deliverer.run_once() == 0  # not due yet
    clock.now += 1
    assert await deliverer.run_once() == 1
    row = await a2.rt.db.fetchone("SELECT state, attempts, next_attempt_at FROM deliveries")
    assert (row["state"], row["attempts"]) == ("pending", 2)
    assert 2**4 + 15 <= row["next_attempt_at"] - clock.now <= 2**4 + 15 + 27

    clock.now = row["next_attempt_at"]
    assert await deliverer.run_once() == 1
    assert await _states(a2) == [("sent", 3)]
    assert sum(sink.hits.values()) == 3


async def test_gives_up_after_max_attempts(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    clock = Clock()
    deliverer = Deliverer(a2.rt, clock=clock)
    deliverer.max_attempts = 3
    sink.default = 500
    await _follower(a2, sink, "bob")
    await publish_post(a2.rt, "alice", "T", "b")
    for _ in range(3):
        assert await deliverer.run_once() == 1
        clock.now += DAY
    assert await _states(a2) == [("failed", 3)]
    assert await deliverer.run_once() == 0


async def test_permanent_4xx_fails_after_the_double_knock(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    deliverer = Deliverer(a2.rt, clock=Clock())
    sink.default = 403
    await _follower(a2, sink, "bob")
    await publish_post(a2.rt, "alice", "T", "b")
    await deliverer.run_once()
    assert await _states(a2) == [("failed", 1)]
    assert sink.schemes == ["rfc9421", "cavage"]


async def test_double_knock_remembers_the_scheme_per_host(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    deliverer = Deliverer(a2.rt, clock=Clock())
    sink.script = [(401, {})]  # the first RFC 9421 knock is refused, cavage then works
    await _follower(a2, sink, "bob")
    await publish_post(a2.rt, "alice", "T1", "b")
    await deliverer.run_once()
    await publish_post(a2.rt, "alice", "T2", "b")
    await deliverer.run_once()
    assert sink.schemes == ["rfc9421", "cavage", "cavage"]
    host = sink.base.removeprefix("http://")
    assert await a2.rt.db.fetchval("SELECT signature_scheme FROM peer_hosts WHERE host = ?", (host,)) == "cavage"


async def test_410_from_a_personal_inbox_removes_the_follower(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    deliverer = Deliverer(a2.rt, clock=Clock())
    sink.default = 410
    await _follower(a2, sink, "gone")
    await _follower(a2, sink, "shared1", shared=True)
    await publish_post(a2.rt, "alice", "T", "b")
    await deliverer.run_once()
    assert sorted(await _states(a2)) == [("gone", 1), ("gone", 1)]
    # The personal inbox's follower is removed; a shared inbox's 410 names no one follower.
    assert await follows.follower_page(a2.rt.db, 1, 10, 0) == [f"{sink.base}/users/shared1"]


async def test_shared_inboxes_get_one_delivery_each(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    for i in range(5):
        await _follower(a2, sink, f"s{i}", shared=True)
    await _follower(a2, sink, "p1")
    await publish_post(a2.rt, "alice", "T", "b")
    await Deliverer(a2.rt, clock=Clock()).run_once()
    assert sink.hits == Counter({"/inbox": 1, "/users/p1/inbox": 1})


async def test_domain_failing_on_seven_days_becomes_unavailable(setup) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    clock = Clock()
    deliverer = Deliverer(a2.rt, clock=clock)
    sink.default = 500
    await _follower(a2, sink, "bob")
    for day in range(7):
        await publish_post(a2.rt, "alice", f"T{day}", "b")
        await deliverer.run_once()
        unavailable = await a2.rt.db.fetchval("SELECT unavailable FROM domain_status WHERE domain = '127.0.0.1'")
        assert bool(unavailable) == (day == 6), day
        clock.now += DAY
    # Further deliveries to that domain are skipped without a request.
    hits = sum(sink.hits.values())
    await publish_post(a2.rt, "alice", "skipped", "b")
    await a2.rt.db.execute("UPDATE deliveries SET state = 'failed' WHERE state = 'pending'")  # old retries aside
    await a2.rt.db.execute(
        "UPDATE deliveries SET state = 'pending' WHERE activity_id = (SELECT MAX(id) FROM activities)"
    )
    await deliverer.run_once()
    assert sum(sink.hits.values()) == hits
    row = await a2.rt.db.fetchone("SELECT state, last_error FROM deliveries ORDER BY id DESC LIMIT 1")
    assert (row["state"], row["last_error"]) == ("skipped", "domain marked unavailable")
    # A signed activity from that domain makes it available again.
    a2.workers.deliverer.health.unavailable = set(deliverer.health.unavailable)
    a2.workers.domain_seen("127.0.0.1")
    await wait_for(lambda: _available(a2), what="the domain to be available again")


async def _available(a2: LiveServer) -> bool:
    return await a2.rt.db.fetchval("SELECT unavailable FROM domain_status WHERE domain = '127.0.0.1'") == 0


async def test_a_dead_host_does_not_slow_the_others(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a2, sink = setup
    with free_socket() as dead:  # bound, never listening: connections are refused at once
        dead_base = f"http://127.0.0.1:{dead.getsockname()[1]}"
        await follows.add_follower(a2.rt.db, 1, f"{dead_base}/u/x", f"{dead_base}/inbox", None, "127.0.0.1", None)
        for i in range(20):
            await _follower(a2, sink, f"p{i}")
        await publish_post(a2.rt, "alice", "T", "b")
        await Deliverer(a2.rt, clock=Clock()).run_once()
        states = Counter(s for s, _ in await _states(a2))
    assert states == Counter({"sent": 20, "pending": 1})


async def test_kill_9_during_fan_out_loses_nothing(tmp_path: Path, database_url: str | None) -> None:
    sink = Sink(delay=0.05)
    async with serving(sink):
        server = ServiceProcess(tmp_path / "a2", database=database_url, delivery={"lease_seconds": 2, "per_host": 4})
        server.cli("member", "add", "alice", "--name", "Alice")
        # 300 followers, each with a personal inbox on the slow sink.
        from fediverse_a2.runtime import Runtime

        rt = await Runtime.open(server.config())
        try:
            async with rt.db.transaction() as tx:
                for i in range(300):
                    await follows.add_follower(
                        tx, 1, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
                    )
        finally:
            await rt.close()
        last_line(server.cli("post", "alice", "--title", "Fan-out", "--body", "aan iedereen"))
        await server.start()
        try:
            await wait_for(lambda: _at_least(sink, 20), what="the fan-out to start")
            server.kill()
            killed_at = len(sink.hits)
            assert killed_at < 300, "fan-out finished before the kill; make the sink slower"
            await server.start()
            await wait_for(lambda: _at_least(sink, 300), timeout=60, what="every inbox to get the post")
        finally:
            server.stop()
    assert set(sink.hits) == {f"/users/u{i}/inbox" for i in range(300)}
    rt = await Runtime.open(server.config())
    try:
        assert await deliveries.summary(rt.db) == {"sent": 300}
    finally:
        await rt.close()


async def _at_least(sink: Sink, n: int) -> bool:
    return len(sink.hits) >= n
