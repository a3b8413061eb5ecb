"""PostgreSQL going away under a running instance: requests get 503 at once (never a hang, never
a 500), the worker waits instead of failing items, and once the server is back the same
processes carry on by themselves with nothing accepted lost.

Two ways of losing the server: a restart as the client sees it (every connection cut, new ones
refused for a while, then accepted again), played by a TCP proxy between the instance and the
shared test server (tests/tcp_proxy.py); and the server itself cutting the instance's
connections (pg_terminate_backend).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import DatabaseUnavailable
from hostile import World, make_world
from pg import server_url
from tcp_proxy import tcp_proxy

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
HTML = "text/html"


async def _page(world: World) -> httpx.Response:
    # The timeout only keeps a broken build from hanging the suite; nothing here is timed.
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.get(world.post_url, headers={"Accept": HTML})


async def _stored(world: World) -> list[str]:
    rows = await world.a2.rt.db.fetchall("SELECT content_html FROM comments ORDER BY id")
    return [str(r[0]) for r in rows]


async def test_a_restart_gets_503_then_the_same_process_carries_on(tmp_path: Path, database_url: str) -> None:
    parts = urlsplit(database_url)
    assert parts.hostname is not None and parts.port is not None
    async with tcp_proxy(parts.hostname, parts.port) as proxy:
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
        async with make_world(tmp_path / "a2", database=proxied) as world:
            assert (await world.send("carol", world.reply("carol", "<p>Voor</p>"))).status_code == 202
            assert (await _page(world)).status_code == 200

            proxy.down()  # the server restarts: connections cut, new ones refused
            page = await _page(world)
            assert page.status_code == 503, page.text
            assert page.headers["retry-after"] == "5"
            assert "niet bereikbaar" in page.text  # the interface's language (nl), no traceback
            during = world.reply("carol", "<p>Tijdens</p>")
            refused = await world.send("carol", during)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            # The worker does not mark anything failed: it waits for the database.
            with pytest.raises(DatabaseUnavailable):
                await world.a2.workers.inbox.run_once()

            proxy.up()  # back: the pool opens new connections by itself
            assert (await _page(world)).status_code == 200
            assert (await world.send("carol", during)).status_code == 202  # the sender's retry
            await world.drain()
            assert await _stored(world) == ["<p>Voor</p>", "<p>Tijdens</p>"]
            states = await world.a2.rt.db.fetchall("SELECT state, COUNT(*) FROM inbox_items GROUP BY state")
            assert {str(r[0]): int(r[1]) for r in states} == {"done": 2}


async def test_a_worker_that_loses_the_server_mid_run_hands_its_items_back(tmp_path: Path, database_url: str) -> None:
    parts = urlsplit(database_url)
    assert parts.hostname is not None and parts.port is not None
    async with tcp_proxy(parts.hostname, parts.port) as proxy:
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
        async with make_world(tmp_path / "a2", database=proxied) as world:
            for n in range(3):
                assert (await world.send("carol", world.reply("carol", f"<p>Reactie {n}</p>"))).status_code == 202
            worker = world.a2.workers.inbox
            claimed = await worker.leases.claim(10)
            assert len(claimed) == 3
            # The server goes away while the items are leased to this worker.
            proxy.down()
            with pytest.raises(DatabaseUnavailable):
                async with worker.leases.held(claimed):
                    await world.a2.rt.db.fetchval("SELECT 1")
            proxy.up()
            # The next round hands them back first, then claims and processes them: nothing waits
            # for the leases to run out, nothing is marked failed.
            await world.drain()
            assert await _stored(world) == [f"<p>Reactie {n}</p>" for n in range(3)]


async def test_connections_the_server_cuts_are_replaced(tmp_path: Path, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    async with make_world(tmp_path / "a2", database=database_url) as world:
        assert (await _page(world)).status_code == 200
        admin = await asyncpg.connect(server_url())
        try:
            killed = await admin.fetchval(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1", name
            )
        finally:
            await admin.close()
        assert killed >= 1
        statuses = [(await _page(world)).status_code for _ in range(3)]
        # At most the first use of a cut connection is a 503; never a 500, and it recovers.
        assert set(statuses) <= {200, 503} and statuses[-1] == 200, statuses
        assert (await world.send("carol", world.reply("carol", "<p>Daarna</p>"))).status_code == 202
        await world.drain()
        assert await _stored(world) == ["<p>Daarna</p>"]


async def test_statements_in_flight_when_the_server_goes_away_fail_as_unavailable(database_url: str) -> None:
    """Statements and transactions running at the moment the server ends their connections (what
    a restart does: FATAL 57P01 to every backend, as pg_terminate_backend sends): every failure is
    DatabaseUnavailable (nothing else reaches a page as a 500), and the same Database works on."""
    name = urlsplit(database_url).path.lstrip("/")
    db = await open_database(database_url)
    admin = await asyncpg.connect(server_url())
    try:
        failures: list[BaseException] = []
        done = asyncio.Event()

        async def busy(i: int) -> None:
            while not done.is_set():
                try:
                    if i % 2:
                        await db.fetchval("SELECT pg_sleep(0.002)")
                    else:
                        async with db.transaction() as tx:
                            await tx.fetchval("SELECT 1")
                            await tx.fetchval("SELECT pg_sleep(0.002)")
                            await tx.fetchval("SELECT 2")
                except Exception as exc:
                    failures.append(exc)
                await asyncio.sleep(0)

        async def terminator() -> None:
            for _ in range(30):
                await asyncio.sleep(0.02)
                await admin.fetchval(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
            done.set()

        await asyncio.gather(*(busy(i) for i in range(8)), terminator())
        assert failures, "nothing was in flight when the connections were ended"
        assert all(isinstance(f, DatabaseUnavailable) for f in failures), {type(f).__name__ for f in failures}
        assert await db.fetchval("SELECT 41 + 1") == 42
    finally:
        await admin.close()
        await db.close()
