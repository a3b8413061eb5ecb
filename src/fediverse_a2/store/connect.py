"""Opening the configured database: SQLite by default, PostgreSQL for a postgresql:// URL.

Every way this can fail on a newcomer's machine ends in a ConfigError whose one line names
the config key, or what to install.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..config import ConfigError
from .db import Database, SqliteDatabase
from .members import reindex_directory_if_pending
from .migrations import migrate
from .postgres import PostgresDatabase

__all__ = ["open_database", "open_postgres"]

KEY = "storage.database"


def _sqlite_path(value: str, root: Path | None) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    folder = path.parent
    if not folder.is_dir():
        # The folder itself is made (a fresh checkout has no data/ yet), but not a whole
        # missing tree: that is a typo in the config far more often than an intent.
        if not folder.parent.is_dir():
            raise ConfigError(f"config key {KEY}: the folder {folder} does not exist")
        try:
            folder.mkdir()
        except OSError as exc:
            raise ConfigError(f"config key {KEY}: cannot create the folder {folder}: {exc.strerror}") from None
    return path


async def open_postgres(url: str) -> Database:
    """Connect to a PostgreSQL server without migrating (backups read it as it is); ConfigError in one line."""
    try:
        import asyncpg  # noqa: F401  (only to learn whether it is installed and importable)
    except ImportError:
        raise ConfigError(
            f"config key {KEY} names a PostgreSQL server, which needs asyncpg: pip install 'fediverse-a2[postgres]'"
        ) from None
    try:
        return await PostgresDatabase.open(url)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"config key {KEY}: cannot connect to the PostgreSQL server: {exc}") from None
    except Exception as exc:  # asyncpg's own errors (authentication, unknown database, ...)
        if type(exc).__module__.startswith("asyncpg"):
            raise ConfigError(f"config key {KEY}: the PostgreSQL server refused: {exc}") from None
        raise


async def open_database(url_or_path: str, root: Path | None = None) -> Database:
    """Open (and migrate) the configured backend: a postgresql:// URL, or an SQLite file path."""
    if url_or_path.startswith(("postgresql://", "postgres://")):
        db = await open_postgres(url_or_path)
    else:
        path = _sqlite_path(url_or_path, root)
        try:
            db = await SqliteDatabase.open(path)
        except sqlite3.Error as exc:
            raise ConfigError(f"config key {KEY}: cannot open the SQLite database {path}: {exc}") from None
    try:
        await migrate(db)
        async with db.transaction() as tx:
            # Members stored before the directory's search text existed (migration 16) get it once.
            await reindex_directory_if_pending(tx)
    except BaseException:
        await db.close()
        raise
    return db
