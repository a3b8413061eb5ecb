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
from fediverse_a2.store import activities, deliveries, follows, inbox, members
from fediverse_a2.work import wakeups
from fediverse_a2.work.reclaim import Reclaimer
from helpers import ServiceProcess, free_socket, last_line, serving, wait_for

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


def _dead_pid() -> int:
    """The pid of a process that has just ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


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
    assert is_dead_here(dataclasses.replace(me, pid=_dead_pid()), me)
    # The same pid, started at another time: the pid was reused by a new process (this one).
    assert is_dead_here(dataclasses.replace(me, started="1"), me)
    # The machine rebooted since.
    assert is_dead_here(dataclasses.replace(me, boot="another-boot"), me)
    # Another host: nothing can be known from here.
    assert not is_dead_here(dataclasses.replace(me, host="elsewhere", pid=_dead_pid()), me)
    # A live process on this host, with its own start time.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            started = Path(f"/proc/{other.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
            assert not is_dead_here(dataclasses.replace(me, pid=other.pid, started=started), me)
        finally:
            other.kill()


# -- the store: claiming with an owner, renewing, releasing ------------------------------------


async def _queue(rt: Runtime, count: int) -> None:
    member = await members.create(rt.db, "alice", "Alice", "", "PEM")
    activity = await activities.add(rt.db, "https://a2.test/activities/1", member.id, "Create", None, "{}")
    await deliveries.enqueue(
        rt.db, activity, [(f"https://r{i}.test/inbox", f"r{i}.test", None) for i in range(count)], 1
    )


async def test_leases_name_their_owner_and_only_the_owner_renews(rt: Runtime) -> None:
    me, other = current_owner(), dataclasses.replace(current_owner(), host="elsewhere")
    await _queue(rt, 4)
    mine = await deliveries.claim(rt.db, 100.0, 60, 2, str(me))
    theirs = await deliveries.claim(rt.db, 100.0, 60, 2, str(other))
    assert len(mine) == len(theirs) == 2
    assert sorted(await deliveries.QUEUE.live_owners(rt.db, 100.0)) == sorted([str(me), str(other)])
    # Renewing all four as `me` extends only my own two.
    await deliveries.QUEUE.renew(rt.db, [c.id for c in mine + theirs], 500.0, str(me))
    rows = await rt.db.fetchall("SELECT lease_owner, locked_until FROM deliveries ORDER BY id")
    assert [(r["lease_owner"], r["locked_until"]) for r in rows] == [
        (str(me), 500.0),
        (str(me), 500.0),
        (str(other), 160.0),
        (str(other), 160.0),
    ]
    # An outcome ends the lease: a late renewal does not lease the row again.
    result = deliveries.Result(mine[0].id, deliveries.DeliveryState.PENDING, 1, 900.0, 503, "HTTP 503")
    await deliveries.record(rt.db, [result], 101.0)
    await deliveries.QUEUE.renew(rt.db, [mine[0].id], 600.0, str(me))
    row = await rt.db.fetchone("SELECT locked_until, lease_owner FROM deliveries WHERE id = ?", (mine[0].id,))
    assert (row["locked_until"], row["lease_owner"]) == (None, None)
    # Releasing an owner frees its leases at once.
    assert await deliveries.QUEUE.release_owners(rt.db, [str(other)]) == 2
    again = await deliveries.claim(rt.db, 100.0, 60, 10, str(me))
    assert sorted(c.id for c in again) == sorted(c.id for c in theirs)


async def test_the_reclaimer_frees_dead_owners_of_this_host_only(rt: Runtime) -> None:
    me = current_owner()
    dead_here = dataclasses.replace(me, pid=_dead_pid())
    dead_elsewhere = dataclasses.replace(me, host="elsewhere", pid=_dead_pid())
    await _queue(rt, 6)
    for owner in (me, dead_here, dead_elsewhere):
        assert len(await deliveries.claim(rt.db, 100.0, 60, 2, str(owner))) == 2
    reclaimer = Reclaimer(rt.db, deliveries.QUEUE, me, 20.0, lambda: 100.0)
    assert await reclaimer.run_due() == 2
    assert await reclaimer.run_due() == 0  # not due again yet
    owners = Counter(r["lease_owner"] for r in await rt.db.fetchall("SELECT lease_owner FROM deliveries"))
    assert owners == Counter({str(me): 2, str(dead_elsewhere): 2, None: 2})


async def test_inbox_items_are_leased_to_an_owner_too(rt: Runtime) -> None:
    me = current_owner()
    dead = dataclasses.replace(me, pid=_dead_pid())
    for n in range(3):
        assert await inbox.add(rt.db, f"https://r.test/a/{n}", "https://r.test/u", "r.test", "{}")
    assert len(await inbox.claim(rt.db, time.time(), 120, 2, str(dead))) == 2
    assert await inbox.claim(rt.db, time.time(), 120, 2, str(me)) != []
    assert await Reclaimer(rt.db, inbox.QUEUE, me, 40.0, time.time).run_due() == 2
    assert len(await inbox.claim(rt.db, time.time(), 120, 5, str(me))) == 2


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
        dead = dataclasses.replace(me, pid=_dead_pid())
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
