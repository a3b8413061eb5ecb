"""The scaled-out stack on one PostgreSQL database: `serve --workers 2` with background "none"
(two web processes on one port, SO_REUSEPORT) and two separate `worker` processes.

Every process is a real `fediverse-a2` subprocess on 127.0.0.1. Signed replies arrive from a
fake Mastodon server on the shared port, each over a connection of its own (so the kernel
spreads them over both web processes); a post published by the CLI goes to a counting sink.
Whatever process takes a piece of work, it must be done exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_workers_pg import Instance, Sink, _add_followers, _delivered, listeners

from fake_mastodon import FakeMastodon
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database
from helpers import last_line, serving, wait_for, write_config

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

REPLIES = 60
FOLLOWERS = 30


class Scaled(Instance):
    """Instance with server.background = "none": only the `worker` processes do background work."""

    def __init__(self, folder: Path, database: str) -> None:
        super().__init__(folder, database)
        # A long lease, as in Instance: a duplicate can then only come from a double claim.
        self.config_path = write_config(
            folder, self.base_url, database=database, delivery={"lease_seconds": 300}, server={"background": "none"}
        )

    async def start_workers(self, count: int) -> None:
        """Start `count` worker processes; wait until each says it runs (they share one log)."""
        for _ in range(count):
            self.extra.append(self._spawn("worker"))

        async def running() -> bool:
            for proc in self.extra:
                if proc.poll() is not None:
                    raise AssertionError(f"a worker exited early:\n{self.log.read_text()}")
            return self.log.read_text().count("fediverse-a2 worker running") == count

        await wait_for(running, timeout=30, what=f"{count} workers to run")


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[Scaled]:
    """2 web processes and 2 workers on a fresh database, with member alice; stopped afterwards."""
    inst = Scaled(tmp_path / "a2", database_url)
    try:
        inst.cli("member", "add", "alice", "--name", "Alice")
        await inst.start()
        await wait_for(lambda: _listening(inst.port, 2), what="both web processes to listen")
        await inst.start_workers(2)
        yield inst
    finally:
        inst.stop()


async def _listening(port: int, count: int) -> bool:
    return listeners(port) == count


async def test_each_reply_on_the_shared_port_is_processed_exactly_once(stack: Scaled, database_url: str) -> None:
    assert "background work: not here" in stack.log.read_text()  # the web processes only store
    post_url = last_line(stack.cli("post", "alice", "--title", "Gedeeld", "--body", "Reageer maar"))
    post_id = int(post_url.rsplit("/", 1)[1])
    fake = FakeMastodon()
    for name in ("carla", "dirk", "eva"):
        fake.add_user(name, name.title())
    names = sorted(fake.users)
    async with serving(fake):
        activities = []
        for i in range(REPLIES):
            name = names[i % len(names)]
            activities.append((name, fake.create(name, fake.note(name, f"<p>Reactie {i}</p>", post_url))))
        inbox = f"{stack.base_url}/inbox"
        # Concurrently, each request on a new connection: both web processes get some.
        statuses = await asyncio.gather(*(fake.send(name, inbox, a) for name, a in activities))
        assert Counter(r.status_code for r in statuses) == Counter({202: REPLIES})
        # A remote server that sends again (a retry after a timeout) changes nothing.
        again = await asyncio.gather(*(fake.send(name, inbox, a) for name, a in activities[:10]))
        assert {r.status_code for r in again} == {202}

    db: Database = await open_database(database_url)
    try:

        async def processed() -> bool:
            queued = await db.fetchval("SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'")
            return queued == 0 and await db.fetchval("SELECT COUNT(*) FROM inbox_items") == REPLIES

        await wait_for(processed, timeout=60, what="every reply to be processed")
        rows = await db.fetchall("SELECT ap_id FROM comments WHERE post_id = ?", (post_id,))
        items = await db.fetchall("SELECT state, attempts FROM inbox_items")
    finally:
        await db.close()
    # One comment per reply, none twice, none missing.
    assert Counter(r["ap_id"] for r in rows) == Counter(a["object"]["id"] for _, a in activities)
    # Each item was claimed once (a second claim would count a second attempt) and succeeded.
    assert Counter((r["state"], r["attempts"]) for r in items) == Counter({("done", 1): REPLIES})


async def test_a_post_from_the_cli_reaches_each_inbox_exactly_once(stack: Scaled, database_url: str) -> None:
    async with serving(Sink()) as sink:
        await _add_followers(database_url, sink, FOLLOWERS)
        stack.cli("post", "alice", "--title", "Aan iedereen", "--body", "Een keer per inbox")
        await wait_for(lambda: _delivered(database_url, FOLLOWERS), timeout=60, what=f"{FOLLOWERS} deliveries")
    assert sink.hits == Counter({f"/users/u{i}/inbox": 1 for i in range(FOLLOWERS)})


# -- what the stack relies on in store/postgres.py ---------------------------------------------


async def test_fetchval_each_gives_one_value_per_row_in_order(database_url: str) -> None:
    # The inbox's group commit: one pipelined batch, each row's own answer (None for a
    # duplicate, also within the batch), later rows seeing earlier ones.
    db: Database = await open_database(database_url)
    try:
        sql = (
            "INSERT INTO inbox_items (activity_id, actor_uri, domain, body, received_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (activity_id) DO NOTHING RETURNING id"
        )
        rows = [(f"https://m.test/a/{k}", "https://m.test/u", "m.test", "{}", 1.0) for k in (1, 2, 1, 3)]
        first = await db.fetchval_each(sql, rows)
        assert [v is None for v in first] == [False, False, True, False]
        assert first[0] < first[1] < first[3]
        assert await db.fetchval_each(sql, rows[:1]) == [None]
        assert await db.fetchval_each(sql, []) == []
        # A failing row fails the batch, which then leaves nothing behind (one transaction).
        with pytest.raises(Exception, match="null value"):
            await db.fetchval_each(sql, [("https://m.test/a/4", "u", "m.test", "{}", 1.0), (None, "u", "d", "{}", 1)])
        assert await db.fetchval("SELECT COUNT(*) FROM inbox_items") == 3
    finally:
        await db.close()


async def test_a_connection_cut_off_in_a_transaction_goes_back_to_the_pool_clean(database_url: str) -> None:
    # The pool's reset no longer sends asyncpg's reset query; a transaction that a timeout cut
    # off (as the inbox worker's per-item timeout does) must still be rolled back on release.
    db: Database = await open_database(database_url)

    async def abandoned() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('scale-test', 'x')")
            await tx.execute("SELECT pg_sleep(5)")

    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(abandoned(), 0.2)
        # Left open, the transaction would show its own row (or refuse every statement, were
        # it aborted) to whoever got the connection next.
        for _ in range(12):  # more than the pool holds: whichever connection comes, it is clean
            assert await db.fetchval("SELECT COUNT(*) FROM meta WHERE key = 'scale-test'") == 0
    finally:
        await db.close()
