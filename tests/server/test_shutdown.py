"""SIGTERM: `serve` stops accepting, lets the requests in flight finish, hands back its leases and
ends every process it started; a restart under inbox load loses nothing and answers no 5xx.

A real `serve` (web process, `worker` child, signing process) receives signed replies from a
Mastodon-shaped remote without pause from several senders while it fans a post out to a slow
inbox. It gets SIGTERM in the middle of that, and is started again; the senders retry what
could not connect meanwhile, as a remote server would. Every reply answered 202 ends up as a
comment. /metrics of the web process counts the deliveries its worker child made.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fake_mastodon import FakeMastodon
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import follows
from helpers import CountingSink, ServiceProcess, last_line, serving, wait_for

SENDERS = 4
FOLLOWERS = 80


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _tree(pid: int) -> set[int]:
    """Every process below `pid` (children, their children, ...)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _names(pids: set[int]) -> list[str]:
    names = []
    for pid in sorted(pids):
        try:
            names.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except OSError:
            names.append(f"{pid} (gone)")
    return names


async def _query(server: ServiceProcess, sql: str) -> list[tuple[Any, ...]]:
    rt = await Runtime.open(server.config())
    try:
        return [tuple(r) for r in await rt.db.fetchall(sql)]
    finally:
        await rt.close()


class Senders:
    """Remote servers replying without pause; a reply that finds no server is sent again, as
    a remote's delivery queue would."""

    def __init__(self, fake: FakeMastodon, server: ServiceProcess, post_url: str) -> None:
        self.fake, self.server, self.post_url = fake, server, post_url
        self.accepted: list[str] = []
        self.statuses: list[int] = []
        self.unreachable = 0
        self.stopping = False

    async def one(self, sender: int) -> None:
        n = 0
        while not self.stopping:
            n += 1
            note = self.fake.note("carla", f"<p>Afzender {sender}, bericht {n}</p>", self.post_url)
            activity = self.fake.create("carla", note)
            while True:
                try:
                    r = await self.fake.send("carla", f"{self.server.base_url}/inbox", activity)
                except httpx.TransportError:  # refused or cut while the server restarts
                    self.unreachable += 1
                    await asyncio.sleep(0.05)  # a remote's retry back-off
                    continue
                self.statuses.append(r.status_code)
                if r.status_code == 202:
                    self.accepted.append(note["id"])
                    break
                if r.status_code < 500:
                    raise AssertionError(f"reply refused: {r.status_code} {r.text}")
                await asyncio.sleep(0.05)

    async def until(self, count: int) -> None:
        await wait_for(lambda: _async(len(self.accepted) >= count), timeout=120, what=f"{count} replies accepted")


async def _async(value: bool) -> bool:
    return value


async def _followers(server: ServiceProcess, sink: CountingSink) -> None:
    rt = await Runtime.open(server.config())
    try:
        async with rt.db.transaction() as tx:
            for i in range(FOLLOWERS):
                await follows.add_follower(
                    tx, 1, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
                )
    finally:
        await rt.close()


async def _scrape(server: ServiceProcess) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(f"{server.base_url}/metrics")
    assert r.status_code == 200
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def _terminate(server: ServiceProcess) -> int:
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        raise AssertionError(f"serve did not end within 60 s of SIGTERM:\n{server.log.read_text()[-3000:]}") from None


async def test_sigterm_ends_every_process_and_a_restart_under_load_loses_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    sink = CountingSink(delay=0.05)
    fake = FakeMastodon()
    fake.add_user("carla", "Carla Jansen")
    server = ServiceProcess(
        tmp_path / "a2", database=database_url,
        server={"background": "process"}, delivery={"lease_seconds": 60, "per_host": 2, "signing_processes": 1},
    )  # fmt: skip
    server.cli("member", "add", "alice", "--name", "Alice de Vries")
    post_url = last_line(server.cli("post", "alice", "--title", "Reageer maar", "--body", "Graag!"))
    await _followers(server, sink)
    async with serving(sink), serving(fake):
        await server.start()
        senders = Senders(fake, server, post_url)
        tasks = [asyncio.create_task(senders.one(i)) for i in range(SENDERS)]
        try:
            await senders.until(20)
            await asyncio.to_thread(server.cli, "post", "alice", "--title", "Voor iedereen", "--body", "Hallo")
            await wait_for(lambda: _async(sum(sink.hits.values()) >= 5), what="the fan-out to be under way")
            # The worker counts the deliveries; the web process answers /metrics with them.
            scraped = await _scrape(server)
            assert scraped.get("fediverse_a2_deliveries_total[('outcome', 'sent')]", 0) >= 1, scraped

            assert server.proc is not None
            tree = _tree(server.proc.pid)
            # The web process's JSON-LD process, the worker child, its signing process (and the
            # multiprocessing helpers they bring) are all there to be ended.
            assert len(tree) >= 3, _names(tree)
            accepted_before = len(senders.accepted)
            code = _terminate(server)
            assert code in (0, -signal.SIGTERM), server.log.read_text()[-3000:]
            await wait_for(
                lambda: _async(not any(_alive(pid) for pid in tree)),
                timeout=30,
                what=f"every process of serve's tree to end: {_names({p for p in tree if _alive(p)})}",
            )
            log = server.log.read_text()
            assert "Traceback" not in log, log[-3000:]
            # The leases were handed back: the next start takes the work at once.
            for table, state in (("inbox_items", "queued"), ("deliveries", "pending")):
                held = await _query(
                    server, f"SELECT COUNT(*) FROM {table} WHERE state = '{state}' AND lease_owner IS NOT NULL"
                )
                assert held == [(0,)], table
            assert len(senders.accepted) >= accepted_before

            await server.start()  # the senders find it again
            await senders.until(len(senders.accepted) + 20)
        finally:
            senders.stopping = True
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            assert senders.unreachable > 0, "no reply met the restart; the test proved nothing"
            assert all(status < 500 for status in senders.statuses), sorted(set(senders.statuses))

            async def all_processed() -> bool:
                rows = await _query(server, "SELECT ap_id FROM comments")
                return set(senders.accepted) <= {ap_id for (ap_id,) in rows}

            await wait_for(all_processed, timeout=120, what="every accepted reply to be processed")
            await wait_for(lambda: _async(len(sink.hits) == FOLLOWERS), timeout=120, what="the fan-out to finish")
        finally:
            assert server.proc is not None
            tree = _tree(server.proc.pid)
            assert _terminate(server) in (0, -signal.SIGTERM)
        await wait_for(lambda: _async(not any(_alive(pid) for pid in tree)), timeout=30, what="the tree to end")
    fake.sock.close()


class SlowKeys(FakeMastodon):
    """A remote whose actor document (with the key) is held back until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def actor(self, request: Any) -> Any:
        self.asked.set()
        await self.release.wait()
        return await super().actor(request)


async def test_sigterm_stops_accepting_and_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    fake = SlowKeys()
    fake.add_user("erik", "Erik")
    server = ServiceProcess(tmp_path / "a2", server={"background": "process"})
    server.cli("member", "add", "alice", "--name", "Alice de Vries")
    post_url = last_line(server.cli("post", "alice", "--title", "Reageer maar", "--body", "Graag!"))
    async with serving(fake):
        await server.start()
        try:
            note = fake.note("erik", "<p>Net op tijd</p>", post_url)
            # The inbox fetches erik's key before it answers: the request is in flight until released.
            in_flight = asyncio.create_task(fake.send("erik", f"{server.base_url}/inbox", fake.create("erik", note)))
            await fake.asked.wait()
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            await wait_for(lambda: _async("Shutting down" in server.log.read_text()), what="the shutdown to begin")
            with pytest.raises(httpx.TransportError):  # no new connections meanwhile
                async with httpx.AsyncClient(timeout=5) as client:
                    await client.get(f"{server.base_url}/healthz")
            fake.release.set()
            answer = await in_flight
            assert answer.status_code == 202, answer.text  # finished, not cut off
            assert await asyncio.to_thread(server.proc.wait, 60) in (0, -signal.SIGTERM)
            # Accepted before the stop: handled after the next start.
            await server.start()
            await wait_for(
                lambda: _processed(server, note["id"]), timeout=60, what="the reply to be processed after the restart"
            )
        finally:
            fake.release.set()
            server.stop()
    fake.sock.close()


async def _processed(server: ServiceProcess, note_id: str) -> bool:
    return (note_id,) in await _query(server, "SELECT ap_id FROM comments")
