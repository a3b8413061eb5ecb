"""Shared fixtures: a temporary instance folder, an opened Runtime, and the storage backends."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import pg
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from helpers import write_config
from pg import DatabaseFactory

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of PostgreSQL variants (`-m postgresql` runs only those)."""
    config.addinivalue_line("markers", "postgresql: runs against the PostgreSQL test server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on the PostgreSQL backend."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test; PostgreSQL needs FEDIVERSE_A2_TEST_POSTGRES."""
    name: str = request.param
    if name == "postgresql" and not pg.postgres_available():
        reason = f"{pg.ENV} is not set (source .ci/postgres.sh to start a test server)"
        if os.environ.get("CI") == "true":
            # CI must test both backends: a missing server is an error, not a skip.
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return name


@pytest.fixture
async def database_factory(backend: str) -> AsyncIterator[DatabaseFactory]:
    """Make fresh databases for this backend (None: each instance's own SQLite file); drops them after."""
    made: list[str] = []

    async def make() -> str | None:
        if backend == "sqlite":
            return None
        made.append(await pg.create_database())
        return made[-1]

    try:
        yield make
    finally:
        for url in made:
            await pg.drop_database(url)


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> str | None:
    """A fresh database URL on PostgreSQL, or None for the default SQLite file."""
    return await database_factory()


@pytest.fixture
async def rt(tmp_path: Path, database_url: str | None) -> AsyncIterator[Runtime]:
    """A Runtime on a fresh database in a temp folder (no server), on each backend."""
    runtime = await Runtime.open(load_config(write_config(tmp_path, "http://a2.test", database=database_url)))
    try:
        yield runtime
    finally:
        await runtime.close()
