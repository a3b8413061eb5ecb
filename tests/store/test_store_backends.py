"""The store modules on both backends: the same calls must give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.policy import DomainRule, Policy
from fediverse_a2.store import activities, actors, comments, deliveries, follows, inbox, members, meta, posts
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database
from fediverse_a2.store.migrations import MIGRATIONS, migrate, schema_version
from fediverse_a2.store.postgres import to_dollar

NOW = 1_800_000_000.0
OWNER = "test-host|boot|1|1"  # a lease owner (leases.LeaseOwner as text)
LATEST = max(version for version, _, _ in MIGRATIONS)
TABLES = [
    "meta",
    "members",
    "posts",
    "actors",
    "actor_keys",
    "followers",
    "following",
    "comments",
    "tombstones",
    "reactions",
    "remote_posts",
    "inbox_items",
    "activities",
    "deliveries",
    "domain_failures",
    "domain_status",
    "peer_hosts",
    "domain_rules",
    "blocked_actors",
    "reports",
    "subscriptions",
]
OPEN = Policy("open", ())
URLS = Urls("https://a2.test")
only_postgresql = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _target(database_url: str | None, tmp_path: Path) -> str:
    """What open_database gets: the PostgreSQL URL, or an SQLite file in the test's folder."""
    return database_url or str(tmp_path / "db.sqlite3")


async def _member(db: Database, username: str = "alice") -> int:
    return (await members.create(db, username, username.title(), "", "PEM")).id


async def _activity(db: Database, member_id: int, n: int = 1) -> int:
    return await activities.add(db, f"https://a2.test/activities/{n}", member_id, "Create", None, "{}")


async def _pending(db: Database, count: int) -> int:
    """Queue `count` deliveries of one activity; returns the activity id."""
    activity_id = await _activity(db, await _member(db))
    targets = [(f"https://r{i}.test/inbox", f"r{i}.test", None) for i in range(count)]
    await deliveries.enqueue(db, activity_id, targets, NOW)
    return activity_id


# -- placeholders ----------------------------------------------------------------------


def test_placeholders_are_rewritten_outside_literals_names_and_comments() -> None:
    sql = "SELECT ?, '?', 'it''s ?', \"a?\" FROM t -- why?\nWHERE a = ? /* ? */ AND b IN (?, ?)"
    assert to_dollar(sql) == "SELECT $1, '?', 'it''s ?', \"a?\" FROM t -- why?\nWHERE a = $2 /* ? */ AND b IN ($3, $4)"


# -- migrations ------------------------------------------------------------------------


async def test_migrations_apply_from_scratch_and_again(database_url: str | None, tmp_path: Path) -> None:
    db = await open_database(_target(database_url, tmp_path))
    try:
        assert await schema_version(db) == LATEST
        assert await migrate(db) == LATEST  # a second run changes nothing
        assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(MIGRATIONS)
        for table in TABLES:
            assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table
    finally:
        await db.close()
    db = await open_database(_target(database_url, tmp_path))  # reopening migrates again: a no-op
    try:
        assert await schema_version(db) == LATEST
        assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        await db.close()


async def test_concurrent_migrations_apply_each_step_once(database_url: str | None, tmp_path: Path) -> None:
    # Two processes starting at once: the advisory lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises them.
    opened = await asyncio.gather(*(open_database(_target(database_url, tmp_path)) for _ in range(3)))
    try:
        for db in opened:
            assert await schema_version(db) == LATEST
        assert await opened[0].fetchval("SELECT COUNT(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        for db in opened:
            await db.close()


# -- members, posts, comments ------------------------------------------------------------


async def test_members_round_trip(db: Database) -> None:
    alice = await members.create(db, "alice", "Alice", "Hoi", "PEM")
    bob = await members.create(db, "bob", "Bob", "", "PEM2")
    assert isinstance(alice.id, int) and isinstance(alice.created_at, float)
    assert await members.by_username(db, "alice") == alice
    assert await members.by_id(db, bob.id) == bob
    assert await members.by_username(db, "nobody") is None
    assert await members.count(db) == 2
    assert [m.username for m in await members.list_all(db)] == ["alice", "bob"]


async def test_posts_round_trip(db: Database) -> None:
    alice = await _member(db)
    first = await posts.create(db, alice, "Een", "*een*", "<p>een</p>", published=NOW)
    second = await posts.create(db, alice, "Twee", "twee", "<p>twee</p>", published=int(NOW) + 60)
    post = await posts.by_id(db, first)
    assert post is not None
    assert (post.title, post.username, post.author_name, post.published) == ("Een", "alice", "Alice", NOW)
    assert (post.views, post.likes, post.boosts, post.updated, post.deleted_at) == (0, 0, 0, None, None)
    assert [p.id for p in await posts.recent(db, 10)] == [second, first]
    assert [p.id for p in await posts.recent(db, 1, offset=1, member_id=alice)] == [first]
    updated = await posts.update(db, first, "Een!", "x", "<p>x</p>")
    await posts.increment_views(db, first)
    await posts.increment_views(db, first)
    post = await posts.by_id(db, first)
    assert post is not None and (post.title, post.updated, post.views) == ("Een!", updated, 2)
    await posts.mark_deleted(db, second)
    assert await posts.count_live(db) == 1 and await posts.count_live(db, alice) == 1
    assert [p.id for p in await posts.recent(db, 10)] == [first]


async def _comment(db: Database, post_id: int, n: int, parent: int | None = None, domain: str = "r.test") -> int | None:
    return await comments.add(
        db,
        ap_id=f"https://{domain}/notes/{n}",
        url=None,
        post_id=post_id,
        parent_id=parent,
        author_uri=f"https://{domain}/users/u",
        member_id=None,
        domain=domain,
        content_html=f"<p>{n}</p>",
        summary=None,
        published=NOW + n,
    )


async def test_comments_round_trip(db: Database) -> None:
    post_id = await posts.create(db, await _member(db), "T", "b", "<p>b</p>", published=NOW)
    top = await _comment(db, post_id, 1)
    assert isinstance(top, int)
    assert await _comment(db, post_id, 1) is None  # the same ap_id again: deduplicated
    reply = await _comment(db, post_id, 2, parent=top)
    other = await _comment(db, post_id, 3, domain="blocked.test")
    assert [c.id for c in await comments.list_for_post(db, post_id, OPEN, URLS)] == [top, reply, other]
    blocking = Policy("open", [DomainRule(domain="blocked.test", kind="block")])
    assert await comments.count_visible(db, post_id, blocking) == 2
    assert await comments.ids_for_post(db, post_id, blocking, 10, 0) == [
        "https://r.test/notes/1",
        "https://r.test/notes/2",
    ]
    await db.execute(
        "INSERT INTO blocked_actors (actor_uri, created_at) VALUES (?, ?)", ("https://r.test/users/u", NOW)
    )
    assert await comments.count_visible(db, post_id, OPEN) == 1
    await db.execute("DELETE FROM blocked_actors")
    await comments.update_content(db, top, "<p>nieuw</p>", "cw", NOW + 9)
    comment = await comments.by_id(db, top, URLS)
    assert comment is not None
    assert (comment.content_html, comment.summary, comment.updated) == ("<p>nieuw</p>", "cw", NOW + 9)
    await comments.delete(db, top)  # its reply moves up to the top level
    row = await comments.by_ap_id(db, "https://r.test/notes/2")
    assert row is not None and row.parent_id is None and row.post_id == post_id


# -- follows -----------------------------------------------------------------------------


async def test_follows_round_trip(db: Database) -> None:
    alice = await _member(db)
    await follows.add_follower(db, alice, "https://r.test/users/a", "https://r.test/a/inbox", None, "r.test", "f1")
    await follows.add_follower(db, alice, "https://r.test/users/b", "https://r.test/b/inbox", None, "r.test", "f2")
    # A second Follow refreshes the row instead of adding one.
    await follows.add_follower(
        db, alice, "https://r.test/users/a", "https://r.test/a/inbox2", "https://r.test/inbox", "r.test", "f3"
    )
    assert await follows.count_followers(db, alice) == 2
    assert await follows.follower_page(db, alice, 1, 1) == ["https://r.test/users/b"]
    row = await db.fetchone(
        "SELECT inbox, shared_inbox, follow_id FROM followers WHERE actor_uri = ?", ("https://r.test/users/a",)
    )
    assert row is not None and tuple(row) == ("https://r.test/a/inbox2", "https://r.test/inbox", "f3")
    assert await follows.remove_follower(db, alice, "https://r.test/users/b") == 1
    assert await follows.remove_actor(db, "https://r.test/users/a") == 1
    assert await follows.count_followers(db, alice) == 0

    await follows.add_following(db, alice, "https://s.test/users/c", "https://a2.test/follows/1")
    assert await follows.is_following(db, "https://s.test/users/c") is True
    assert await follows.count_following(db, alice) == 0  # pending until Accept
    row = await follows.following_by_follow_id(db, "https://a2.test/follows/1")
    assert row is not None and (row.member_id, row.actor_uri, row.state) == (alice, "https://s.test/users/c", "pending")
    await follows.set_following_state(db, row.id, "accepted")
    assert await follows.count_following(db, alice) == 1
    assert await follows.following_page(db, alice, 10, 0) == ["https://s.test/users/c"]
    removed = await follows.remove_following(db, alice, "https://s.test/users/c")
    assert removed is not None and removed.follow_id == "https://a2.test/follows/1" and removed.state == "accepted"
    assert await follows.remove_following(db, alice, "https://s.test/users/c") is None
    assert await follows.is_following(db, "https://s.test/users/c") is False


# -- deliveries --------------------------------------------------------------------------


async def test_enqueue_followers_groups_shared_inboxes(db: Database) -> None:
    alice = await _member(db)
    for i in range(3):  # three followers behind one shared inbox
        await follows.add_follower(
            db,
            alice,
            f"https://big.test/users/{i}",
            f"https://big.test/users/{i}/inbox",
            "https://big.test/inbox",
            "big.test",
            None,
        )
    await follows.add_follower(
        db, alice, "https://one.test/users/x", "https://one.test/x/inbox", None, "one.test", None
    )
    activity_id = await _activity(db, alice)
    assert await deliveries.enqueue_followers(db, activity_id, alice, NOW) == 2
    assert await deliveries.enqueue_followers(db, activity_id, alice, NOW) == 0  # queued once only
    rows = await db.fetchall("SELECT inbox, domain, recipient_uri, state, attempts FROM deliveries ORDER BY inbox")
    assert [tuple(r) for r in rows] == [
        ("https://big.test/inbox", "big.test", None, "pending", 0),  # a shared inbox names no one recipient
        ("https://one.test/x/inbox", "one.test", "https://one.test/users/x", "pending", 0),
    ]


async def test_enqueue_claim_record_summary(db: Database) -> None:
    activity_id = await _pending(db, 3)
    await deliveries.enqueue(db, activity_id, [("https://r0.test/inbox", "r0.test", None)], NOW)  # duplicate
    await deliveries.enqueue(db, activity_id, [], NOW)
    claimed = await deliveries.claim(db, NOW, 30, 10, OWNER)
    assert sorted(c.inbox for c in claimed) == [f"https://r{i}.test/inbox" for i in range(3)]
    assert all(isinstance(c.id, int) and c.attempts == 0 for c in claimed)
    sent, retry, gone = claimed
    await deliveries.record(
        db,
        [
            deliveries.Result(sent.id, "sent", 1, NOW, 202, None),
            deliveries.Result(retry.id, "pending", 1, NOW + 100, 503, "HTTP 503"),
            deliveries.Result(gone.id, "gone", 1, NOW, 410, "HTTP 410"),
        ],
        NOW,
    )
    summary = await deliveries.summary(db)
    assert summary == {"gone": 1, "pending": 1, "sent": 1}
    assert all(isinstance(n, int) for n in summary.values())
    failed = await deliveries.failures(db)
    assert {d.id for d in failed} == {retry.id, gone.id}
    assert {(d.state, d.last_status, d.type) for d in failed} == {("pending", 503, "Create"), ("gone", 410, "Create")}
    assert await deliveries.claim(db, NOW + 99, 30, 10, OWNER) == []  # the retry is not due yet
    assert [c.id for c in await deliveries.claim(db, NOW + 100, 30, 10, OWNER)] == [retry.id]
    with pytest.raises(ValueError):
        await deliveries.record(db, [deliveries.Result(retry.id, "queued", 2, NOW, None, None)], NOW)


async def test_an_expired_lease_is_claimed_again(db: Database) -> None:
    await _pending(db, 2)
    first = await deliveries.claim(db, NOW, 30, 10, OWNER)
    assert len(first) == 2
    assert await deliveries.claim(db, NOW + 29, 30, 10, OWNER) == []  # still leased
    # The claimer died without recording anything: once the lease runs out the work is back.
    again = await deliveries.claim(db, NOW + 30, 30, 10, OWNER)
    assert sorted(c.id for c in again) == sorted(c.id for c in first)
    await deliveries.record(db, [deliveries.Result(c.id, "sent", 1, NOW, 200, None) for c in again], NOW + 31)
    assert await deliveries.claim(db, NOW + 1000, 30, 10, OWNER) == []  # final states are never claimed


async def test_concurrent_claimers_share_the_work(db: Database) -> None:
    await _pending(db, 40)
    batches = await asyncio.gather(*(deliveries.claim(db, NOW, 30, 3, OWNER) for _ in range(20)))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 40


@only_postgresql
async def test_claims_skip_rows_locked_by_another_transaction(db: Database) -> None:
    await _pending(db, 10)
    async with db.transaction() as tx:
        first = await deliveries.claim(tx, NOW, 30, 5, OWNER)
        # A second claimer on another connection while the first has not committed: without
        # SKIP LOCKED it would wait for the first transaction (and time out here).
        second = await asyncio.wait_for(deliveries.claim(db, NOW, 30, 10, OWNER), 5)
    assert len(first) == 5 and len(second) == 5
    assert not {c.id for c in first} & {c.id for c in second}


@only_postgresql
async def test_claims_from_separate_pools_are_disjoint(database_url: str, db: Database) -> None:
    # Separate pools stand in for separate processes.
    await _pending(db, 60)
    others = [await open_database(database_url) for _ in range(3)]
    try:
        batches = await asyncio.gather(*(deliveries.claim(d, NOW, 30, 4, OWNER) for d in others * 6))
    finally:
        for other in others:
            await other.close()
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 60


# -- inbox -------------------------------------------------------------------------------


async def test_inbox_round_trip(db: Database) -> None:
    assert await inbox.add(db, "https://r.test/a/1", "https://r.test/u", "r.test", '{"n": 1}') is True
    assert await inbox.add(db, "https://r.test/a/1", "https://r.test/u", "r.test", '{"n": 1}') is False
    assert await inbox.add(db, "https://r.test/a/2", "https://r.test/u", "r.test", '{"n": 2}') is True
    assert await inbox.add(db, "https://r.test/a/3", "https://r.test/u", "r.test", '{"n": 3}') is True
    items = await inbox.claim(db, NOW, 30, 10, OWNER)
    assert [(i.activity_id, i.attempts) for i in items] == [(f"https://r.test/a/{n}", 1) for n in (1, 2, 3)]
    assert await inbox.claim(db, NOW + 10, 30, 10, OWNER) == []  # leased
    done, failed, transient = items
    await inbox.mark_done(db, done.id)
    await inbox.mark_failed(db, failed.id, "x" * 600)
    await inbox.release(db, transient.id, "timeout", NOW + 60)
    assert await inbox.claim(db, NOW + 59, 30, 10, OWNER) == []
    again = await inbox.claim(db, NOW + 60, 30, 10, OWNER)
    assert [(i.id, i.attempts) for i in again] == [(transient.id, 2)]
    row = await db.fetchone("SELECT state, last_error FROM inbox_items WHERE id = ?", (failed.id,))
    assert row is not None and (row["state"], len(row["last_error"])) == ("failed", 500)


@only_postgresql
async def test_inbox_claims_skip_locked_rows(db: Database) -> None:
    for n in range(6):
        await inbox.add(db, f"https://r.test/a/{n}", "https://r.test/u", "r.test", "{}")
    async with db.transaction() as tx:
        first = await inbox.claim(tx, NOW, 30, 3, OWNER)
        second = await asyncio.wait_for(inbox.claim(db, NOW, 30, 10, OWNER), 5)
    assert len(first) == len(second) == 3
    assert not {i.id for i in first} & {i.id for i in second}


# -- actors, activities, meta --------------------------------------------------------------


async def test_actors_and_activities_round_trip(db: Database) -> None:
    record = actors.ActorRecord(
        "https://r.test/users/u",
        "r.test",
        "Person",
        "u",
        "@u@r.test",
        "U",
        "",
        None,
        None,
        "https://r.test/users/u/inbox",
        "https://r.test/inbox",
        None,
        NOW,
    )
    await actors.upsert(db, record, [("https://r.test/users/u#main-key", "PEM", None)])
    await actors.upsert(db, record, [("https://r.test/users/u#main-key", "PEM2", "z6Mk")])
    assert await actors.by_uri(db, record.uri) == record
    key = await actors.key(db, "https://r.test/users/u#main-key")
    assert key == actors.ActorKey("https://r.test/users/u#main-key", record.uri, "PEM2", "z6Mk")
    assert len(await actors.keys_for(db, record.uri)) == 1
    await actors.delete(db, record.uri)
    assert await actors.by_uri(db, record.uri) is None

    alice = await _member(db)
    first = await activities.add(db, "https://a2.test/a/1", alice, "Create", "https://a2.test/posts/1", '{"a": 1}')
    await activities.add(db, "https://a2.test/a/2", alice, "Accept", None, "{}")
    await activities.add(db, "https://a2.test/a/3", alice, "Delete", "https://a2.test/posts/1", '{"a": 3}')
    assert await activities.body(db, first) == '{"a": 1}'
    assert await activities.count_for_member(db, alice) == 2  # an Accept is not in the outbox
    assert await activities.for_member(db, alice, 10, 0) == ['{"a": 3}', '{"a": 1}']
    latest = await activities.latest_version(db, "https://a2.test/posts/1")
    assert latest is not None and (latest.type, latest.body) == ("Delete", '{"a": 3}')
    create = await activities.create_of(db, "https://a2.test/posts/1")
    assert create == activities.SentActivity(first, alice, "Create", "https://a2.test/posts/1", '{"a": 1}')
    assert await activities.with_sender(db, first) == ('{"a": 1}', "alice")


async def test_meta_get_put_bump(db: Database) -> None:
    assert await meta.get(db, "policy_version") is None
    await meta.bump(db, "policy_version")
    await meta.bump(db, "policy_version")
    assert await meta.get(db, "policy_version") == "2"
    await meta.put(db, "counter", "41")
    await meta.put(db, "key", "a")
    await meta.put(db, "key", "b")
    await meta.bump(db, "counter")
    assert (await meta.get(db, "counter"), await meta.get(db, "key")) == ("42", "b")


# -- transactions --------------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_a_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            alice = await _member(tx)
            await posts.create(tx, alice, "T", "b", "<p>b</p>")
            await meta.bump(tx, "policy_version")
            raise Boom
    assert await members.count(db) == 0
    assert await posts.count_live(db) == 0
    assert await meta.get(db, "policy_version") is None
    # The database is still usable, and a clean block commits.
    async with db.transaction() as tx:
        await _member(tx)
    assert await members.count(db) == 1


async def test_a_failing_statement_rolls_back_the_whole_transaction(db: Database) -> None:
    await _member(db, "alice")
    with pytest.raises(Exception) as caught:
        async with db.transaction() as tx:
            await _member(tx, "bob")
            await _member(tx, "alice")  # UNIQUE (username)
    assert "unique" in str(caught.value).lower()
    assert [m.username for m in await members.list_all(db)] == ["alice"]
