"""A database newer than the code: every command and `serve` refuse it with one line, never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from fediverse_a2.store.migrations import LATEST
from helpers import cli, free_port, write_config


def _from_the_future(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8000")
    cli(config, "member", "add", "alice", "--name", "Alice")  # creates and migrates the database
    conn = sqlite3.connect(tmp_path / "a2" / "data" / "db.sqlite3")
    with conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'a later version', 0)", (LATEST + 1,)
        )
    conn.close()
    return config


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_command_refuses_a_newer_database_in_one_line(tmp_path: Path) -> None:
    config = _from_the_future(tmp_path)
    proc = cli(config, "member", "list", check=False)
    assert proc.returncode == 1
    assert _one_line(proc.stderr) == (
        f"fediverse-a2: the database has schema {LATEST + 1}, newer than this version of fediverse-a2 knows "
        f"({LATEST}): run the newer version, or restore a backup made before the upgrade"
    )


def test_serve_refuses_a_newer_database_in_one_line(tmp_path: Path) -> None:
    config = _from_the_future(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert _one_line(proc.stderr).startswith(f"fediverse-a2: the database has schema {LATEST + 1}, newer than")
