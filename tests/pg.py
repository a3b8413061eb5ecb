"""PostgreSQL for tests: a fresh database per test on the server named by FEDIVERSE_A2_TEST_POSTGRES.

`.ci/postgres.sh` starts such a server and sets the variable; without it the PostgreSQL
variants of the tests skip (or fail, under CI=true).
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

ENV = "FEDIVERSE_A2_TEST_POSTGRES"

__all__ = ["ENV", "DatabaseFactory", "create_database", "drop_database", "postgres_available", "server_url"]

# The `database_factory` fixture: each call gives a fresh database URL (None on SQLite).
DatabaseFactory = Callable[[], Awaitable[str | None]]


def server_url() -> str | None:
    """The admin URL of the test server (its `postgres` database), or None."""
    return os.environ.get(ENV) or None


def postgres_available() -> bool:
    """Whether PostgreSQL tests can run: a server is named and asyncpg is installed."""
    return server_url() is not None and importlib.util.find_spec("asyncpg") is not None


def _with_database(url: str, name: str) -> str:
    """The same server URL, naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    # Only names we made ourselves are ever dropped (and they are safe to quote).
    if not name.startswith("a2_") or not name[3:].isalnum():
        raise ValueError(f"not a test database: {url}")
    return name


async def _admin(statement: str) -> None:
    """Run one statement on the admin database (CREATE/DROP DATABASE cannot run in a transaction)."""
    import asyncpg

    url = server_url()
    if url is None:
        raise RuntimeError(f"{ENV} is not set")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database() -> str:
    """Create an empty database with a unique name; returns its URL."""
    name = f"a2_{uuid.uuid4().hex}"
    await _admin(f'CREATE DATABASE "{name}"')
    return _with_database(server_url() or "", name)


async def drop_database(url: str) -> None:
    """Drop a database made by create_database, cutting any connection a killed process left."""
    await _admin(f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)')
