"""Scaling out on PostgreSQL: `serve --workers 2` on one port, and a separate `worker` process.

Every process here is a real `fediverse-a2` subprocess sharing one PostgreSQL database;
deliveries go to a small inbox sink served from the test's event loop.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fediverse_a2.store import deliveries, follows
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database
from helpers import AP, ServiceProcess, last_line, serving, wait_for
from helpers import CountingSink as Sink

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


class Instance(ServiceProcess):
    """An instance whose `serve` runs with --workers N, plus optional separate `worker` processes."""

    def __init__(self, folder: Path, database: str, workers: int = 2) -> None:
        # A long lease: a duplicate delivery here can then only come from a double claim,
        # not from a slow (loaded) machine letting a lease run out mid-batch.
        super().__init__(folder, database=database, delivery={"lease_seconds": 300})
        self.workers = workers
        self.extra: list[subprocess.Popen[bytes]] = []

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "fediverse_a2", "--config", str(self.config_path), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        """Start the supervisor with N serve processes; wait until the port answers."""
        self.proc = self._spawn("serve", "--host", self.host, "--port", str(self.port), "--workers", str(self.workers))
        await wait_for(self._answers, timeout=30, what=f"{self.base_url} to come up")

    async def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{self.base_url}/.well-known/nodeinfo")).status_code == 200
        except httpx.HTTPError:
            return False

    async def start_worker(self) -> subprocess.Popen[bytes]:
        """Start a `fediverse-a2 worker` process and wait until it runs."""
        worker = self._spawn("worker")
        self.extra.append(worker)

        async def running() -> bool:
            if worker.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log.read_text()}")
            return "worker running" in self.log.read_text()

        await wait_for(running, timeout=30, what="the worker to start")
        return worker

    def stop(self) -> None:
        """Stop the workers and the supervisor (which stops its serve processes)."""
        for proc in self.extra:
            _terminate(proc)
        super().stop()


def _terminate(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def listeners(port: int) -> int:
    """How many sockets listen on 127.0.0.1:port (one per serve process with SO_REUSEPORT)."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1] == local and row[3] == "0A")


@pytest.fixture
async def instance(tmp_path: Path, database_url: str) -> AsyncIterator[Instance]:
    """An instance on a fresh PostgreSQL database; nothing is started yet."""
    inst = Instance(tmp_path / "a2", database_url)
    try:
        yield inst
    finally:
        inst.stop()


async def _add_followers(database_url: str, sink: Sink, count: int) -> None:
    """Followers of member 1, each with a personal inbox on the sink."""
    db = await open_database(database_url)
    try:
        async with db.transaction() as tx:
            for i in range(count):
                await follows.add_follower(
                    tx, 1, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
                )
    finally:
        await db.close()


async def _summary(database_url: str) -> dict[str, int]:
    db: Database = await open_database(database_url)
    try:
        return await deliveries.summary(db)
    finally:
        await db.close()


async def test_serve_with_two_workers_answers_on_one_port(instance: Instance) -> None:
    # Started on an empty database: both serve processes migrate it at once.
    await instance.start()
    await wait_for(lambda: _listening(instance, 2), what="both serve processes to listen")
    last_line(instance.cli("member", "add", "alice", "--name", "Alice"))
    # Fresh connections, spread over both processes by the kernel; each must answer.
    for _ in range(20):
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.get(f"{instance.base_url}/users/alice", headers={"Accept": AP})
        assert r.status_code == 200
        assert r.json()["preferredUsername"] == "alice"
    instance.stop()
    assert listeners(instance.port) == 0  # the supervisor took its serve processes down


async def _listening(instance: Instance, count: int) -> bool:
    return listeners(instance.port) == count


async def test_a_separate_worker_process_delivers_queued_posts(instance: Instance, database_url: str) -> None:
    async with serving(Sink()) as sink:
        instance.cli("member", "add", "alice", "--name", "Alice")
        await _add_followers(database_url, sink, 5)
        last_line(instance.cli("post", "alice", "--title", "Wachtrij", "--body", "voor de worker"))
        assert await _summary(database_url) == {"pending": 5}  # nothing delivers yet: no serve runs
        worker = await instance.start_worker()
        await wait_for(lambda: _delivered(database_url, 5), what="the worker to deliver to every inbox")
        assert sink.hits == Counter({f"/users/u{i}/inbox": 1 for i in range(5)})
        assert _terminate(worker) == 0, instance.log.read_text()


async def test_three_processes_deliver_each_inbox_once(instance: Instance, database_url: str) -> None:
    async with serving(Sink()) as sink:
        instance.cli("member", "add", "alice", "--name", "Alice")
        await _add_followers(database_url, sink, 60)
        await instance.start()
        await instance.start_worker()
        for n in range(3):
            instance.cli("post", "alice", "--title", f"Post {n}", "--body", "aan iedereen")
        await wait_for(lambda: _delivered(database_url, 180), timeout=60, what="180 deliveries")
    # Two serve processes and a worker claimed from one queue: no inbox got a post twice.
    assert sink.hits == Counter({f"/users/u{i}/inbox": 3 for i in range(60)})


async def _delivered(database_url: str, count: int) -> bool:
    return await _summary(database_url) == {"sent": count}
