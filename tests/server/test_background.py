"""`serve` with its background work in a `worker` child process (server.background).

Real processes: `fediverse-a2 serve` as a subprocess, a fake Mastodon server in the test's
event loop sending signed replies, and the child found through /proc.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_mastodon import FakeMastodon
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import follows
from helpers import CountingSink, ServiceProcess, cli, db_value, last_line, serving, wait_for


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _family(pid: int) -> dict[int, bytes]:
    """Every living descendant of `pid` and its command line."""
    found: dict[int, bytes] = {}
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if _alive(child):
                try:
                    found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                todo.append(child)
    return found


def _workers_of(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmdline:
            out.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _running(server: ServiceProcess) -> int:
    """How many worker processes have started their loops (each says so once in the log)."""
    return server.log.read_text().count("fediverse-a2 worker running")


async def _reply_processed(server: ServiceProcess, fake: FakeMastodon, post_url: str, text: str) -> None:
    note = fake.note("carla", f"<p>{text}</p>", post_url)
    r = await fake.send("carla", f"{server.base_url}/inbox", fake.create("carla", note))
    assert r.status_code == 202, r.text

    async def shown() -> bool:
        return bool(await db_value(server, "SELECT COUNT(*) FROM comments WHERE ap_id = ?", (note["id"],)))

    await wait_for(shown, timeout=20, what=f"the reply {text!r} to be processed")


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    f = FakeMastodon()
    f.add_user("carla", "Carla")
    yield f
    f.sock.close()  # also when the test was skipped before serving it


async def test_the_worker_process_handles_what_the_web_process_stores(
    tmp_path: Path, fake: FakeMastodon, database_url: str | None
) -> None:
    # A poll of 60 s: a reply handled within the 20 s of _reply_processed was woken up for
    # (a datagram on SQLite, NOTIFY on PostgreSQL).
    server = ServiceProcess(
        tmp_path / "a2", database=database_url, server={"background": "process", "poll_interval": 60}
    )
    server.cli("member", "add", "alice", "--name", "Alice")
    post_url = last_line(server.cli("post", "alice", "--title", "Titel", "--body", "Tekst"))
    async with serving(fake):
        await server.start()
        try:
            assert server.proc is not None
            await wait_for(lambda: _async(_running(server) == 1), what="the worker child to run")
            [worker] = _workers_of(server.proc.pid)
            await _reply_processed(server, fake, post_url, "via de worker")
            # The web process itself did not process it: its log says where the work runs.
            assert "background work: in a worker process" in server.log.read_text()
            # A worker that dies is started again, and the work goes on.
            os.kill(worker, signal.SIGKILL)
            await wait_for(lambda: _async(_running(server) == 2), timeout=20, what="a new worker child to run")
            assert [p for p in _workers_of(server.proc.pid) if p != worker] != []
            await _reply_processed(server, fake, post_url, "na de herstart")
        finally:
            server.stop()
        assert not _alive(worker)


async def test_kill_9_of_serve_takes_the_worker_with_it(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"background": "process"})
    await server.start()
    assert server.proc is not None
    await wait_for(lambda: _async(bool(_workers_of(server.proc.pid))), what="the worker child")
    [worker] = _workers_of(server.proc.pid)
    server.kill()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived a kill -9 of serve"


async def test_a_clean_stop_stops_the_worker_cleanly(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"background": "process"})
    await server.start()
    assert server.proc is not None
    await wait_for(lambda: _async(bool(_workers_of(server.proc.pid))), what="the worker child")
    [worker] = _workers_of(server.proc.pid)
    server.stop()
    assert server.proc.returncode in (0, -signal.SIGTERM)
    assert not _alive(worker)
    assert "Traceback" not in server.log.read_text()


async def test_inline_runs_no_worker_process(tmp_path: Path, fake: FakeMastodon) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"background": "inline"})
    server.cli("member", "add", "alice", "--name", "Alice")
    post_url = last_line(server.cli("post", "alice", "--title", "Titel", "--body", "Tekst"))
    async with serving(fake):
        await server.start()
        try:
            assert server.proc is not None
            await _reply_processed(server, fake, post_url, "in het webproces")
            assert _workers_of(server.proc.pid) == []
            assert "background work: in this process" in server.log.read_text()
        finally:
            server.stop()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_every_process_serve_started_ends_with_it(tmp_path: Path, how: str) -> None:
    # The worker child, its signing process and multiprocessing's resource tracker, and the web
    # process's JSON-LD process: a clean stop and a kill -9 alike leave none of them running.
    sink = CountingSink()
    server = ServiceProcess(
        tmp_path / "a2", server={"background": "process"}, delivery={"signing_processes": 1, "lease_seconds": 60}
    )
    server.cli("member", "add", "alice", "--name", "Alice")
    rt = await Runtime.open(server.config())
    try:
        for i in range(20):
            inbox = f"{sink.base}/u/{i}/inbox"
            await follows.add_follower(rt.db, 1, f"{sink.base}/u/{i}", inbox, None, "127.0.0.1", None)
    finally:
        await rt.close()
    async with serving(sink):
        await server.start()
        assert server.proc is not None
        try:
            last_line(server.cli("post", "alice", "--title", "Titel", "--body", "Tekst"))
            await wait_for(lambda: _async(sum(sink.hits.values()) >= 20), what="the fan-out")

            def signing() -> bool:
                [worker] = _workers_of(server.proc.pid)  # type: ignore[union-attr]
                kinds = list(_family(worker).values())
                return any(b"spawn_main" in c for c in kinds) and any(b"resource_tracker" in c for c in kinds)

            await wait_for(lambda: _async(signing()), what="the worker's signing process")
            family = _family(server.proc.pid)
        finally:
            if how == "SIGTERM":
                server.stop()
            else:
                server.kill()
        await wait_for(lambda: _async(not any(_alive(p) for p in family)), what="every process of serve to end")
    assert len(family) >= 4, family  # worker, signing process, its tracker, the JSON-LD process ...
    if how == "SIGTERM":
        assert server.proc.returncode == -signal.SIGTERM
        assert "Traceback" not in server.log.read_text()


def test_a_bad_background_value_is_one_line(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"background": "sometimes"})
    proc = cli(server.config_path, "member", "list", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        'fediverse-a2: config key server.background must be "auto", "process", "inline" or "none"'
    ]


async def _async(value: bool) -> bool:
    return value
