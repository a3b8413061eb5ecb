"""`backup restore` into the configured locations: only empty ones unless --force (which moves
what is there aside, or drops the old tables in the restoring transaction), never while the
service runs on them, never a database of another engine or of a newer schema."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from fediverse_a2.store.migrations import LATEST
from fediverse_a2.store.postgres import PostgresDatabase
from helpers import ServiceProcess, cli, wait_for, write_config
from pg import DatabaseFactory

only_postgresql = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
ADDRESS = "http://127.0.0.1:8123"


def _instance(folder: Path, database: str | None, *members: str) -> Path:
    config = write_config(folder, ADDRESS, database=database)
    for name in members:
        cli(config, "member", "add", name, "--name", name.title())
    return config


def _members(config: Path) -> list[str]:
    return [line.split("\t")[0] for line in cli(config, "member", "list").stdout.splitlines() if line.strip()]


def _one_line(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


async def test_restore_needs_empty_locations_or_force(
    tmp_path: Path, database_factory: DatabaseFactory, backend: str
) -> None:
    source = _instance(tmp_path / "source", await database_factory(), "alice")
    archive = tmp_path / "backup.tar.gz"
    cli(source, "backup", "create", str(archive))
    target = _instance(tmp_path / "target", await database_factory(), "bob")  # database and keys in use
    _one_line(cli(target, "backup", "restore", str(archive), check=False), "is not empty")
    assert _members(target) == ["bob"]
    forced = cli(target, "backup", "restore", "--force", str(archive))
    assert _members(target) == ["alice"]
    aside = [line.removeprefix("moved aside: ") for line in forced.stderr.splitlines() if "moved aside" in line]
    keys_aside = [Path(p) for p in aside if Path(p).name.startswith("keys.before-restore-")]
    assert len(keys_aside) == 1 and (keys_aside[0] / "bob.pem").exists()  # moved, never deleted
    if backend == "sqlite":
        assert any(Path(p).name.startswith("db.sqlite3.before-restore-") for p in aside)
    assert sorted(p.name for p in (tmp_path / "target" / "keys").iterdir()) == sorted(
        p.name for p in (tmp_path / "source" / "keys").iterdir()
    )


async def test_restore_is_refused_while_serve_runs_on_the_database(tmp_path: Path, database_url: str | None) -> None:
    source = _instance(tmp_path / "source", None, "alice")
    archive = tmp_path / "backup.tar.gz"
    cli(source, "backup", "create", str(archive))
    server = ServiceProcess(tmp_path / "running", database=database_url, server={"background": "process"})
    await server.start()
    try:
        if database_url is None:
            # The worker announces itself beside the database once its loops run.
            await wait_for(lambda: _running(server), what="the worker to run")
            expected = "stop it before restoring"
        else:
            expected = "stop serve and the workers before restoring"
        _one_line(server.cli("backup", "restore", "--force", str(archive), check=False), expected)
    finally:
        server.stop()


async def _running(server: ServiceProcess) -> bool:
    return "fediverse-a2 worker running" in server.log.read_text()


@only_postgresql
async def test_an_archive_of_another_engine_is_refused(tmp_path: Path, backend: str, database_url: str | None) -> None:
    source = _instance(tmp_path / "source", None, "alice")  # SQLite
    archive = tmp_path / "backup.tar.gz"
    cli(source, "backup", "create", str(archive))
    target = write_config(tmp_path / "target", ADDRESS, database=database_url)
    _one_line(
        cli(target, "backup", "restore", str(archive), check=False),
        "this backup holds a sqlite database, but storage.database names a PostgreSQL server",
    )
    db = await PostgresDatabase.open(database_url or "")
    try:
        assert await db.fetchval("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await db.close()


def test_an_archive_of_a_newer_schema_verifies_but_is_not_restored(tmp_path: Path) -> None:
    source = _instance(tmp_path / "source", None, "alice")
    conn = sqlite3.connect(tmp_path / "source" / "data" / "db.sqlite3")
    with conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'a later version', 0)", (LATEST + 1,))
    conn.close()
    archive = tmp_path / "backup.tar.gz"
    cli(source, "backup", "create", str(archive))
    target = write_config(tmp_path / "target", ADDRESS)
    verified = cli(target, "backup", "verify", str(archive))
    assert f"schema {LATEST + 1}" in verified.stdout and "newer than this version knows" in verified.stderr
    _one_line(cli(target, "backup", "restore", str(archive), check=False), f"the database has schema {LATEST + 1}")
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["config.toml"]


def test_create_refuses_to_overwrite_and_keeps_keys_private(tmp_path: Path) -> None:
    source = _instance(tmp_path / "source", None, "alice")
    archive = tmp_path / "backup.tar.gz"
    cli(source, "backup", "create", str(archive))
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds private keys
    before = archive.read_bytes()
    _one_line(cli(source, "backup", "create", str(archive), check=False), "exists; choose another file name")
    assert archive.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no work files left
