"""Migration 14 on both backends, over a database that holds rows from before it: comment
visibility, the text of private notifications, and media records no longer unique per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.policy import Policy
from fediverse_a2.store import comments, media, migrations, posts, remote_posts
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database

NOW = 1_800_000_000.0
OPEN = Policy("open", ())
URLS = Urls("http://a2.test")


def _target(database_url: str | None, tmp_path: Path) -> str:
    return database_url or str(tmp_path / "db.sqlite3")


async def _open_at(target: str, version: int, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A database migrated only up to `version` (as an instance running the previous release has it)."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= version])
        return await open_database(target)


async def test_migration_14_keeps_every_row_and_lets_two_members_share_a_file(
    database_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _target(database_url, tmp_path)
    db = await _open_at(target, 13, monkeypatch)
    try:
        assert await migrations.schema_version(db) == 13
        # Rows as the release before wrote them (later steps add columns today's store writes).
        alice, bob = [
            int(
                await db.fetchval(
                    "INSERT INTO members (username, name, public_key_pem, created_at) VALUES (?, ?, 'PEM', ?) "
                    "RETURNING id",
                    (username, username.title(), NOW),
                )
            )
            for username in ("alice", "bob")
        ]
        post = await posts.create(db, alice, "T", "b", "<p>b</p>")
        await db.execute(
            "INSERT INTO media (member_id, file_name, media_type, width, height, size, alt, created_at) "
            "VALUES (?, 'f.jpg', 'image/jpeg', 1, 1, 10, 'van alice', ?)",
            (alice, NOW),
        )
        media_id = await db.fetchval("SELECT id FROM media")
        await db.execute("INSERT INTO post_media (post_id, media_id, position) VALUES (?, ?, 0)", (post, media_id))
        old = await comments.add(
            db, ap_id="https://r.test/c/1", url=None, post_id=post, parent_id=None, author_uri="https://r.test/u",
            member_id=None, domain="r.test", content_html="<p>oud</p>", summary=None, published=NOW,
        )  # fmt: skip
    finally:
        await db.close()
    db = await open_database(target)  # the release with step 14
    try:
        assert await migrations.schema_version(db) == max(m[0] for m in migrations.MIGRATIONS)
        # What was there is there, and the old comment counts as public (it was shown before).
        assert [m.id for m in await media.for_post(db, post)] == [media_id]
        assert await db.fetchval("SELECT visibility FROM comments WHERE id = ?", (old,)) == "public"
        assert [c.id for c in await comments.list_for_post(db, post, OPEN, URLS)] == [old]
        # The same file, uploaded again by another member: a record of its own.
        again = await media.add(db, bob, "f.jpg", "image/jpeg", 1, 1, 10, "van bob")
        assert again.id != media_id and again.member_id == bob and again.alt == "van bob"
        assert (await media.by_id(db, media_id)).alt == "van alice"  # type: ignore[union-attr]
        # New ids do not collide with the copied ones (SQLite rebuilt the table).
        third = await media.add(db, alice, "g.jpg", "image/jpeg", 1, 1, 10, "")
        assert third.id > again.id > media_id
        # A direct comment is stored but read by nothing that shows comments.
        direct = await comments.add(
            db, ap_id="https://r.test/c/2", url=None, post_id=post, parent_id=None, author_uri="https://r.test/u",
            member_id=None, domain="r.test", content_html="<p>prive</p>", summary=None, published=NOW + 1,
            visibility="direct",
        )  # fmt: skip
        assert direct is not None
        assert await comments.count_visible(db, post, OPEN) == 1
        assert await comments.ids_for_post(db, post, OPEN, 10, 0) == ["https://r.test/c/1"]
        assert await comments.by_id(db, direct, URLS) is None
        assert [c.id for c in await comments.in_state(db, comments.VISIBLE, URLS, 10)] == [old]
    finally:
        await db.close()


async def test_the_network_timeline_lists_public_posts_only(database_url: str | None, tmp_path: Path) -> None:
    db = await open_database(_target(database_url, tmp_path))
    try:
        for n, public in ((1, True), (2, False)):
            ap_id = f"https://r.test/n/{n}"
            await remote_posts.add(
                db, ap_id=ap_id, actor_uri="https://r.test/u", content_html="x", summary=None, url=None,
                in_reply_to=None, published=NOW + n, public=public,
            )  # fmt: skip
            await db.execute(
                "INSERT INTO relay_posts (ap_id, relay_actor, received_at) VALUES (?, ?, ?)",
                (ap_id, "https://relay.test/actor", NOW),
            )
        assert [p.ap_id for p in await remote_posts.network_page(db, 10)] == ["https://r.test/n/1"]
    finally:
        await db.close()
