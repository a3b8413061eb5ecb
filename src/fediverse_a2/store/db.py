"""The database handle: one typed interface over SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQL in this package is written once, with `?` placeholders and portable syntax
(`ON CONFLICT`, `RETURNING`); the PostgreSQL side rewrites placeholders to `$n`.
Rows (`row["column"]` on both backends) stay inside `store/`: every store function turns
them into frozen dataclasses or plain values before returning.

The three protocols are what the layers above may use: an `Executor` runs statements (a
`Database` outside any transaction, or a `Transaction`), a `Database` opens transactions,
a `Transaction` opens savepoints. Both backends implement all three.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, overload

import aiosqlite

__all__ = [
    "CommitHooks",
    "Database",
    "DatabaseUnavailable",
    "Dialect",
    "Executor",
    "Row",
    "SqliteDatabase",
    "Transaction",
    "TransactionLost",
]

Dialect = Literal["sqlite", "postgresql"]
_T = TypeVar("_T")


class Row(Protocol):
    """A result row (sqlite3.Row or asyncpg.Record): by position or by column name. Never leaves `store/`."""

    @overload
    def __getitem__(self, key: int | str, /) -> Any: ...
    @overload
    def __getitem__(self, key: slice, /) -> tuple[Any, ...]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...


class Executor(Protocol):
    """What a store module needs: run statements and read rows, in a transaction or not."""

    @property
    def dialect(self) -> Dialect:
        """Which SQL the backend speaks, for the few statements that differ."""
        ...

    @property
    def path(self) -> Path | None:
        """The SQLite database file; None on PostgreSQL."""
        ...

    @property
    def url(self) -> str | None:
        """The PostgreSQL server's URL (for a connection of its own, such as a LISTEN); None on SQLite."""
        ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    async def fetchval_each(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]: ...

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call `callback` once what this executor wrote is committed (never after a rollback).

        Outside a transaction statements commit as they run, so it is called at once; in a
        transaction, after its COMMIT; in a savepoint that rolls back, never.
        """
        ...


class Transaction(Executor, Protocol):
    """An Executor inside one transaction (`Database.transaction()`), which can nest savepoints."""

    def savepoint(self) -> AbstractAsyncContextManager[Transaction]:
        """A nested block that, on error, rolls back alone (its statements and after-commit
        callbacks) and re-raises; the transaction goes on. Raises TransactionLost instead when
        the savepoint cannot be rolled back or released (the transaction is then unusable)."""
        ...


class DatabaseUnavailable(Exception):
    """The database server cannot be reached now (restarting, down, connections cut): nothing was
    done, and the same call may work again in a moment. The web answers 503, the workers wait
    and try again; the PostgreSQL backend reconnects by itself once the server is back."""


class TransactionLost(Exception):
    """A savepoint could not be rolled back or released: the enclosing transaction is unusable."""


class CommitHooks:
    """The after-commit callbacks of one transaction, kept alike on both backends.

    A savepoint notes `len(committed)` and cuts back to it when it rolls back; the transaction
    sets `ended` when its block ends and runs `committed` only after a COMMIT.
    """

    def __init__(self) -> None:
        self.committed: list[Callable[[], object]] = []
        self.ended = False

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call `callback` once this transaction has committed (never if it rolls back).

        Used after its block ended, the transaction is over: it is called at once.
        """
        if self.ended:
            callback()
        else:
            self.committed.append(callback)


class Database(Executor, Protocol):
    """An Executor outside any transaction that can also open transactions and be closed."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction, committed when the block ends cleanly, rolled back when it raises."""
        ...

    async def close(self) -> None: ...


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _fetchone(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        row: Row | None = cursor.fetchone()
        return row
    finally:
        # Closing resets the statement: an INSERT ... RETURNING holds its write lock until then.
        cursor.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetchval(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    row = _fetchone(conn, sql, params)
    return None if row is None else row[0]


def _fetchval_each(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
    return [_fetchval(conn, sql, params) for params in rows]


def _executemany(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    conn.executemany(sql, rows).close()


def _in_transaction(conn: sqlite3.Connection, fn: Callable[..., _T], *args: Any) -> _T:
    """BEGIN IMMEDIATE, fn, COMMIT (ROLLBACK on error), all in one trip to the thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


class _SqliteThread:
    """aiosqlite's connection thread, for the statements that must wait for another
    process's write lock. Statements that need no waiting run on the event loop instead
    (see SqliteDatabase._run), sharing the same sqlite3 connection."""

    def __init__(self) -> None:
        self._aio: aiosqlite.Connection | None = None
        self.conn: sqlite3.Connection | None = None
        # aiosqlite's own queue-a-callable primitive (one trip to its thread per call): fn(*args)
        self._queue: Callable[..., Awaitable[Any]] | None = None

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run fn(connection, *args) on aiosqlite's thread."""
        assert self._queue is not None and self.conn is not None
        result: _T = await self._queue(fn, self.conn, *args)
        return result

    async def connect(self, path: str) -> None:
        # timeout=0: a statement on the event loop never waits for a lock (see _run).
        self._aio = await aiosqlite.connect(
            path, timeout=0, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        self._aio.row_factory = sqlite3.Row
        self.conn = self._aio._conn
        self._queue = self._aio._execute

    async def close(self) -> None:
        if self._aio is not None:
            await self._aio.close()
            self._aio = None


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
    return "locked" in str(exc) or "busy" in str(exc)


def _patiently(conn: sqlite3.Connection, fn: Callable[..., _T], *args: Any) -> _T:
    """fn on the thread, waiting up to the busy timeout for another process's write lock."""
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("PRAGMA busy_timeout=0")


class _SqliteTransaction(CommitHooks):
    """Statements of one transaction on the connection; the caller holds the connection lock.

    A statement first runs right here, on the event loop, without waiting for locks: a
    point query takes microseconds, less than a trip to a thread and back. Only when
    another process holds the write lock (SQLITE_BUSY) does it go to the connection's
    thread, which waits there up to the busy timeout, so the event loop never blocks on it.
    BEGIN IMMEDIATE is sent with the first statement.
    """

    dialect: Dialect = "sqlite"
    url = None

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__()
        self._db = db
        self.begin_pending = True
        self.began = False
        self.savepoints = 0

    @property
    def path(self) -> Path:
        """The database file."""
        return self._db.path

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[_SqliteTransaction]:
        """A nested block that, on error, rolls back alone (its statements and its after-commit
        callbacks) and re-raises; the transaction goes on. Raises TransactionLost instead when
        the transaction itself is gone (SQLite rolls it all back on a few errors)."""
        name = f"sp{self.savepoints}"
        self.savepoints += 1
        await self.execute(f"SAVEPOINT {name}")
        callbacks = len(self.committed)
        try:
            yield self
        except BaseException:
            del self.committed[callbacks:]
            conn = self._db._conn
            if not conn.in_transaction:
                raise TransactionLost("the transaction was rolled back by an error in a savepoint") from None
            try:
                _execute(conn, f"ROLLBACK TO {name}", ())
                _execute(conn, f"RELEASE {name}", ())
            except sqlite3.Error as exc:
                raise TransactionLost(f"savepoint rollback failed: {exc}") from exc
            raise
        else:
            try:
                await self.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:
                raise TransactionLost(f"savepoint release failed: {exc}") from exc
        finally:
            self.savepoints -= 1

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self.begin_pending:
            self.begin_pending = False
            await self._db._run(_execute, "BEGIN IMMEDIATE", ())
            self.began = True
        return await self._db._run(fn, *args)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._call(_execute, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._call(_executemany, sql, list(rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._call(_fetchone, sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._call(_fetchall, sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._call(_fetchval, sql, params)

    async def fetchval_each(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        return await self._call(_fetchval_each, sql, list(rows))


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class SqliteDatabase:
    """SQLite in WAL mode behind one connection, serialised by an asyncio lock.

    Writes from other processes (the CLI while `serve` runs) are fine: WAL lets readers
    and one writer work at once, and a statement that meets another process's write lock
    waits for it (up to the busy timeout) on the connection's thread.
    """

    dialect: Dialect = "sqlite"
    url = None

    def __init__(self, thread: _SqliteThread, path: Path) -> None:
        assert thread.conn is not None
        self._thread = thread
        self._conn = thread.conn
        self._lock = asyncio.Lock()
        self.path = path

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Statements on the database itself commit as they run: call `callback` at once."""
        callback()

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            return fn(self._conn, *args)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        # Nothing was changed by the refused attempt (a failed transaction was rolled back).
        return await self._thread.call(_patiently, fn, *args)

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open and configure the database file (its folder must exist)."""
        thread = _SqliteThread()
        try:
            await thread.connect(str(path))
            await thread.call(_patiently, _configure)
        except BaseException:
            await thread.close()
            raise
        return cls(thread, path)

    async def close(self) -> None:
        """Close the connection and end its thread."""
        await self._thread.close()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            return await self._run(_execute, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        async with self._lock:
            await self._run(_in_transaction, _executemany, sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._lock:
            return await self._run(_fetchone, sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return await self._run(_fetchall, sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._lock:
            return await self._run(_fetchval, sql, params)

    async def fetchval_each(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The first value of each row's result, all in one transaction."""
        rows = list(rows)
        async with self._lock:
            return await self._run(_in_transaction, _fetchval_each, sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTransaction]:
        """Run a block in one IMMEDIATE transaction (taking the write lock up front
        avoids the deadlock of two readers upgrading to writers)."""
        async with self._lock:
            tx = _SqliteTransaction(self)
            try:
                yield tx
            except BaseException:
                if tx.began:
                    _rollback(self._conn)
                raise
            else:
                if tx.began:
                    await self._run(_execute, "COMMIT", ())
            finally:
                tx.ended = True
            for callback in tx.committed:
                callback()


BUSY_TIMEOUT_MS = 10_000
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def _configure(conn: sqlite3.Connection) -> None:
    for pragma in _PRAGMAS:
        conn.execute(pragma).close()
