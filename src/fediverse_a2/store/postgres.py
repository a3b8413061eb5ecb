"""The PostgreSQL backend: the same Database, Transaction and Executor protocols as SQLite, on an asyncpg pool.

SQL is written with `?` placeholders for both backends; they become `$1, $2, …` here.
Queues are claimed with `FOR UPDATE SKIP LOCKED`, so several processes can work at once.

When the server goes away (a restart, a failover, its connections cut), every call fails at
once with `DatabaseUnavailable` instead of hanging: connecting and waiting for a pooled
connection are bounded (CONNECT_TIMEOUT, ACQUIRE_TIMEOUT), and the errors of a lost
connection are translated. The pool drops a closed connection and opens a new one on its
next use, so once the server is back the next call simply works: no restart of the process.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

from .db import CommitHooks, DatabaseUnavailable, Dialect, Row, TransactionLost

__all__ = ["PostgresDatabase", "to_dollar"]

# String literals, quoted identifiers and comments are copied as they are: a `?` in them
# is not a placeholder.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.DOTALL)
_CLOSE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0  # seconds to open a connection (asyncpg's default is 60)
ACQUIRE_TIMEOUT = 10.0  # seconds to wait for a free pooled connection

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _connection_errors() -> tuple[type[BaseException], ...]:
    """What a lost or unreachable server raises: refused or reset sockets, timeouts, connection
    class 08, the server shutting down or starting up (57P01-57P03), a connection already closed."""
    import asyncpg

    exceptions = asyncpg.exceptions
    return (
        OSError,
        TimeoutError,
        exceptions.PostgresConnectionError,
        exceptions.AdminShutdownError,
        exceptions.CrashShutdownError,
        exceptions.CannotConnectNowError,
        exceptions.ConnectionDoesNotExistError,
    )


@lru_cache(maxsize=1)
def _client_state_errors() -> tuple[type[BaseException], ...]:
    """What asyncpg raises when the connection in use was lost meanwhile ("released back to the
    pool", "another operation is in progress"); also what a misuse raises, so these count as a
    lost server only when the connection is indeed gone (`_gone`)."""
    import asyncpg

    return (asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError)


def _gone(conn: Any) -> bool:
    """Whether a pooled connection was lost: closed, or detached from its proxy by the pool when it
    closed (asyncpg releases a connection that closes while in use; `_con` is then None)."""
    raw = getattr(conn, "_con", conn)
    return raw is None or bool(raw.is_closed())


@contextmanager
def _translated(conn: Any = None) -> Iterator[None]:
    """Errors of a lost or unreachable server (or of the lost connection `conn`) become
    DatabaseUnavailable; all others pass as they are."""
    try:
        yield
    except Exception as exc:
        lost = isinstance(exc, _connection_errors()) or (
            conn is not None and isinstance(exc, _client_state_errors()) and _gone(conn)
        )
        if lost:
            raise DatabaseUnavailable(f"PostgreSQL unavailable: {str(exc) or type(exc).__name__}") from exc
        raise


@lru_cache(maxsize=1024)
def to_dollar(sql: str) -> str:
    """Rewrite `?` placeholders (outside literals, quoted names and comments) to PostgreSQL's `$n`."""
    counter = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    return _TOKEN.sub(replace, sql)


async def _keep_session(conn: Any) -> None:
    """The pool's reset on release, instead of asyncpg's default reset query.

    That query (advisory unlock, CLOSE ALL, UNLISTEN *, RESET ALL) is one more round trip
    at every release: after each statement outside a transaction and after each transaction,
    one statement in ten that the server saw in the ingest benchmark (bench/bench_scale.py).
    Nothing here leaves session state on a pooled connection (no SET, cursor, LISTEN or
    session advisory lock: LISTEN has a connection of its own, locks are per transaction),
    and asyncpg still rolls back an open transaction before calling this.
    """


def _rowcount(status: str) -> int:
    """asyncpg returns a status like 'UPDATE 3' or 'INSERT 0 1'; the last number is the count."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class _PgExecutor:
    """Statements on one asyncpg connection, each committed as it runs (a pooled connection)."""

    dialect: Dialect = "postgresql"
    path = None

    def __init__(self, conn: Any, url: str) -> None:
        self._conn = conn
        self.url = url

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Outside a transaction a statement commits as it runs: call `callback` at once."""
        callback()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with _translated(self._conn):
            return _rowcount(await self._conn.execute(to_dollar(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with _translated(self._conn):
                await self._conn.executemany(to_dollar(sql), rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with _translated(self._conn):
            row: Row | None = await self._conn.fetchrow(to_dollar(sql), *params)
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _translated(self._conn):
            return list(await self._conn.fetch(to_dollar(sql), *params))

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with _translated(self._conn):
            return await self._conn.fetchval(to_dollar(sql), *params)

    async def fetchval_each(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The first value of `sql` (a statement with one result column) for each row, in order.

        The statements go in one pipeline (asyncpg's fetchmany: one network round trip, not
        one per row). fetchmany returns the rows of all results as one list, so each
        statement is wrapped to give exactly one row (NULL when it gives none, e.g. an
        INSERT … ON CONFLICT DO NOTHING RETURNING id that met a conflict). A data-modifying
        statement in WITH runs once, in full, whether or not the outer query reads it all.
        """
        if not rows:
            return []
        statement = f"WITH each_row AS ({to_dollar(sql)}) SELECT (SELECT * FROM each_row LIMIT 1)"
        with _translated(self._conn):
            return [record[0] for record in await self._conn.fetchmany(statement, rows)]


class _PgTransaction(CommitHooks, _PgExecutor):
    """Statements of one transaction on its connection; savepoints nest in it."""

    def __init__(self, conn: Any, url: str) -> None:
        CommitHooks.__init__(self)
        _PgExecutor.__init__(self, conn, url)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[_PgTransaction]:
        """A nested block that, on error, rolls back alone (its statements and its after-commit
        callbacks) and re-raises; the transaction goes on (asyncpg's nested transaction is a
        SAVEPOINT). TransactionLost when the savepoint cannot be rolled back or released (the
        enclosing transaction is then unusable)."""
        savepoint = self._conn.transaction()
        with _translated(self._conn):
            await savepoint.start()
        callbacks = len(self.committed)
        try:
            yield self
        except BaseException:
            del self.committed[callbacks:]
            try:
                await savepoint.rollback()
            except Exception as exc:
                if _gone(self._conn):
                    raise DatabaseUnavailable(f"PostgreSQL unavailable: {exc}") from exc
                raise TransactionLost(f"savepoint rollback failed: {exc}") from exc
            raise
        else:
            try:
                await savepoint.commit()
            except Exception as exc:
                raise TransactionLost(f"savepoint release failed: {exc}") from exc


class PostgresDatabase:
    """A pool of connections; plain calls take any free connection, transactions keep one."""

    dialect: Dialect = "postgresql"
    path = None

    def __init__(self, pool: Any, url: str = "") -> None:
        self._pool = pool
        self.url = url  # for connections of their own, such as a LISTEN (work/wakeups.py)

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Statements on the database itself commit as they run: call `callback` at once."""
        callback()

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect a pool to the server named by a postgresql:// URL."""
        try:
            import asyncpg
        except ImportError:  # pragma: no cover - depends on the install
            raise RuntimeError("PostgreSQL needs asyncpg: pip install 'fediverse-a2[postgres]'") from None
        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=10,
            timeout=CONNECT_TIMEOUT,
            # JIT compilation costs more than it saves on these small OLTP queries.
            server_settings={"application_name": "fediverse-a2", "jit": "off"},
            reset=_keep_session,
        )
        return cls(pool, url)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A pooled connection (a new one when the pooled one was lost); DatabaseUnavailable when
        none can be had in time. A connection that broke meanwhile is dropped by the pool."""
        with _translated():
            conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT)
        try:
            yield conn
        finally:
            try:
                await self._pool.release(conn)
            except Exception as exc:  # a connection that died with the server: the pool lets it go
                if not (isinstance(exc, _connection_errors()) or _gone(conn)):
                    raise
                log.debug("releasing a lost connection: %s", exc)

    async def close(self) -> None:
        """Close every connection of the pool; a connection still busy after a grace period is cut."""
        try:
            await asyncio.wait_for(self._pool.close(), _CLOSE_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._connection() as conn:
            return await _PgExecutor(conn, self.url).execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._connection() as conn:
            return await _PgExecutor(conn, self.url).fetchone(sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection() as conn:
            return await _PgExecutor(conn, self.url).fetchall(sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._connection() as conn:
            return await _PgExecutor(conn, self.url).fetchval(sql, params)

    async def fetchval_each(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The first value of each row's result, all in one transaction."""
        async with self.transaction() as tx:
            return await tx.fetchval_each(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PgTransaction]:
        """One connection, one transaction, committed when the block ends cleanly; then the
        after-commit callbacks run (once the connection is back in the pool)."""
        async with self._connection() as conn:
            tx = _PgTransaction(conn, self.url)
            transaction = conn.transaction()
            try:
                with _translated(conn):
                    await transaction.start()
                try:
                    yield tx
                except BaseException:
                    if not _gone(conn):
                        try:
                            await transaction.rollback()
                        except Exception as exc:  # the server went away meanwhile: nothing to undo there
                            if not (isinstance(exc, _connection_errors()) or _gone(conn)):
                                raise
                    raise
                with _translated(conn):
                    await transaction.commit()
            finally:
                tx.ended = True
        for callback in tx.committed:
            callback()
