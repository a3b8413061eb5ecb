"""The Database / Transaction protocol on both backends: transactions, savepoints, after-commit hooks."""

from __future__ import annotations

import pytest

from fediverse_a2.store import meta
from fediverse_a2.store.db import Database


class Boom(Exception):
    pass


async def test_after_commit_runs_once_the_transaction_has_committed(db: Database) -> None:
    seen: list[str | None] = []
    async with db.transaction() as tx:
        await meta.put(tx, "k", "v")
        # Called after COMMIT: another connection (the database itself) already sees the value.
        tx.after_commit(lambda: seen.append("called"))
        assert seen == []
    assert seen == ["called"]
    assert await meta.get(db, "k") == "v"


async def test_after_commit_never_runs_for_a_rollback(db: Database) -> None:
    seen: list[str] = []
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await meta.put(tx, "k", "v")
            tx.after_commit(lambda: seen.append("called"))
            raise Boom
    assert seen == []
    assert await meta.get(db, "k") is None


async def test_after_commit_outside_a_transaction_runs_at_once(db: Database) -> None:
    seen: list[str] = []
    db.after_commit(lambda: seen.append("now"))
    assert seen == ["now"]


async def test_a_savepoint_that_raises_undoes_its_own_work_and_hooks_only(db: Database) -> None:
    seen: list[str] = []
    async with db.transaction() as tx:
        async with tx.savepoint() as sp:
            await meta.put(sp, "kept", "1")
            sp.after_commit(lambda: seen.append("kept"))
        with pytest.raises(Boom):
            async with tx.savepoint() as sp:
                await meta.put(sp, "undone", "1")
                sp.after_commit(lambda: seen.append("undone"))
                async with sp.savepoint() as inner:
                    inner.after_commit(lambda: seen.append("inner"))
                raise Boom
        await meta.put(tx, "after", "1")
    assert seen == ["kept"]
    assert await meta.get(db, "kept") == "1"
    assert await meta.get(db, "undone") is None
    assert await meta.get(db, "after") == "1"


async def test_a_statement_refused_in_a_savepoint_leaves_the_transaction_usable(db: Database) -> None:
    async with db.transaction() as tx:
        await meta.put(tx, "k", "1")
        with pytest.raises(Exception, match=r"(?i)unique"):
            async with tx.savepoint():
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k", "2"))
        await meta.put(tx, "other", "3")
    assert await meta.get(db, "k") == "1"
    assert await meta.get(db, "other") == "3"


async def test_the_backend_says_where_it_lives(db: Database, database_url: str | None) -> None:
    """A file on SQLite, a server URL on PostgreSQL: what a wake-up or a LISTEN needs."""
    async with db.transaction() as tx:
        where = (tx.path, tx.url, tx.dialect)
    if database_url is None:
        assert db.dialect == "sqlite" and db.path is not None and db.path.exists() and db.url is None
        assert where == (db.path, None, "sqlite")
    else:
        assert db.dialect == "postgresql" and db.path is None and db.url == database_url
        assert where == (None, database_url, "postgresql")
