"""Followers and following on the web, through real HTTP with a Mastodon-shaped remote: a locked
account holds follow requests until the member approves (Accept) or rejects (Reject) them, a
follower can be removed (Reject{Follow}), and members follow and unfollow remote accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fake_mastodon import FakeMastodon, received
from fediverse_a2.store import follow_requests, follows, members, notifications
from helpers import AP, LiveServer, wait_for
from webclient import WebUser
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with mastodon_world(tmp_path, remote=[("carol", "Carol"), ("dave", "Dave")]) as world:
        yield world


async def send_follow(a2: LiveServer, fake: FakeMastodon, name: str) -> dict[str, Any]:
    follow = {"id": f"{fake.base}/follows/{name}", "type": "Follow", "actor": fake.uri(name),
              "object": a2.rt.urls.actor("alice")}  # fmt: skip
    assert (await fake.send(name, a2.rt.urls.inbox("alice"), follow)).status_code == 202
    return follow


async def alice_id(a2: LiveServer) -> int:
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    return member.id


async def lock(web: WebUser) -> None:
    r = await web.submit("/settings/profile", "/settings/profile", {"name": "Alice de Vries", "locked": "1"})
    assert r.status_code == 200, r.text


async def test_a_locked_account_approves_and_rejects_follow_requests(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        await lock(web)
        async with httpx.AsyncClient() as client:
            actor = (await client.get(a2.rt.urls.actor("alice"), headers={"Accept": AP})).json()
        assert actor["manuallyApprovesFollowers"] is True
        carol_follow = await send_follow(a2, fake, "carol")
        dave_follow = await send_follow(a2, fake, "dave")
        member_id = await alice_id(a2)

        async def two_requests() -> Any:
            return len(await follow_requests.for_member(a2.rt.db, member_id)) == 2 or None

        await wait_for(two_requests, what="two follow requests")
        assert fake.received_of("Accept") == [] and await follows.count_followers(a2.rt.db, member_id) == 0
        # Each request is a notification for alice.
        kinds = [n.kind for n in await notifications.page(a2.rt.db, member_id, 10)]
        assert kinds == ["follow_request", "follow_request"]
        page = (await web.get("/followers")).text
        assert fake.uri("carol") in page and fake.uri("dave") in page
        requests = {r.actor_uri: r.id for r in await follow_requests.for_member(a2.rt.db, member_id)}

        approve = await web.submit(
            "/followers", "/followers", {"action": "approve", "request": str(requests[fake.uri("carol")])}
        )
        assert approve.status_code == 303
        (accept,) = await received(fake, "Accept")
        assert accept["object"]["id"] == carol_follow["id"] and accept["actor"] == a2.rt.urls.actor("alice")
        assert await follows.is_follower(a2.rt.db, member_id, fake.uri("carol"))

        refuse = await web.submit(
            "/followers", "/followers", {"action": "reject", "request": str(requests[fake.uri("dave")])}
        )
        assert refuse.status_code == 303
        (reject,) = await received(fake, "Reject")
        assert reject["object"]["id"] == dave_follow["id"]
        assert not await follows.is_follower(a2.rt.db, member_id, fake.uri("dave"))
        assert await follow_requests.for_member(a2.rt.db, member_id) == []
        profile = (await web.get("/users/alice")).text
        # One follower, in the singular (the catalog's plural forms, picked by the count).
        assert "1 volger<" in profile and "1 volgers" not in profile


async def test_a_withdrawn_request_disappears(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        await lock(web)
    follow = await send_follow(a2, fake, "carol")
    member_id = await alice_id(a2)

    async def requested() -> Any:
        return await follow_requests.for_member(a2.rt.db, member_id) or None

    await wait_for(requested, what="the follow request")
    undo = {"id": f"{fake.base}/undo/1", "type": "Undo", "actor": fake.uri("carol"), "object": follow}
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), undo)).status_code == 202

    async def withdrawn() -> Any:
        return await follow_requests.for_member(a2.rt.db, member_id) == [] or None

    await wait_for(withdrawn, what="the request withdrawn")


async def test_removing_a_follower_tells_their_server(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    follow = await send_follow(a2, fake, "carol")
    await received(fake, "Accept")  # an open account accepts at once
    member_id = await alice_id(a2)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = (await web.get("/followers")).text
        remove = f"/followers/remove?actor={quote(fake.uri('carol'), safe='/')}"
        assert f'href="{remove}"' in page  # a link to the page that asks first; no button removes at once
        r = await web.confirm(remove)
        assert r.status_code == 303
        missing = await web.get("/followers/remove", params={"actor": fake.uri("dave")})
        assert missing.status_code == 400 and "volgt je niet" in missing.text
    (reject,) = await received(fake, "Reject")
    assert reject["object"]["id"] == follow["id"] and reject["object"]["type"] == "Follow"
    assert await follows.count_followers(a2.rt.db, member_id) == 0


async def test_follow_and_unfollow_from_the_web(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    handle = f"@carol@{fake.base.removeprefix('http://')}"
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.submit("/following", "/following", {"action": "follow", "handle": handle})
        assert r.status_code == 303
        (follow,) = await received(fake, "Follow")
        assert follow["object"] == fake.uri("carol") and follow["actor"] == a2.rt.urls.actor("alice")
        page = (await web.get("/following")).text
        assert quote(fake.uri("carol"), safe="/") in page and "wacht op goedkeuring" in page
        accept = {"id": f"{fake.base}/accepts/1", "type": "Accept", "actor": fake.uri("carol"), "object": follow["id"]}
        assert (await fake.send("carol", a2.rt.urls.inbox("alice"), accept)).status_code == 202

        async def accepted() -> Any:
            return await follows.count_following(a2.rt.db, await alice_id(a2)) == 1 or None

        await wait_for(accepted, what="the follow accepted")
        assert "wacht op goedkeuring" not in (await web.get("/following")).text
        r = await web.confirm(f"/following/remove?actor={quote(fake.uri('carol'), safe='')}")
        assert r.status_code == 303
        (undo,) = await received(fake, "Undo")
        assert undo["object"]["id"] == follow["id"]
        bad = await web.submit("/following", "/following", {"action": "follow", "handle": "@ghost@127.0.0.1:9"})
        assert bad.status_code == 400 and "location" not in bad.headers


async def test_follower_pages_need_a_member_and_a_token(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    await send_follow(a2, fake, "carol")
    await received(fake, "Accept")
    async with WebUser(a2.base_url) as visitor:
        for path in ("/followers", "/following"):
            r = await visitor.get(path)
            assert r.status_code == 303 and "/login" in r.headers["location"]
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        forged = await web.submit("/followers", "/followers/remove", {"actor": fake.uri("carol")}, token=False)
        assert forged.status_code == 403
        elsewhere = await web.submit(
            "/following", "/following", {"action": "follow", "handle": f"@dave@{fake.base.removeprefix('http://')}"},
            origin="https://evil.example",
        )  # fmt: skip
        assert elsewhere.status_code == 403
    assert await follows.is_follower(a2.rt.db, await alice_id(a2), fake.uri("carol"))
    assert fake.received_of("Reject") == [] and fake.received_of("Follow") == []
