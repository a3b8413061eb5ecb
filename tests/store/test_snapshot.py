"""Database copies for backups: SQLite's online backup while the database is open and written,
PostgreSQL's pg_dump restored by psql in one transaction (a failure changes nothing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fediverse_a2.errors import UserError
from fediverse_a2.store import members, snapshot
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.migrations import LATEST
from fediverse_a2.store.postgres import PostgresDatabase

only_postgresql = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


async def test_an_sqlite_snapshot_holds_what_is_still_in_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = await open_database(str(path))
    try:
        for n in range(50):
            await members.create(db, f"m{n}", f"Member {n}", "", "PEM")
        # The connection stays open: recent writes sit in the -wal file, not yet in the main file.
        assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0
        copy = tmp_path / "copy.sqlite3"
        assert snapshot.sqlite_snapshot(path, copy) == LATEST
        await members.create(db, "later", "Later", "", "PEM")  # after the snapshot: not in it
    finally:
        await db.close()
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 50
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # stands alone
    finally:
        conn.close()
    assert not (tmp_path / "copy.sqlite3-wal").exists()
    assert snapshot.sqlite_check(copy) == "ok"


def test_a_missing_database_is_not_created_by_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no SQLite database at"):
        snapshot.sqlite_snapshot(tmp_path / "absent.sqlite3", tmp_path / "copy.sqlite3")
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_missing_pg_dump_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no client tools on the PATH
    monkeypatch.setattr(snapshot, "VERSIONED_TOOLS", tmp_path)  # nor where Debian keeps them
    with pytest.raises(UserError) as missing:
        snapshot.PgTools("postgresql://a2@127.0.0.1/a2").dump(tmp_path / "dump.sql")
    message = str(missing.value)
    assert message.startswith("pg_dump is not installed: ") and "postgresql-client" in message
    assert "\n" not in message


def test_the_password_travels_in_the_environment_not_the_command_line() -> None:
    url, env = snapshot.PgTools("postgresql://a2:s%40cret@db.internal:5433/a2")._target()
    assert url == "postgresql://a2@db.internal:5433/a2"
    assert env["PGPASSWORD"] == "s@cret"


@only_postgresql
async def test_a_dump_restores_and_a_failing_restore_changes_nothing(
    backend: str, database_url: str | None, tmp_path: Path
) -> None:
    assert database_url is not None
    db = await open_database(database_url)
    try:
        await members.create(db, "alice", "Alice", "", "PEM")
        tables = await snapshot.postgres_tables(db)
    finally:
        await db.close()
    dump = tmp_path / "dump.sql"
    tools = snapshot.PgTools(database_url)
    tools.dump(dump)
    assert snapshot.plain_dump_complete(dump)
    # Restoring over the database itself: its tables dropped and made again, in one transaction.
    tools.restore(dump, drop=tables)
    broken = tmp_path / "broken.sql"
    broken.write_text(dump.read_text() + "\nSELECT no_such_function();\n")
    with pytest.raises(UserError, match="nothing was changed"):
        tools.restore(broken, drop=tables)
    db = await PostgresDatabase.open(database_url)
    try:
        assert await snapshot.postgres_tables(db) == tables  # the drops were rolled back with the rest
        alice = await members.by_username(db, "alice")
        assert alice is not None and alice.name == "Alice"
    finally:
        await db.close()
