"""The database handle: one small interface over SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQL in this package is written once, with `?` placeholders and portable syntax
(`ON CONFLICT`, `RETURNING`); the PostgreSQL side rewrites placeholders to `$n`.
Rows support `row["column"]` on both backends.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

__all__ = ["Database", "Executor", "SqliteDatabase", "open_database"]

Row = Any  # sqlite3.Row or asyncpg.Record; both index by column name


class Executor(Protocol):
    """What a store module needs: run statements and read rows."""

    dialect: str

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any: ...


class Database(Executor, Protocol):
    """An Executor that can also open transactions and be closed."""

    def transaction(self) -> Any: ...  # async context manager yielding an Executor
    async def close(self) -> None: ...


class _SqliteExecutor:
    """Statements on one aiosqlite connection; the caller holds the connection lock."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class SqliteDatabase:
    """SQLite in WAL mode behind one connection, serialised by an asyncio lock.

    Writes from other processes (the CLI while `serve` runs) are fine: WAL lets readers
    and one writer work at once, and the busy timeout waits out a short write lock.
    """

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._exec = _SqliteExecutor(conn)

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating folders as needed) and configure the database file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn)

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            return await self._exec.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._lock:
            return await self._exec.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return await self._exec.fetchall(sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._lock:
            return await self._exec.fetchval(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteExecutor]:
        """Run a block in one IMMEDIATE transaction (taking the write lock up front
        avoids the deadlock of two readers upgrading to writers)."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._exec
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")


async def open_database(url_or_path: str, root: Path | None = None) -> Database:
    """Open the configured backend: a postgresql:// URL, or an SQLite file path."""
    from .migrations import migrate

    if url_or_path.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase

        db: Database = await PostgresDatabase.open(url_or_path)
    else:
        path = Path(url_or_path)
        if not path.is_absolute() and root is not None:
            path = root / path
        db = await SqliteDatabase.open(path)
    try:
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    return db
