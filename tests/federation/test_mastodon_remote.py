"""Federation with a Mastodon-shaped remote built on httpsig: follow, post, reply, react, edit, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_mastodon import PUBLIC, FakeMastodon, running
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import comments, follows, members, posts
from helpers import LiveServer, live_server, wait_for
from worlds import mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with mastodon_world(tmp_path, members=[("alice", "Alice")]) as world:
        yield world


async def _follow(a2: LiveServer, fake: FakeMastodon) -> dict:
    alice = f"{a2.base_url}/users/alice"
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{fake.base}/follows/1",
        "type": "Follow",
        "actor": fake.uri("carol"),
        "object": alice,
    }
    r = await fake.send("carol", f"{alice}/inbox", follow)
    assert r.status_code == 202, r.text
    return follow


async def test_follow_is_accepted_and_posts_arrive_verified_by_httpsig(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    follow = await _follow(a2, fake)

    async def accepted() -> list:
        return fake.received_of("Accept")

    accept = (await wait_for(accepted, what="an Accept verified by httpsig"))[0]
    assert accept["object"]["id"] == follow["id"]
    assert accept["actor"] == f"{a2.base_url}/users/alice"
    # The first knock was RFC 9421, which this Mastodon refuses; the second, draft-cavage, passed.
    assert "not a draft-cavage signature" in fake.refused
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    assert await follows.count_followers(a2.rt.db, member.id) == 1

    url = await publish_post(a2.rt, "alice", "Nieuwe blogpost", "Inhoud **vet**")

    async def created() -> list:
        return fake.received_of("Create")

    create = (await wait_for(created, what="Create{Note} at the fake"))[0]
    assert create["object"]["id"] == url
    assert create["object"]["to"] == [PUBLIC]
    assert create["_key_id"] == f"{a2.base_url}/users/alice#main-key"
    # The fake shares one inbox for its users: delivery went there, once.
    assert len(fake.received_of("Create")) == 1


async def test_reply_reactions_edit_and_delete(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    await _follow(a2, fake)
    url = await publish_post(a2.rt, "alice", "Post", "Tekst")
    post_id = int(url.rsplit("/", 1)[1])
    reply = fake.note(
        "carol",
        '<p>Eens! <a href="javascript:alert(1)" class="evil mention">x</a><script>bad()</script></p>',
        url,
        mention=f"{a2.base_url}/users/alice",
        summary="spoiler",
    )
    r = await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", reply))
    assert r.status_code == 202

    async def stored() -> list:
        return await comments.list_for_post(a2.rt.db, post_id, a2.rt.policy, a2.rt.urls)

    [comment] = await wait_for(stored, what="the reply stored as a comment")
    assert comment.ap_id == reply["id"]
    assert comment.author.name == "Carol Mastodon"
    assert comment.author.handle == f"@carol@{fake.base.removeprefix('http://')}"
    assert comment.author.icon == f"{fake.base}/avatars/carol.png"
    assert "<script>" not in comment.content_html and "javascript:" not in comment.content_html
    assert "evil" not in comment.content_html and "Eens!" in comment.content_html
    assert comment.summary == "spoiler"

    like = {"id": f"{fake.base}/likes/1", "type": "Like", "actor": fake.uri("carol"), "object": url}
    boost = {
        "id": f"{fake.base}/boosts/1",
        "type": "Announce",
        "actor": fake.uri("carol"),
        "object": url,
        "to": [PUBLIC],
    }
    for activity in (like, boost):
        assert (await fake.send("carol", f"{a2.base_url}/inbox", activity)).status_code == 202

    async def counted() -> bool:
        post = await posts.by_id(a2.rt.db, post_id)
        return post is not None and post.likes == 1 and post.boosts == 1

    await wait_for(counted, what="like and boost counted")
    undo = {"id": f"{fake.base}/likes/1/undo", "type": "Undo", "actor": fake.uri("carol"), "object": like}
    assert (await fake.send("carol", f"{a2.base_url}/inbox", undo)).status_code == 202

    async def uncounted() -> bool:
        post = await posts.by_id(a2.rt.db, post_id)
        return post is not None and post.likes == 0 and post.boosts == 1

    await wait_for(uncounted, what="the Undo{Like}")

    # Update without `updated` is ignored, as Mastodon does; with it, the comment changes.
    edited = {**reply, "content": "<p>Zonder updated</p>"}
    update = {"id": f"{reply['id']}#u1", "type": "Update", "actor": fake.uri("carol"), "object": edited}
    assert (await fake.send("carol", f"{a2.base_url}/inbox", update)).status_code == 202
    edited = {**reply, "content": "<p>Bijgewerkt</p>", "updated": "2026-11-28T11:00:00Z"}
    update = {"id": f"{reply['id']}#u2", "type": "Update", "actor": fake.uri("carol"), "object": edited}
    assert (await fake.send("carol", f"{a2.base_url}/inbox", update)).status_code == 202

    async def updated() -> bool:
        [c] = await stored()
        return "Bijgewerkt" in c.content_html

    await wait_for(updated, what="the Update{Note}")
    [c] = await stored()
    assert c.updated is not None

    # Update{Person}: the profile is refetched from the origin.
    fake.users["carol"].display_name = "Carol Nieuw"
    update = {
        "id": f"{fake.base}/users/carol#updates/1",
        "type": "Update",
        "actor": fake.uri("carol"),
        "object": {**fake.actor_doc("carol"), "name": "Forged Inline Name"},
    }
    assert (await fake.send("carol", f"{a2.base_url}/inbox", update)).status_code == 202

    async def renamed() -> bool:
        [c] = await stored()
        return c.author.name == "Carol Nieuw"

    await wait_for(renamed, what="the refreshed profile")

    delete = {
        "id": f"{reply['id']}#delete",
        "type": "Delete",
        "actor": fake.uri("carol"),
        "object": {"id": reply["id"], "type": "Tombstone"},
    }
    assert (await fake.send("carol", f"{a2.base_url}/inbox", delete)).status_code == 202

    async def deleted() -> bool:
        return not await stored()

    await wait_for(deleted, what="the Delete of the comment")
    # A late Create of the same note stays deleted.
    r = await fake.send("carol", f"{a2.base_url}/inbox", {**fake.create("carol", reply), "id": f"{reply['id']}/again"})
    assert r.status_code == 202
    await wait_for(lambda: _queue_empty(a2), what="the inbox to drain")
    assert not await stored()


async def _queue_empty(a2: LiveServer) -> bool:
    return not await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'")


async def test_actor_delete_removes_follow_and_comments(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    await _follow(a2, fake)
    url = await publish_post(a2.rt, "alice", "Post", "Tekst")
    post_id = int(url.rsplit("/", 1)[1])
    reply = fake.note("carol", "<p>Hoi</p>", url)
    await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", reply))

    async def stored() -> int:
        return await comments.count_visible(a2.rt.db, post_id, a2.rt.policy)

    await wait_for(stored, what="the comment")
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None and await follows.count_followers(a2.rt.db, member.id) == 1
    delete = {
        "id": f"{fake.uri('carol')}#delete",
        "type": "Delete",
        "actor": fake.uri("carol"),
        "object": fake.uri("carol"),
        "to": [PUBLIC],
    }
    assert (await fake.send("carol", f"{a2.base_url}/inbox", delete)).status_code == 202

    async def gone() -> bool:
        return await stored() == 0 and await follows.count_followers(a2.rt.db, member.id) == 0

    await wait_for(gone, what="the actor's follow and comments to be removed")


class GoToSocialLike(FakeMastodon):
    """Key ids end in /main-key with no fragment; that URL serves a cut-down actor without an inbox."""

    key_suffix = "/main-key"

    def __init__(self) -> None:
        super().__init__()
        self.app.router.routes.insert(0, Route("/users/{name}/main-key", self.key_stub))

    async def key_stub(self, request: Request) -> Response:
        doc = self.actor_doc(request.path_params["name"])
        stub = {
            "@context": doc["@context"],
            "id": doc["id"],
            "type": "Person",
            "preferredUsername": doc["preferredUsername"],
            "publicKey": doc["publicKey"],
        }
        return Response(orjson.dumps(stub), media_type="application/activity+json")


async def test_gotosocial_key_stub_leads_to_the_full_actor(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as a2:
        await add_member(a2.rt, "alice", "Alice")
        url = await publish_post(a2.rt, "alice", "Post", "Tekst")
        gts = GoToSocialLike()
        gts.add_user("gina", "Gina GTS")
        async with running(gts):
            reply = gts.note("gina", "<p>Vanuit GoToSocial</p>", url)
            r = await gts.send("gina", f"{a2.base_url}/inbox", gts.create("gina", reply))
            assert r.status_code == 202, r.text
            actor = await a2.rt.db.fetchone("SELECT inbox, name FROM actors WHERE uri = ?", (gts.uri("gina"),))
            assert actor["inbox"] == f"{gts.uri('gina')}/inbox" and actor["name"] == "Gina GTS"
            key = await a2.rt.db.fetchval(
                "SELECT actor_uri FROM actor_keys WHERE key_id = ?", (f"{gts.uri('gina')}/main-key",)
            )
            assert key == gts.uri("gina")
