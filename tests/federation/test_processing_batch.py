"""The inbox worker's runs: many items in one transaction (federation/processing.py); an item whose
handler fails undoes the run, which is done again without it.

A hostile item in a run (a forgery, an id on another host, a Delete of another's comment) is
marked exactly as on its own and costs the others nothing; a run ends up row for row as the
same items processed one by one through the per-item path. Both backends.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from fediverse_a2.config import load_config
from fediverse_a2.federation.actors import ActorDirectory
from fediverse_a2.federation.processing import InboxWorker
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import actors as actor_store
from fediverse_a2.store import inbox as inbox_store
from fediverse_a2.store import tombstones
from fediverse_a2.store.actors import ActorRecord
from fediverse_a2.store.db import Executor
from helpers import write_config
from pg import DatabaseFactory

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
REMOTE = "https://remote.test"
A, B, C = (f"{REMOTE}/users/{n}" for n in "abc")


def _note(actor: str, serial: int, in_reply_to: str, **extra: Any) -> dict[str, Any]:
    note_id = f"{actor}/statuses/{serial}"
    return {
        "id": note_id,
        "type": "Note",
        "attributedTo": actor,
        "inReplyTo": in_reply_to,
        "content": f"<p>Reactie {serial} <script>alert(1)</script></p>",
        "published": "2026-11-28T10:00:00Z",
        "url": f"{REMOTE}/@{actor.rsplit('/', 1)[1]}/{serial}",
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
        **extra,
    }


def _create(actor: str, note: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": actor, "object": note, "to": [PUBLIC]}


def activities(post: str, member: str) -> list[dict[str, Any]]:
    """A mixed backlog, in order, with hostile items among the good ones."""
    reply_a = _note(A, 1, post)
    reply_b = _note(B, 2, reply_a["id"])
    like = {"id": f"{A}#likes/1", "type": "Like", "actor": A, "object": post}
    return [
        _create(A, reply_a),
        _create(B, reply_b),
        like,
        {"id": f"{B}/statuses/3/activity", "type": "Announce", "actor": B, "object": post, "to": [PUBLIC]},
        # Forged: signed by A, attributed to B.
        _create(A, _note(A, 4, post, attributedTo=B)),
        # The object lives on another host than its actor.
        {**_create(A, {**_note(A, 5, post), "id": "https://elsewhere.test/notes/5"}), "id": f"{A}/statuses/5/activity"},
        _create(C, _note(C, 6, post)),
        {
            "id": f"{A}/statuses/1#updates/1",
            "type": "Update",
            "actor": A,
            "object": {**reply_a, "content": "<p>Bewerkt</p>", "updated": "2026-11-28T11:00:00Z"},
        },
        # B deleting A's comment: refused.
        {"id": f"{B}#deletes/1", "type": "Delete", "actor": B, "object": reply_a["id"]},
        {"id": f"{A}#undo/1", "type": "Undo", "actor": A, "object": like},
        {"id": f"{B}#deletes/2", "type": "Delete", "actor": B, "object": {"id": reply_b["id"], "type": "Tombstone"}},
        # Too late: B deleted it already.
        {**_create(B, {**reply_b, "content": "<p>Weer terug</p>"}), "id": f"{B}/statuses/2/again"},
        {"id": f"{B}#follows/1", "type": "Follow", "actor": B, "object": member},
        _create(A, _note(A, 8, post)),
        # C deletes itself: its comment goes, and so does its actor row.
        {"id": f"{C}#delete", "type": "Delete", "actor": C, "object": C},
    ]


def _actor(uri: str) -> ActorRecord:
    name = uri.rsplit("/", 1)[1]
    return ActorRecord(
        uri=uri, domain="remote.test", type="Person", username=name, handle=f"{name}@remote.test", name=name.upper(),
        summary="", url=f"{REMOTE}/@{name}", icon=None, inbox=f"{uri}/inbox", shared_inbox=f"{REMOTE}/inbox",
        followers_url=f"{uri}/followers", fetched_at=time.time(),
    )  # fmt: skip


async def instance(folder: Path, database: str | None) -> tuple[Runtime, list[dict[str, Any]]]:
    """A member with a post, actors A, B and C stored, and the backlog stored as the inbox would."""
    rt = await Runtime.open(load_config(write_config(folder, "http://a2.test", database=database)))
    await add_member(rt, "alice", "Alice")
    post = await publish_post(rt, "alice", "Bericht", "Tekst.")
    for uri in (A, B, C):
        await actor_store.upsert(rt.db, _actor(uri), [])
    backlog = activities(post, rt.urls.actor("alice"))
    for doc in backlog:
        body = orjson.dumps(doc).decode()
        assert await inbox_store.add(rt.db, doc["id"], doc["actor"], "remote.test", body)
    return rt, backlog


TABLES = {
    "inbox_items": "activity_id, state, last_error, attempts, lease_owner, locked_until IS NULL AS unlocked",
    # Row ids are left out: a run that is undone and done again takes new ones on PostgreSQL (its
    # sequences do not roll back); the parent is compared by its ActivityPub id instead.
    "comments": "ap_id, url, post_id, (SELECT p.ap_id FROM comments p WHERE p.id = comments.parent_id), author_uri, "
    "content_html, summary, published, updated, state",
    "reactions": "activity_id, kind, actor_uri, post_id",
    "tombstones": "ap_id, actor_uri",
    "notifications": "member_id, kind, actor_uri, actor_name, object_url, activity_id",
    "followers": "member_id, actor_uri, inbox, shared_inbox, domain, follow_id",
    "deliveries": "inbox, state",
    "actors": "uri",
}


def _no_ids(value: Any) -> Any:
    """Links to a comment carry its row id (#comment-N): left out, as the ids are (see TABLES)."""
    return re.sub(r"#comment-\d+", "#comment-N", value) if isinstance(value, str) else value


async def rows(db: Executor) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, columns in TABLES.items():
        found = await db.fetchall(f"SELECT {columns} FROM {table}")
        out[table] = sorted((tuple(_no_ids(v) for v in r) for r in found), key=repr)
    return out


async def one_by_one(rt: Runtime) -> None:
    """The per-item path: each claimed item in a transaction of its own, as before runs existed."""
    worker = InboxWorker(rt, ActorDirectory(rt), batch=1)
    while items := await inbox_store.claim(rt.db, time.time(), 60, 1, str(worker.leases.owner)):
        await worker._process(items[0])


async def test_a_run_ends_up_as_the_items_one_by_one(tmp_path: Path, database_factory: DatabaseFactory) -> None:
    batched, backlog = await instance(tmp_path / "batched", await database_factory())
    single, _ = await instance(tmp_path / "single", await database_factory())
    try:
        worker = InboxWorker(batched, ActorDirectory(batched))
        alone: list[str] = []
        per_item = worker._process

        async def spied(item: inbox_store.InboxItem) -> None:
            alone.append(item.activity_id)
            await per_item(item)

        worker._process = spied  # type: ignore[method-assign]
        assert await worker.run_once() == len(backlog)
        assert alone == []  # nothing here needs the network: all of it went through runs
        assert await worker.run_once() == 0
        await one_by_one(single)
        got, want = await rows(batched.db), await rows(single.db)
        assert got == want
    finally:
        await batched.close()
        await single.close()
    states = {r[0]: (r[1], r[2]) for r in got["inbox_items"]}
    assert states[f"{A}/statuses/4/activity"] == ("failed", "attributedTo is not the signing actor")
    assert states[f"{A}/statuses/5/activity"] == ("failed", "object id is not on the actor's host")
    assert states[f"{B}#deletes/1"] == ("failed", "Delete of a comment by someone other than its author")
    assert sum(s == "done" for s, _ in states.values()) == len(backlog) - 3
    comments = {r[0]: r for r in got["comments"]}
    # A's two replies stay (one edited, its script gone); B's was deleted and stays deleted; C's went with C.
    assert set(comments) == {f"{A}/statuses/1", f"{A}/statuses/8"}
    assert "Bewerkt" in comments[f"{A}/statuses/1"][5] and "script" not in repr(got["comments"])
    assert got["reactions"] == [(f"{B}/statuses/3/activity", "announce", B, 1)]
    assert got["followers"][0][1] == B and got["deliveries"] == [(f"{B}/inbox", "pending")]
    assert (C,) not in got["actors"]


async def test_a_failing_item_rolls_back_alone(rt: Runtime) -> None:
    """A savepoint that raises undoes its own statements and after-commit callbacks only."""
    called: list[str] = []
    async with rt.db.transaction() as tx:
        async with tx.savepoint():
            await tombstones.add(tx, f"{A}/statuses/1", A)
            tx.after_commit(lambda: called.append("kept"))
        with pytest.raises(RuntimeError):
            async with tx.savepoint():
                await tombstones.add(tx, f"{A}/statuses/2", A)
                tx.after_commit(lambda: called.append("undone"))
                raise RuntimeError("hostile")
        # A statement the server refuses (PostgreSQL then aborts the transaction until the
        # savepoint is rolled back).
        with pytest.raises(Exception, match=r"(?i)unique"):
            async with tx.savepoint():
                await tx.execute(
                    "INSERT INTO tombstones (ap_id, actor_uri, deleted_at) VALUES (?, ?, ?)",
                    (f"{A}/statuses/1", A, 0.0),
                )
        async with tx.savepoint():
            await tombstones.add(tx, f"{A}/statuses/3", A)
    assert await tombstones.exists(rt.db, f"{A}/statuses/1", A)
    assert not await tombstones.exists(rt.db, f"{A}/statuses/2", A)
    assert await tombstones.exists(rt.db, f"{A}/statuses/3", A)
    assert called == ["kept"]


async def test_a_run_that_cannot_commit_is_redone_item_by_item(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a run's transaction fails as a whole (here its last statement), nothing of it is
    kept and each of its items is processed on its own instead; nothing is lost or doubled."""
    await add_member(rt, "alice", "Alice")
    post = await publish_post(rt, "alice", "Bericht", "Tekst.")
    await actor_store.upsert(rt.db, _actor(A), [])
    docs = [_create(A, _note(A, i, post)) for i in range(5)]
    docs.insert(2, _create(A, _note(A, 9, post, attributedTo=B)))
    for doc in docs:
        await inbox_store.add(rt.db, doc["id"], A, "remote.test", orjson.dumps(doc).decode())
    real = inbox_store.mark_done_many
    calls = 0

    async def fails_once(db: Executor, ids: list[int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk I/O error")
        await real(db, ids)

    monkeypatch.setattr(inbox_store, "mark_done_many", fails_once)
    worker = InboxWorker(rt, ActorDirectory(rt), run=4)
    assert await worker.run_once() == 6
    states = await rt.db.fetchall("SELECT activity_id, state, last_error FROM inbox_items ORDER BY id")
    assert [(r["state"], r["last_error"]) for r in states] == [("done", None)] * 2 + [
        ("failed", "attributedTo is not the signing actor")
    ] + [("done", None)] * 3
    assert await rt.db.fetchval("SELECT COUNT(*) FROM comments") == 5
    assert calls == 2  # the first run failed and was redone item by item; the second run committed
