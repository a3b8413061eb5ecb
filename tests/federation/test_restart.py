"""Restart without waiting, and wake-ups: leases that name their owner, taken back from a dead
predecessor at once and never from a live worker; work queued by the CLI starts at once.

The end-to-end tests run `fediverse-a2 serve` as a real process (killed with SIGKILL), on
both backends, against an inbox sink served from the test's event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_a2.leases import current_owner, is_dead_here, parse_owner
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import deliveries, follows
from fediverse_a2.work import wakeups
from helpers import ServiceProcess, free_socket, last_line, serving, wait_for
from queues import ended_pid

LONG_LEASE = 3600  # an hour: work delivered within a test was never waited out


class Sink:
    """Inboxes on 127.0.0.1 that answer 202 after `delay`, counting (path, activity id) pairs."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sock = free_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.delay = delay
        self.hits: Counter[tuple[str, str]] = Counter()
        self.app = Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.hits[(request.url.path, orjson.loads(body)["id"])] += 1
        return Response(status_code=202)

    def paths(self) -> set[str]:
        return {path for path, _ in self.hits}


# -- who owns a lease -----------------------------------------------------------------------


def test_an_owner_round_trips_through_its_column_value() -> None:
    me = current_owner()
    assert me.pid == os.getpid() and me.host
    assert parse_owner(str(me)) == me
    assert parse_owner("not an owner") is None
    assert parse_owner("h|b|x|1") is None


def test_only_a_provably_dead_owner_on_this_host_is_dead() -> None:
    me = current_owner()
    assert not is_dead_here(me, me)
    assert is_dead_here(dataclasses.replace(me, pid=ended_pid()), me)
    # The same pid, started at another time: the pid was reused by a new process (this one).
    assert is_dead_here(dataclasses.replace(me, started="1"), me)
    # The machine rebooted since.
    assert is_dead_here(dataclasses.replace(me, boot="another-boot"), me)
    # Another host: nothing can be known from here.
    assert not is_dead_here(dataclasses.replace(me, host="elsewhere", pid=ended_pid()), me)
    # A live process on this host, with its own start time.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            started = Path(f"/proc/{other.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
            assert not is_dead_here(dataclasses.replace(me, pid=other.pid, started=started), me)
        finally:
            other.kill()


# -- a real serve, killed and restarted ---------------------------------------------------------


async def _followers(server: ServiceProcess, sink: Sink, count: int) -> None:
    rt = await Runtime.open(server.config())
    try:
        async with rt.db.transaction() as tx:
            for i in range(count):
                await follows.add_follower(
                    tx, 1, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
                )
    finally:
        await rt.close()


async def _summary(server: ServiceProcess) -> dict[str, int]:
    rt = await Runtime.open(server.config())
    try:
        return await deliveries.summary(rt.db)
    finally:
        await rt.close()


async def test_a_restarted_serve_takes_back_its_dead_predecessors_leases_at_once(
    tmp_path: Path, database_url: str | None
) -> None:
    count = 300
    sink = Sink(delay=0.05)
    async with serving(sink):
        server = ServiceProcess(
            tmp_path / "a2", database=database_url, delivery={"lease_seconds": LONG_LEASE, "per_host": 8}
        )
        server.cli("member", "add", "alice", "--name", "Alice")
        await _followers(server, sink, count)
        await server.start()
        try:
            last_line(server.cli("post", "alice", "--title", "Fan-out", "--body", "aan iedereen"))
            await wait_for(lambda: _received(sink, 30), what="the fan-out to start")
            server.kill()
            killed_at = len(sink.paths())
            assert killed_at < count, "fan-out finished before the kill; make the sink slower"
            await server.start()
            # The dead process's leases last an hour: everything arrives only because the
            # new process took them back at once.
            await wait_for(lambda: _received(sink, count), timeout=60, what="every inbox to get the post")
            await wait_for(lambda: _all_sent(server, count), timeout=60, what="every outcome to be recorded")
        finally:
            server.stop()
    assert sink.paths() == {f"/users/u{i}/inbox" for i in range(count)}
    assert "deliveries: took back" in server.log.read_text()
    # Only what was in flight at the kill (at most per_host requests to this one host) came twice.
    # (plus those done in the last moment before the kill and not yet written).
    duplicates = sum(n - 1 for n in sink.hits.values())
    assert duplicates <= 16, sink.hits.most_common(10)


async def test_a_stopped_serve_hands_back_what_it_had_not_sent(tmp_path: Path, database_url: str | None) -> None:
    # SIGTERM in the middle of a fan-out: the worker hands back the leases of what it had not
    # sent, so another worker (on any host) can take them at once instead of in an hour.
    count = 300
    sink = Sink(delay=0.05)
    async with serving(sink):
        server = ServiceProcess(
            tmp_path / "a2", database=database_url, delivery={"lease_seconds": LONG_LEASE, "per_host": 8}
        )
        server.cli("member", "add", "alice", "--name", "Alice")
        await _followers(server, sink, count)
        await server.start()
        try:
            last_line(server.cli("post", "alice", "--title", "Fan-out", "--body", "aan iedereen"))
            await wait_for(lambda: _received(sink, 30), what="the fan-out to start")
        finally:
            server.stop()
        assert len(sink.paths()) < count, "fan-out finished before the stop; make the sink slower"
    rt = await Runtime.open(server.config())
    try:
        rows = await rt.db.fetchall("SELECT lease_owner FROM deliveries WHERE state = 'pending'")
    finally:
        await rt.close()
    assert rows and all(r[0] is None for r in rows)  # unsent, and leased to nobody
    assert "deliveries: handed back" in server.log.read_text()


async def _received(sink: Sink, n: int) -> bool:
    return len(sink.paths()) >= n


async def _all_sent(server: ServiceProcess, n: int) -> bool:
    return await _summary(server) == {"sent": n}


async def test_a_live_workers_leases_are_never_taken(tmp_path: Path, database_url: str | None) -> None:
    count = 10
    async with serving(Sink()) as sink:
        server = ServiceProcess(tmp_path / "a2", database=database_url, delivery={"lease_seconds": LONG_LEASE})
        server.cli("member", "add", "alice", "--name", "Alice")
        await _followers(server, sink, count)
        last_line(server.cli("post", "alice", "--title", "Vastgehouden", "--body", "een"))
        last_line(server.cli("post", "alice", "--title", "Vrij", "--body", "twee"))
        me = current_owner()  # this test process: alive, on this host
        dead = dataclasses.replace(me, pid=ended_pid())
        rt = await Runtime.open(server.config())
        try:
            # The first post's deliveries are leased to this (live) process, the second's to a
            # dead one; claim() takes the oldest first.
            held = await deliveries.claim(rt.db, time.time(), LONG_LEASE, count, str(me))
            assert len(await deliveries.claim(rt.db, time.time(), LONG_LEASE, count, str(dead))) == count
            held_activity = await rt.db.fetchval("SELECT ap_id FROM activities WHERE id = ?", (held[0].activity_id,))
        finally:
            await rt.close()
        await server.start()
        try:
            # The dead process's work is delivered at once; that proves serve ran its reclaim.
            await wait_for(lambda: _received(sink, count), timeout=10, what="the dead owner's deliveries")
            rt = await Runtime.open(server.config())
            try:
                rows = await rt.db.fetchall(
                    "SELECT state, lease_owner, locked_until FROM deliveries WHERE activity_id = ?",
                    (held[0].activity_id,),
                )
            finally:
                await rt.close()
        finally:
            server.stop()
    # The live owner's leases are untouched: still pending, still its own, none sent.
    assert len(held) == len(rows) == count
    assert {(r["state"], r["lease_owner"]) for r in rows} == {("pending", str(me))}
    assert held_activity not in {activity for _, activity in sink.hits}
    assert sum(sink.hits.values()) == count


# -- wake-ups ---------------------------------------------------------------------------------


async def test_a_cli_post_is_delivered_at_once_despite_a_long_poll(tmp_path: Path, database_url: str | None) -> None:
    async with serving(Sink()) as sink:
        server = ServiceProcess(
            tmp_path / "a2", database=database_url, server={"poll_interval": 3600}, delivery={"lease_seconds": 60}
        )
        server.cli("member", "add", "alice", "--name", "Alice")
        await _followers(server, sink, 3)
        await server.start()
        try:
            # The first post may still meet serve's first look at its queue; the second one
            # comes when serve waits an hour for its next poll: only the CLI's wake-up starts it.
            for n in (1, 2):
                last_line(server.cli("post", "alice", "--title", f"Nu {n}", "--body", "meteen"))
                await wait_for(functools.partial(_hits, sink, 3 * n), timeout=60, what=f"the deliveries of post {n}")
        finally:
            server.stop()
    assert sum(sink.hits.values()) == 6


async def _hits(sink: Sink, n: int) -> bool:
    return sum(sink.hits.values()) >= n


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_local_wake_up_needs_the_commit(tmp_path: Path, database_url: str | None) -> None:
    # On SQLite the datagram is sent after COMMIT, never for a transaction that rolled back.
    server = ServiceProcess(tmp_path / "a2", database=database_url)
    rt = await Runtime.open(server.config())
    woken: list[str] = []
    got = asyncio.Event()

    def wake(channel: str) -> None:
        woken.append(channel)
        got.set()

    listening = await wakeups.listen(rt.db, [wakeups.DELIVERIES], wake)
    try:
        with pytest.raises(RuntimeError):
            async with rt.db.transaction() as tx:
                await wakeups.announce(tx, wakeups.DELIVERIES)
                raise RuntimeError("rolled back")
        async with rt.db.transaction() as tx:
            await wakeups.announce(tx, wakeups.DELIVERIES)
        async with asyncio.timeout(5):
            await got.wait()
        assert woken == [wakeups.DELIVERIES]
    finally:
        await listening.close()
        await rt.close()
