"""Upgrades: databases made by earlier versions of the service come up to the current schema in
one go, with their data, as the current code and its HTTP routes see it.

The databases in tests/fixtures/upgrade/ were made by running old commits of this repository
(tests/fixtures/upgrade/make_fixtures.py): their CLI, their `serve`, and a fake Mastodon remote
following, replying and liking through signed HTTP. On SQLite they are loaded as dumped; on
PostgreSQL the same rows are copied into a database built by the steps of that schema.
A failing step leaves the old schema in place; a database newer than the code is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from fediverse_a2.app import create_app
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import comments, follows, members, posts
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database, SqliteDatabase
from fediverse_a2.store.migrations import LATEST, MIGRATIONS, MigrationFailed, SchemaTooNew, migrate, schema_version
from fediverse_a2.store.postgres import PostgresDatabase
from helpers import AP, FIXTURES, cli, free_socket, last_line, write_config

UPGRADE = FIXTURES / "upgrade"
DUMPS = sorted(UPGRADE.glob("schema-*.sql"))


def _expected(dump: Path) -> dict[str, Any]:
    return json.loads(dump.with_suffix(".json").read_text())


def test_the_fixtures_cover_the_first_schema_and_later_ones() -> None:
    schemas = [_expected(dump)["schema"] for dump in DUMPS]
    assert schemas[0] == 1 and len(schemas) >= 3
    for dump in DUMPS:
        # Each was written by the old version itself, not by this code.
        assert f"at commit {_expected(dump)['commit']}" in dump.read_text().splitlines()[0]


def _rows(dump: Path) -> sqlite3.Connection:
    """The dumped database, in memory."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(dump.read_text())
    return conn


async def _load(dump: Path, folder: Path, database_url: str | None) -> str:
    """Put the old database where an instance in `folder` finds it; returns storage.database."""
    if database_url is None:
        target = folder / "data" / "db.sqlite3"
        target.parent.mkdir(parents=True)
        conn = sqlite3.connect(target)
        conn.executescript(dump.read_text())
        conn.close()
        return "data/db.sqlite3"
    await _copy_to_postgres(_rows(dump), database_url, _expected(dump)["schema"])
    return database_url


async def _copy_to_postgres(source: sqlite3.Connection, url: str, schema: int) -> None:
    """Build the old schema on PostgreSQL with its own steps, then copy the old rows into it."""
    db = await PostgresDatabase.open(url)
    await migrate(db, [step for step in MIGRATIONS if step[0] <= schema])
    try:
        # SQLite's full-text index (an FTS5 table and its shadow tables) is a plain table on
        # PostgreSQL (store/search.py): its rows are copied with their document keys.
        fts = [name for (name,) in source.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
        tables = [t for t in _parents_first(source) if not any(t == v or t.startswith(f"{v}_") for v in fts)]
        async with db.transaction() as tx:
            for table in tables:
                cursor = source.execute(f"SELECT * FROM {table}")
                names = [d[0] for d in cursor.description]
                marks = ", ".join("?" * len(names))
                rows = cursor.fetchall()
                if rows:
                    await tx.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
                if "id" in names:
                    await tx.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 "
                        f"FROM {table}), false)"
                    )
            if "search_index" in fts:
                rows = source.execute("SELECT rowid, post_id, title, body FROM search_index").fetchall()
                insert = "INSERT INTO search_index (doc_key, post_id, title, body) VALUES (?, ?, ?, ?)"
                await tx.executemany(insert, rows)
    finally:
        await db.close()


def _parents_first(source: sqlite3.Connection) -> list[str]:
    """The data tables, each after the tables its foreign keys point to."""
    names = [
        name
        for (name,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_migrations' ORDER BY name"
        )
    ]
    parents = {name: {row[2] for row in source.execute(f"PRAGMA foreign_key_list({name})")} - {name} for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        assert ready, f"foreign keys in a cycle: {set(names) - set(ordered)}"
        ordered += ready
    return ordered


@contextlib.asynccontextmanager
async def _serving(folder: Path, base_url: str, database: str) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """The current code on the upgraded database, served on 127.0.0.1 as the old `base_url`."""
    config = load_config(write_config(folder, base_url, database=database))
    rt = await Runtime.open(config)  # the upgrade happens here
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(rt, run_workers=False), log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        address = f"http://127.0.0.1:{sock.getsockname()[1]}"
        headers = {"Host": urlsplit(base_url).netloc}
        async with httpx.AsyncClient(base_url=address, headers=headers, timeout=10) as client:
            yield rt, client
    finally:
        server.should_exit = True
        await task
        sock.close()
        await rt.close()


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.mark.parametrize("dump", DUMPS, ids=[d.stem for d in DUMPS])
async def test_an_old_database_upgrades_in_one_go_with_its_data(
    dump: Path, tmp_path: Path, database_url: str | None
) -> None:
    expected = _expected(dump)
    old = _rows(dump)
    old_keys = dict(old.execute("SELECT username, public_key_pem FROM members"))
    old_inbox = old.execute("SELECT COUNT(*) FROM inbox_items").fetchone()[0]
    folder = tmp_path / "a2"
    database = await _load(dump, folder, database_url)

    async with _serving(folder, expected["base_url"], database) as (rt, client):
        assert await schema_version(rt.db) == LATEST
        assert await rt.db.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(MIGRATIONS)
        # Members, with the keys remote servers know them by.
        for username, name in expected["members"].items():
            member = await members.by_username(rt.db, username)
            assert member is not None and member.name == name
            assert member.public_key_pem == old_keys[username]
            r = await client.get(f"/users/{username}", headers={"Accept": AP})
            assert r.status_code == 200
            actor = r.json()
            assert actor["name"] == name and actor["publicKey"]["publicKeyPem"] == old_keys[username]
            # Followers, through the store and the followers collection.
            followers = expected["followers"].get(username, [])
            assert sorted(await follows.follower_page(rt.db, member.id, 100, 0)) == followers
            r = await client.get(f"/users/{username}/followers", headers={"Accept": AP})
            assert r.json()["totalItems"] == len(followers)
        # Posts: the page and the Note; the edited one says so; the deleted one is gone.
        for post in expected["posts"]:
            r = await client.get(_path(post["url"]))
            assert r.status_code == 200 and post["title"] in r.text
            note = (await client.get(_path(post["url"]), headers={"Accept": AP})).json()
            assert note["id"] == post["url"] and post["title"] in note["content"]
            assert ("updated" in note) == bool(post.get("edited"))
        for gone in expected["deleted"]:
            r = await client.get(_path(gone), headers={"Accept": AP})
            assert r.status_code == 410 and r.json()["type"] == "Tombstone"
        # Comments, under their post on the page and in the store, nested as they were.
        first = expected["posts"][0]
        post_id = int(_path(first["url"]).rsplit("/", 1)[1])
        stored = {c.ap_id: c for c in await comments.list_for_post(rt.db, post_id, rt.policy, rt.urls)}
        page = (await client.get(_path(first["url"]))).text
        for comment in expected["comments"]:
            assert comment["id"] in stored
            assert comment["text"] in page
            if "parent" in comment:
                assert stored[comment["id"]].parent_id == stored[comment["parent"]].id
        assert (await posts.by_id(rt.db, post_id)) is not None
        # The like, the accounts followed, the inbox history (its dedupe keys) are kept.
        for like in expected["likes"]:
            assert (
                await rt.db.fetchval(
                    "SELECT COUNT(*) FROM reactions WHERE LOWER(kind) = 'like' AND actor_uri = ? AND post_id = ?",
                    (like["actor"], post_id),
                )
                == 1
            )
        for targets in expected["following"].values():
            # Still pending (the fake never accepts), so only "is anyone following" tells.
            for target in targets:
                assert await follows.is_following(rt.db, target)
        assert await rt.db.fetchval("SELECT COUNT(*) FROM inbox_items") == old_inbox
        # What later schemas added works on the old rows: search (indexed once on start).
        r = await client.get("/search", params={"q": "netwerk"})
        assert r.status_code == 200 and f'<a href="{first["url"]}">' in r.text

    # And the upgraded database takes new work from the CLI.
    config_path = folder / "config.toml"
    cli(config_path, "member", "add", "erik", "--name", "Erik Nieuw")
    url = last_line(cli(config_path, "post", "erik", "--title", "Na de upgrade", "--body", "Alles is er nog."))
    assert url.startswith(expected["base_url"] + "/posts/")


@pytest.mark.parametrize("dump", [DUMPS[0], DUMPS[-1]], ids=[DUMPS[0].stem, DUMPS[-1].stem])
async def test_a_failing_step_leaves_the_old_schema_and_data_in_place(
    dump: Path, tmp_path: Path, database_url: str | None
) -> None:
    expected = _expected(dump)
    folder = tmp_path / "a2"
    database = await _load(dump, folder, database_url)
    target = database_url or str(folder / database)
    broken = [
        *MIGRATIONS,
        (
            LATEST + 1,
            "a step that fails halfway",
            ["CREATE TABLE upgrade_probe (id INTEGER)", "ALTER TABLE no_such_table ADD COLUMN x TEXT"],
        ),
    ]
    db: Database = await PostgresDatabase.open(target) if database_url else await SqliteDatabase.open(Path(target))
    try:
        tables_before = await _tables(db)
        with pytest.raises(MigrationFailed) as failure:
            await migrate(db, broken)
        message = str(failure.value)
        assert "\n" not in message
        assert f"from schema {expected['schema']} failed at step {LATEST + 1}" in message
        assert f"still at schema {expected['schema']}" in message
        # Nothing of the upgrade stayed: not the steps before the failing one, not its first half.
        assert await schema_version(db) == expected["schema"]
        assert await _tables(db) == tables_before
        assert "upgrade_probe" not in tables_before
        assert await db.fetchval("SELECT COUNT(*) FROM comments") == len(expected["comments"])
        # The next start, with steps that work, upgrades it.
        assert await migrate(db) == LATEST
    finally:
        await db.close()


async def _tables(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in rows}


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path, database_url: str | None) -> None:
    target = database_url or str(tmp_path / "db.sqlite3")
    db = await open_database(target)
    try:
        await db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)", (LATEST + 1,)
        )
    finally:
        await db.close()
    with pytest.raises(SchemaTooNew) as refused:
        await open_database(target)
    assert str(refused.value).startswith(f"the database has schema {LATEST + 1}, newer than")
    assert "\n" not in str(refused.value)
