"""Erasing an account end to end, over real HTTP on both backends: a member deletes themselves at
/settings/delete; a Mastodon-shaped remote (httpsig, keys it knew) and a second instance of this
service receive a signed Delete of the actor they verify and act on; every URL of the account
answers 410 with a Tombstone; the database keeps nothing of the person; the key is kept until
the Delete went out, then dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fake_mastodon import AP, FakeMastodon, running
from fediverse_a2.federation.retired import retire_keys
from fediverse_a2.search_text import query_terms
from fediverse_a2.services.social import comment, follow
from fediverse_a2.store import actors as actor_store
from fediverse_a2.store import deliveries, follows, members, posts, search
from helpers import LiveServer, live_server, wait_for
from html_check import check_html
from pg import DatabaseFactory
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    a: LiveServer  # alice's instance: stepped by hand (no background loops)
    b: LiveServer  # bob's instance: its loops run
    fake: FakeMastodon


@pytest.fixture
async def world(tmp_path: Path, database_factory: DatabaseFactory) -> AsyncIterator[World]:
    async with (
        live_server(tmp_path / "a", database=await database_factory()) as a,
        live_server(tmp_path / "b", database=await database_factory(), run_workers=True) as b,
    ):
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        async with running(fake):
            yield World(a, b, fake)


async def drain(server: LiveServer) -> None:
    """Step an instance's inbox and delivery workers until neither finds work."""
    workers = server.workers
    while await workers.inbox.run_once() + await workers.deliverer.run_once():
        pass


async def _alice_with_a_history(world: World) -> dict[str, str]:
    """alice on A: followed by carol (the fake) and bob (B), with a post, a comment and a reply elsewhere."""
    a, b, fake = world.a, world.b, world.fake
    await member_with_password(a, "alice", "Alice de Vries", PASSWORD, email="alice@example.org")
    alice = a.rt.urls.actor("alice")
    r = await fake.send(
        "carol", f"{alice}/inbox", {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                                    "object": alice},
    )  # fmt: skip
    assert r.status_code == 202
    await member_with_password(b, "bob", "Bob", PASSWORD)
    await follow(b.rt, b.workers.directory, "bob", alice)

    async def bob_follows() -> bool:
        await drain(a)
        return await follows.is_follower(
            a.rt.db, (await members.by_username(a.rt.db, "alice")).id, b.rt.urls.actor("bob")
        )  # type: ignore[union-attr]

    await wait_for(bob_follows, what="bob on B following alice on A")
    async with WebUser(a.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.submit(
            "/posts/new", "/posts/new", {"title": "Verdwijnpost", "body": "Geheimzinnig woord", "action": "publish"}
        )
        assert r.status_code == 303, r.text[:300]
        post = r.headers["location"]
    own_comment = await comment(a.rt, a.workers.directory, "alice", post, "Mijn eigen reactie")
    elsewhere = fake.note("carol", "<p>Een toot</p>", None)
    note = await comment(a.rt, a.workers.directory, "alice", elsewhere["id"], "Antwoord op de toot")
    reply = fake.note("carol", "<p>Mooi stuk</p>", post, mention=alice)
    assert (await fake.send("carol", f"{a.base_url}/inbox", fake.create("carol", reply))).status_code == 202
    await drain(a)
    assert fake.received_of("Create"), "the post reached carol"
    return {"actor": alice, "post": post, "comment": own_comment, "note": note}


async def test_deleting_an_account_reaches_every_server_and_leaves_nothing_but_410s(world: World) -> None:
    a, b, fake = world.a, world.b, world.fake
    urls = await _alice_with_a_history(world)
    alice = await members.by_username(a.rt.db, "alice")
    assert alice is not None and a.rt.keys.exists("alice")

    async with WebUser(a.base_url) as web:
        await web.login("alice", PASSWORD)
        # A wrong password changes nothing.
        r = await web.submit("/settings/delete", "/settings/delete", {"password": "not the password"})
        assert r.status_code == 400
        assert (await members.by_username(a.rt.db, "alice")).state == "active"  # type: ignore[union-attr]
        # Without the form's token, nothing either.
        r = await web.submit("/settings/delete", "/settings/delete", {"password": PASSWORD}, token=False)
        assert r.status_code == 403
        assert (await members.by_username(a.rt.db, "alice")).state == "active"  # type: ignore[union-attr]
        r = await web.submit("/settings/delete", "/settings/delete", {"password": PASSWORD})
        assert r.status_code == 200 and "a2_session=" in r.headers.get("set-cookie", "")
        check_html(r.text)
        assert "Uitloggen" not in r.text  # the page after is a visitor's
        # The session is gone with the account.
        assert (await web.get("/settings/profile")).status_code == 303

    # The Delete waits to go out: the key that signs it is kept until then.
    assert await deliveries.pending_of_member(a.rt.db, alice.id) >= 2  # carol's server and B
    assert await retire_keys(a.rt) == 0 and a.rt.keys.exists("alice")
    await drain(a)
    assert await deliveries.pending_of_member(a.rt.db, alice.id) == 0

    # The Mastodon-shaped remote verified the Delete with the key it knew (the actor answers 410 now).
    [delete] = fake.received_of("Delete")
    assert delete["actor"] == urls["actor"] and delete["object"] == urls["actor"]
    assert delete["_key_id"] == f"{urls['actor']}#main-key"

    # B verified it too, and forgot the follow and the actor.
    async def b_forgot() -> bool:
        return not await follows.following_of_actor(b.rt.db, urls["actor"]) and not await actor_store.exists(
            b.rt.db, urls["actor"]
        )

    await wait_for(b_forgot, what="B acting on the Delete")

    # Now the key goes, and nothing makes a new one.
    assert await retire_keys(a.rt) == 1
    assert not a.rt.keys.exists("alice")

    async with httpx.AsyncClient(timeout=10) as client:
        actor = await client.get(urls["actor"], headers={"Accept": AP})
        assert actor.status_code == 410
        assert actor.json()["type"] == "Tombstone" and actor.json()["formerType"] == "Person"
        assert (await client.get(urls["actor"], headers={"Accept": "text/html"})).status_code == 410
        for url in (urls["post"], urls["comment"], urls["note"]):
            gone = await client.get(url, headers={"Accept": AP})
            assert gone.status_code == 410, url
            assert gone.json() == {**gone.json(), "id": url, "type": "Tombstone"}
        assert (await client.get(f"{urls['actor']}/outbox", headers={"Accept": AP})).status_code == 410
        host = a.rt.urls.host
        finger = await client.get(f"{a.base_url}/.well-known/webfinger", params={"resource": f"acct:alice@{host}"})
        assert finger.status_code == 410
    assert not a.rt.keys.exists("alice")

    # What the database still says about alice: her username, and nothing else of her.
    erased = await members.by_username(a.rt.db, "alice")
    assert erased is not None and erased.is_deleted and not erased.public_key_pem
    assert (erased.name, erased.email, erased.summary, erased.fields) == ("", None, "", ())
    assert await members.password_hash(a.rt.db, alice.id) is None
    db = a.rt.db
    for table in ("sessions", "notifications", "followers", "following", "invites", "member_reactions"):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE member_id = ?", (alice.id,)) == 0, table
    assert (
        await db.fetchval("SELECT COUNT(*) FROM activities WHERE member_id = ? AND type <> 'Delete'", (alice.id,)) == 0
    )
    texts = await db.fetchall("SELECT title, body_md, content_html FROM posts WHERE member_id = ?", (alice.id,))
    assert texts and all(tuple(r) == ("", "", "") for r in texts)
    assert (
        await db.fetchval("SELECT COUNT(*) FROM comments WHERE member_id = ? AND content_html <> ''", (alice.id,)) == 0
    )
    assert not await search.search(db, query_terms("Geheimzinnig"), a.rt.policy, 10)
    assert (await posts.by_id(db, int(urls["post"].rsplit("/", 1)[1]))).deleted_at is not None  # type: ignore[union-attr]
    # carol's reply under the post is hers, and stays.
    assert await db.fetchval("SELECT COUNT(*) FROM comments WHERE member_id IS NULL") == 1
