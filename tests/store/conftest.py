"""Fixtures of the store tests: a migrated, empty database on the backend under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database


@pytest.fixture
async def db(database_url: str | None, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on the backend under test."""
    # The PostgreSQL URL, or an SQLite file in the test's folder.
    database = await open_database(database_url or str(tmp_path / "db.sqlite3"))
    try:
        yield database
    finally:
        await database.close()
