"""Moving house over real HTTP, on both backends: an account moves out between instances of this
service (`member move`, its followers elsewhere follow the new account), moves in from a
Mastodon-shaped remote (the new account lists the old one, and whoever followed the old one
follows it here), and forged Moves are refused without changing anything."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from fake_mastodon import AP, FakeMastodon, running
from fediverse_a2.services.social import follow
from fediverse_a2.store import follows, members
from helpers import LiveServer, cli, live_server, wait_for
from pg import DatabaseFactory
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    a: LiveServer
    b: LiveServer
    c: LiveServer
    fake: FakeMastodon


@pytest.fixture
async def world(tmp_path: Path, database_factory: DatabaseFactory) -> AsyncIterator[World]:
    async with (
        live_server(tmp_path / "a", database=await database_factory(), run_workers=True) as a,
        live_server(tmp_path / "b", database=await database_factory(), run_workers=True) as b,
        live_server(tmp_path / "c", database=await database_factory(), run_workers=True) as c,
    ):
        fake = FakeMastodon()
        fake.add_user("oldie", "Oud account")
        fake.add_user("carol", "Carol")
        async with running(fake):
            yield World(a, b, c, fake)


def handle(server: LiveServer, username: str) -> str:
    return f"@{username}@{server.rt.urls.host}"


async def set_aliases(server: LiveServer, username: str, aliases: str) -> httpx.Response:
    """Save the profile form with these other accounts, as the member would."""
    member = await members.by_username(server.rt.db, username)
    assert member is not None
    async with WebUser(server.base_url) as web:
        await web.login(username, PASSWORD)
        return await web.submit(
            "/settings/profile", "/settings/profile", {"name": member.name, "summary": "", "also_known_as": aliases}
        )


async def actor_doc(url: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url, headers={"Accept": AP})
        assert r.status_code == 200, (url, r.status_code)
        return r.json()


async def follower_uris(server: LiveServer, username: str) -> list[str]:
    member = await members.by_username(server.rt.db, username)
    assert member is not None
    return await follows.follower_page(server.rt.db, member.id, 100, 0)


async def following_states(server: LiveServer, username: str) -> dict[str, str]:
    member = await members.by_username(server.rt.db, username)
    assert member is not None
    return {f.actor_uri: f.state for f in await follows.accounts_page(server.rt.db, "following", member.id, 0, 100)}


async def test_moving_out_between_instances_carries_the_followers_over(world: World) -> None:
    a, b, c = world.a, world.b, world.c
    await member_with_password(a, "alice", "Alice", PASSWORD)
    await member_with_password(b, "alicia", "Alice (nieuw)", PASSWORD)
    await member_with_password(c, "bob", "Bob", PASSWORD)
    old, new, bob = a.rt.urls.actor("alice"), b.rt.urls.actor("alicia"), c.rt.urls.actor("bob")
    await follow(c.rt, c.workers.directory, "bob", old)

    async def bob_follows_old() -> bool:
        return bob in await follower_uris(a, "alice") and (await following_states(c, "bob")).get(old) == "accepted"

    await wait_for(bob_follows_old, what="bob on C following alice on A")

    # Before alicia names alice as her other account, the move is refused and changes nothing.
    # (The command runs beside this event loop, which serves B.)
    refused = await asyncio.to_thread(cli, a.config_path, "member", "move", "alice", handle(b, "alicia"), check=False)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "alsoKnownAs" in refused.stderr and "Traceback" not in refused.stderr
    assert "movedTo" not in await actor_doc(old)

    # alicia lists alice by her handle: looked up through B's guarded client, stored as the actor id.
    saved = await set_aliases(b, "alicia", handle(a, "alice"))
    assert saved.status_code == 200, saved.text[:500]
    assert (await actor_doc(new))["alsoKnownAs"] == [old]

    moved = await asyncio.to_thread(cli, a.config_path, "member", "move", "alice", handle(b, "alicia"))
    assert new in moved.stdout
    assert (await actor_doc(old))["movedTo"] == new
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(old, headers={"Accept": "text/html"})
    assert new in page.text

    # C checked alicia's aliases itself, left alice and follows alicia; A and B saw both sides.
    async def carried_over() -> bool:
        states = await following_states(c, "bob")
        return (
            states.get(new) == "accepted"
            and old not in states
            and bob in await follower_uris(b, "alicia")
            and bob not in await follower_uris(a, "alice")
        )

    await wait_for(carried_over, what="bob following alicia on B instead of alice on A")


async def test_moving_in_from_mastodon(world: World) -> None:
    a, c, fake = world.a, world.c, world.fake
    await member_with_password(a, "alice", "Alice", PASSWORD)
    await member_with_password(c, "bob", "Bob", PASSWORD)
    old, alice, bob = fake.uri("oldie"), a.rt.urls.actor("alice"), c.rt.urls.actor("bob")
    await follow(c.rt, c.workers.directory, "bob", old)
    await wait_for(lambda: _received(fake, "Follow", bob), what="bob's Follow at the old server")

    # An account that cannot be found changes nothing.
    unknown = await set_aliases(a, "alice", f"@nobody@{fake.base.removeprefix('http://')}")
    assert unknown.status_code == 400
    assert "alsoKnownAs" not in await actor_doc(alice)
    # alice names her Mastodon account (WebFinger, then the actor, through A's guarded client).
    saved = await set_aliases(a, "alice", f"@oldie@{fake.base.removeprefix('http://')}")
    assert saved.status_code == 200, saved.text[:500]
    assert (await actor_doc(alice))["alsoKnownAs"] == [old]

    # The old server moves the account and tells its followers' servers (C) and A.
    fake.users["oldie"].moved_to = alice
    move = _move(fake, "oldie", old, alice)
    for server in (c, a):
        assert (await fake.send("oldie", f"{server.base_url}/inbox", move)).status_code == 202

    async def carried_over() -> bool:
        states = await following_states(c, "bob")
        return old not in states and states.get(alice) == "accepted" and bob in await follower_uris(a, "alice")

    await wait_for(carried_over, what="bob following alice on A instead of oldie")
    undo = await wait_for(lambda: _received(fake, "Undo", bob), what="bob's Undo{Follow} at the old server")
    assert undo[0]["object"]["type"] == "Follow" and undo[0]["object"]["object"] == old
    # A accepted the Move of an account that became one of its members.
    assert await _inbox_state(a, move["id"]) == "done"


async def test_forged_moves_are_refused_and_change_nothing(world: World) -> None:
    a, c, fake = world.a, world.c, world.fake
    await member_with_password(a, "alice", "Alice", PASSWORD)  # lists oldie
    await member_with_password(a, "eve", "Eve", PASSWORD)  # lists nobody
    await member_with_password(c, "bob", "Bob", PASSWORD)
    old, alice, eve = fake.uri("oldie"), a.rt.urls.actor("alice"), a.rt.urls.actor("eve")
    assert (await set_aliases(a, "alice", old)).status_code == 200
    await follow(c.rt, c.workers.directory, "bob", old)
    await wait_for(lambda: _received(fake, "Follow", c.rt.urls.actor("bob")), what="bob's Follow")
    before = await following_states(c, "bob")
    inbox = f"{c.base_url}/inbox"

    # A target that does not name the old account: stored, then refused by the worker.
    no_alias = _move(fake, "oldie", old, eve)
    assert (await fake.send("oldie", inbox, no_alias)).status_code == 202
    assert await wait_for(lambda: _inbox_state(c, no_alias["id"], final=True), what="the Move handled") == "failed"

    # An actor moving someone else's account: refused at the door.
    someone_else = {**_move(fake, "carol", old, alice), "actor": fake.uri("carol")}
    r = await fake.send("carol", inbox, someone_else)
    assert r.status_code == 403 and "Move" in r.text

    # A Move without a target: refused at the door.
    aimless = _move(fake, "oldie", old, alice)
    del aimless["target"]
    assert (await fake.send("oldie", inbox, aimless)).status_code == 403

    # Unsigned: refused before anything is read.
    body = orjson.dumps(_move(fake, "oldie", old, alice))
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(inbox, content=body, headers={"Content-Type": AP})
    assert r.status_code == 401

    assert await following_states(c, "bob") == before
    assert c.rt.urls.actor("bob") not in await follower_uris(a, "eve")
    assert c.rt.urls.actor("bob") not in await follower_uris(a, "alice")
    assert not fake.received_of("Undo")


def _move(fake: FakeMastodon, name: str, old: str, target: str) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{fake.base}/users/{name}#moves/{uuid.uuid4().hex}",
        "type": "Move",
        "actor": fake.uri(name),
        "object": old,
        "target": target,
    }


async def _received(fake: FakeMastodon, kind: str, actor: str) -> list[dict]:
    return [x for x in fake.received_of(kind) if x.get("actor") == actor]


async def _inbox_state(server: LiveServer, activity_id: str, final: bool = False) -> str | None:
    state = await server.rt.db.fetchval("SELECT state FROM inbox_items WHERE activity_id = ?", (activity_id,))
    if final and state == "queued":
        return None
    return None if state is None else str(state)
