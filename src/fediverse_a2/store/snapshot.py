"""Consistent copies of the database for backups, and putting one back.

SQLite: the online backup API copies the database page by page inside one read transaction,
so the copy is consistent while `serve` keeps writing (WAL lets it). PostgreSQL: `pg_dump`
(plain SQL, in one repeatable-read snapshot) and, to restore, `psql` running that SQL in one
transaction. The client tools come from the PostgreSQL installation; a missing one is a
one-line error that says what to install. The password of a postgresql:// URL is handed to
them in the environment, never on their command line (where `ps` would show it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import UserError
from .db import Database

__all__ = [
    "PgTools",
    "application_connections",
    "plain_dump_complete",
    "postgres_tables",
    "sqlite_check",
    "sqlite_checkpoint",
    "sqlite_schema",
    "sqlite_snapshot",
    "sqlite_tables",
]

_BUSY_MS = 30_000
_APPLICATION = "fediverse-a2"


def _connect(path: Path) -> sqlite3.Connection:
    """An existing database file, never created by opening it."""
    if not path.is_file():
        raise UserError(f"no SQLite database at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=_BUSY_MS / 1000)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open the SQLite database {path}: {exc}") from None
    return conn


def _schema(conn: sqlite3.Connection) -> int:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone():
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


def sqlite_snapshot(database: Path, target: Path) -> int:
    """Copy the live database `database` into the new file `target` (online backup API, one
    consistent read); the copy stands alone (no WAL). Returns its schema version."""
    source = _connect(database)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one point in time
            copy.execute("PRAGMA journal_mode=DELETE").close()
            return _schema(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise UserError(f"cannot copy the SQLite database {database}: {exc}") from None
    finally:
        source.close()


def sqlite_schema(path: Path) -> int:
    """The schema version of a database file (0 before the first migration)."""
    conn = _connect(path)
    try:
        return _schema(conn)
    finally:
        conn.close()


def sqlite_check(path: Path) -> str:
    """SQLite's own integrity check of a database file: "ok", or its first complaint."""
    conn = _connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def sqlite_checkpoint(path: Path) -> None:
    """Fold a database's write-ahead log into its file (before the file is moved)."""
    conn = _connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    except sqlite3.Error as exc:
        raise UserError(f"cannot checkpoint the SQLite database {path}: {exc}") from None
    finally:
        conn.close()


def sqlite_tables(path: Path) -> list[str]:
    """The tables of a database file (none for an empty file)."""
    conn = _connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path} is not an SQLite database: {exc}") from None
    finally:
        conn.close()


async def postgres_tables(db: Database) -> list[str]:
    """The tables of the `public` schema, where the service keeps its own."""
    rows = await db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [r["tablename"] for r in rows]


async def application_connections(db: Database) -> int:
    """Other connections of this service to the same database (a running serve or worker)."""
    return int(
        await db.fetchval(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = ?",
            (_APPLICATION,),
        )
    )


# Debian installs each major version's tools beside its server; the newest dumps them all.
VERSIONED_TOOLS = Path("/usr/lib/postgresql")


def _find(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    versions = sorted(VERSIONED_TOOLS.glob(f"*/bin/{tool}"), key=lambda p: _major(p.parts[-3]))
    return str(versions[-1]) if versions else None


def _major(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0][:300] if lines else "no reason given"


@dataclass(frozen=True)
class PgTools:
    """pg_dump and psql for one postgresql:// URL."""

    url: str

    def _command(self, tool: str) -> str:
        path = _find(tool)
        if path is None:
            raise UserError(
                f"{tool} is not installed: a PostgreSQL backup needs PostgreSQL's client tools of the server's "
                "version or newer (Debian: apt-get install postgresql-client)"
            )
        return path

    def _target(self) -> tuple[str, dict[str, str]]:
        """The URL without its password, and the environment that carries the password."""
        parts = urlsplit(self.url)
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": f"{_APPLICATION}-backup"}
        if parts.password is None:
            return self.url, env
        env["PGPASSWORD"] = unquote(parts.password)
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host)), env

    def dump(self, target: Path) -> None:
        """pg_dump the database as plain SQL (no owners or grants) into the new file `target`."""
        command = self._command("pg_dump")
        url, env = self._target()
        proc = subprocess.run(
            [command, "--format=plain", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={url}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise UserError(f"pg_dump failed: {_reason(proc.stderr)}")

    def restore(self, dump: Path, drop: Iterable[str] = ()) -> None:
        """Run a dump's SQL with psql in one transaction, after dropping the tables `drop` (in
        the same transaction: on any error nothing changes)."""
        command = self._command("psql")
        url, env = self._target()
        with subprocess.Popen(
            [command, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", f"--dbname={url}",
             "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        ) as proc:  # fmt: skip
            assert proc.stdin is not None and proc.stderr is not None
            try:
                for table in drop:
                    proc.stdin.write(f'DROP TABLE IF EXISTS public."{_identifier(table)}" CASCADE;\n'.encode())
                with dump.open("rb") as fh:
                    shutil.copyfileobj(fh, proc.stdin, 1024 * 1024)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # psql stopped at an error: its message follows
            errors = proc.stderr.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            raise UserError(f"restoring the PostgreSQL database failed (nothing was changed): {_reason(errors)}")


def _identifier(name: str) -> str:
    if not name or '"' in name or "\x00" in name:
        raise UserError(f"cannot drop a table named {name!r}")
    return name


def plain_dump_complete(path: Path) -> bool:
    """Whether a file is pg_dump's plain SQL, whole: its header and its closing line."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    return b"-- PostgreSQL database dump" in head and b"-- PostgreSQL database dump complete" in tail
