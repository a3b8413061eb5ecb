"""Likes, boosts, answers, notifications and search over HTTP with members' real tokens, against a
Mastodon-shaped remote: what an app does federates as the web's actions do, and what is not
public stays with its addressees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api_client import Api, follows_member, member_follows, token_for
from fake_mastodon import PUBLIC, FakeMastodon, received_about
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.store import activities, comments, members, posts
from helpers import AP, LiveServer, wait_for
from media_samples import png_bytes
from webclient import WebUser
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Api, Api]]:
    people = (("alice", "Alice de Vries"), ("bob", "Bob Jansen"))
    async with mastodon_world(tmp_path, members=people, remote=(("carol", "Carol"),)) as (a2, fake):
        alice = Api(a2, await token_for(a2.base_url, "alice", PASSWORD))
        bob = Api(a2, await token_for(a2.base_url, "bob", PASSWORD))
        try:
            yield a2, fake, alice, bob
        finally:
            await alice.client.aclose()
            await bob.client.aclose()


async def carols_post(a2: LiveServer, fake: FakeMastodon, text: str, **extra: Any) -> dict[str, Any]:
    note = fake.note("carol", text, None, **extra)
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", note))).status_code == 202
    return note


async def status_of(api: Api, uri: str, path: str = "/api/v1/timelines/home") -> dict[str, Any]:
    async def shown() -> dict[str, Any] | None:
        return next((s for s in (await api.get(path)).json() if s["uri"] == uri), None)

    return await wait_for(shown, what=f"{uri} in {path}")


async def test_likes_boosts_and_answers_to_a_remote_post(
    world: tuple[LiveServer, FakeMastodon, Api, Api],
) -> None:
    a2, fake, alice, _ = world
    carol_id = await member_follows(a2, fake, "carol", alice.client.headers["Authorization"].split()[1])
    image = {"type": "Document", "mediaType": "image/png", "url": f"{fake.base}/media/tulp.png", "name": "Een tulp",
             "width": 640, "height": 480}  # fmt: skip
    note = await carols_post(a2, fake, "<p>Tulpen!</p>", attachment=[image], published="2026-11-28T11:00:00Z")
    status = await status_of(alice, note["id"])
    assert status["account"]["id"] == carol_id and status["media_attachments"][0]["description"] == "Een tulp"
    # An app, like a page, is given this instance's copies: the image and avatar come through the media proxy.
    assert status["media_attachments"][0]["url"].startswith(f"{a2.base_url}/media/proxy/image/")
    assert status["account"]["avatar"].startswith(f"{a2.base_url}/media/proxy/avatar/")
    fake.files["/media/tulp.png"] = (png_bytes((64, 48)), "image/png")
    served = await alice.client.get(status["media_attachments"][0]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"  # re-encoded, no alpha

    liked = await alice.post(f"/api/v1/statuses/{status['id']}/favourite")
    assert liked.status_code == 200 and liked.json()["favourited"] is True and liked.json()["favourites_count"] == 1
    like = await received_about(fake, "Like", note["id"])
    assert like["actor"] == a2.rt.urls.actor("alice") and like["to"] == [fake.uri("carol")]
    boosted = await alice.post(f"/api/v1/statuses/{status['id']}/reblog")
    assert boosted.json()["reblogged"] is True
    announce = await received_about(fake, "Announce", note["id"])
    assert announce["to"] == [PUBLIC]
    who = (await alice.get(f"/api/v1/statuses/{status['id']}/favourited_by")).json()
    assert [a["acct"] for a in who] == ["alice"]
    assert (await alice.post(f"/api/v1/statuses/{status['id']}/unfavourite")).json()["favourited"] is False
    undo = await received_about(fake, "Undo", note["id"])
    assert undo["object"]["id"] == like["id"]
    assert (await alice.post(f"/api/v1/statuses/{status['id']}/unreblog")).json()["reblogged"] is False

    # an answer is a reply to the remote object, as from the web's timeline
    answer = await alice.post("/api/v1/statuses", json={"status": "Prachtig", "in_reply_to_id": status["id"]})
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["in_reply_to_id"] == status["id"] and reply["in_reply_to_account_id"] == carol_id
    sent = (await received_about(fake, "Create", reply["uri"]))["object"]
    assert sent["inReplyTo"] == note["id"] and fake.uri("carol") in sent["cc"] and PUBLIC in sent["to"]
    # a thread of her own: her answer to her answer names carol too
    more = (await alice.post("/api/v1/statuses", json={"status": "En geel", "in_reply_to_id": reply["id"]})).json()
    assert more["in_reply_to_id"] == reply["id"]
    sent_more = (await received_about(fake, "Create", more["uri"]))["object"]
    assert sent_more["inReplyTo"] == reply["uri"] and fake.uri("carol") in sent_more["cc"]
    context = (await alice.get(f"/api/v1/statuses/{status['id']}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"], more["id"]]
    assert [s["id"] for s in (await alice.get(f"/api/v1/statuses/{reply['id']}/context")).json()["ancestors"]] == [
        status["id"]
    ]
    # a followers-only post of carol reaches alice's home, and no one else
    private = await carols_post(a2, fake, "<p>Voor volgers</p>", to=[f"{fake.uri('carol')}/followers"], cc=[])
    hidden = await status_of(alice, private["id"])
    assert hidden["visibility"] == "private"
    assert (await alice.post(f"/api/v1/statuses/{hidden['id']}/reblog")).status_code == 422  # would publish it
    async with a2.client() as anonymous:
        assert (await anonymous.get(f"/api/v1/statuses/{hidden['id']}")).status_code == 404
        public = (await anonymous.get("/api/v1/timelines/public")).json()
        assert status["id"] not in [s["id"] for s in public]  # what other servers sent: members only
    member_public = (await alice.get("/api/v1/timelines/public")).json()
    assert status["id"] in [s["id"] for s in member_public] and hidden["id"] not in [s["id"] for s in member_public]
    assert status["id"] not in [s["id"] for s in (await alice.get("/api/v1/timelines/public", local="1")).json()]


async def test_notifications(world: tuple[LiveServer, FakeMastodon, Api, Api]) -> None:
    a2, fake, alice, bob = world
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    post = await save_post(a2.rt, member, Draft("Vraag", "Wie weet het?"), publish=True)
    url = a2.rt.urls.post(post.id)
    await follows_member(a2, fake, "carol", "alice")
    remark = fake.note("carol", "<p>Ik!</p>", url)
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", remark))).status_code == 202
    like = {"id": f"{fake.base}/likes/1", "type": "Like", "actor": fake.uri("carol"), "object": url}
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), like)).status_code == 202

    async def three() -> list[dict[str, Any]] | None:
        found = (await alice.get("/api/v1/notifications")).json()
        return found if len(found) == 3 else None

    found = await wait_for(three, what="three notifications")
    assert [n["type"] for n in found] == ["favourite", "mention", "follow"]
    favourite, mention, follow = found
    assert favourite["status"]["url"] == url and favourite["account"]["acct"].startswith("carol@")
    assert mention["status"]["content"] == "<p>Ik!</p>" and mention["status"]["uri"] == remark["id"]
    assert "status" not in follow
    only = (await alice.get("/api/v1/notifications", **{"types[]": "favourite"})).json()
    assert [n["id"] for n in only] == [favourite["id"]]
    without = (await alice.get("/api/v1/notifications", **{"exclude_types[]": ["follow", "favourite"]})).json()
    assert [n["id"] for n in without] == [mention["id"]]
    page = await alice.get("/api/v1/notifications", limit=1)
    assert [n["id"] for n in page.json()] == [favourite["id"]] and "max_id=" in page.headers["link"]
    assert (await alice.get(f"/api/v1/notifications/{mention['id']}")).json()["type"] == "mention"
    # Mastodon 4.3's grouped notifications (what Phanpy reads), and the count after the marker
    grouped = (await alice.get("/api/v2/notifications")).json()
    assert [g["type"] for g in grouped["notification_groups"]] == ["favourite", "mention", "follow"]
    assert grouped["notification_groups"][1]["status_id"] == mention["status"]["id"]
    assert [a["acct"] for a in grouped["accounts"]] == [mention["account"]["acct"]]
    assert [s["id"] for s in grouped["statuses"]] == [favourite["status"]["id"], mention["status"]["id"]]
    assert (await alice.get("/api/v1/notifications/unread_count")).json() == {"count": 3}
    await alice.post("/api/v1/markers", json={"notifications": {"last_read_id": mention["id"]}})
    assert (await alice.get("/api/v1/notifications/unread_count")).json() == {"count": 1}
    assert (await bob.get(f"/api/v1/notifications/{mention['id']}")).status_code == 404  # not bob's
    assert (await bob.post(f"/api/v1/notifications/{mention['id']}/dismiss")).status_code == 404

    # a member's like counts on the post and tells its author
    liked = await bob.post(f"/api/v1/statuses/{mention['status']['in_reply_to_id']}/favourite")
    assert liked.status_code == 200 and liked.json()["favourites_count"] == 2  # carol's and bob's
    newest = (await alice.get("/api/v1/notifications")).json()[0]
    assert newest["type"] == "favourite" and newest["account"]["acct"] == "bob"
    who = (await alice.get(f"/api/v1/statuses/{liked.json()['id']}/favourited_by")).json()
    assert sorted(a["acct"].split("@")[0] for a in who) == ["bob", "carol"]
    assert (await bob.post(f"/api/v1/statuses/{liked.json()['id']}/unfavourite")).json()["favourites_count"] == 1
    assert len((await alice.get("/api/v1/notifications")).json()) == 3

    assert (await alice.post(f"/api/v1/notifications/{mention['id']}/dismiss")).status_code == 200
    assert [n["id"] for n in (await alice.get("/api/v1/notifications")).json()] == [favourite["id"], follow["id"]]
    assert (await alice.post("/api/v1/notifications/clear")).status_code == 200
    assert (await alice.get("/api/v1/notifications")).json() == []


async def test_what_is_not_public_stays_with_its_addressees(world: tuple[LiveServer, FakeMastodon, Api, Api]) -> None:
    a2, fake, alice, bob = world
    await follows_member(a2, fake, "carol", "bob")
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    post = await save_post(a2.rt, member, Draft("Open vraag", "Wat vinden jullie?"), publish=True)
    url = a2.rt.urls.post(post.id)
    remark = fake.note("carol", "<p>Goed idee</p>", url)
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", remark))).status_code == 202
    blog = await status_of(alice, url)

    async def carols_comment() -> dict[str, Any] | None:
        found = (await alice.get(f"/api/v1/statuses/{blog['id']}/context")).json()["descendants"]
        return found[0] if found else None

    comment = await wait_for(carols_comment, what="carol's comment")
    # bob answers carol directly: a comment for its addressees only
    answer = await bob.post("/api/v1/statuses", json={"status": "Alleen voor jou, Carol", "visibility": "direct",
                                                       "in_reply_to_id": comment["id"]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    direct = answer.json()
    assert direct["visibility"] == "direct"
    sent = await received_about(fake, "Create", direct["uri"])
    assert sent["object"]["to"] == [fake.uri("carol")] and sent["object"]["cc"] == []
    row = await activities.create_of(a2.rt.db, direct["uri"])
    assert row is not None and not row.listed
    # no one else sees it: not the web page, not the thread for anyone, not the outbox, not a fetch
    async with a2.client() as anonymous:
        thread = (await anonymous.get(f"/api/v1/statuses/{blog['id']}/context")).json()["descendants"]
        assert [s["id"] for s in thread] == [comment["id"]]
        assert (await anonymous.get(f"/api/v1/statuses/{direct['id']}")).status_code == 404
        fetched = await anonymous.get(direct["uri"], headers={"Accept": AP})
        assert fetched.status_code == 404
        outbox = (await anonymous.get(a2.rt.urls.outbox("bob") + "?page=1", headers={"Accept": AP})).json()
        assert outbox["orderedItems"] == []
    async with WebUser(a2.base_url) as web:
        assert "Alleen voor jou" not in (await web.get(url.removeprefix(a2.base_url))).text
    # its author, and the author of the post it is under (who was told of it), see it
    mine = (await bob.get(f"/api/v1/statuses/{blog['id']}/context")).json()["descendants"]
    assert [s["id"] for s in mine] == [comment["id"], direct["id"]]
    assert (await alice.get(f"/api/v1/statuses/{direct['id']}")).status_code == 200
    told = (await alice.get("/api/v1/notifications", **{"types[]": "mention"})).json()
    assert told[0]["status"]["id"] == direct["id"] and told[0]["status"]["visibility"] == "direct"
    stored = await comments.by_ap_id(a2.rt.db, direct["uri"])
    assert stored is not None and await comments.by_id(a2.rt.db, stored.id, a2.rt.urls) is None

    # a followers-only status of bob's own: to his followers, not a post, not shown to others
    private = await bob.post("/api/v1/statuses", data={"status": "Onder ons", "visibility": "private"})
    assert private.status_code == 200 and private.json()["visibility"] == "private"
    note = (await received_about(fake, "Create", private.json()["uri"]))["object"]
    assert note["to"] == [a2.rt.urls.followers("bob")] and PUBLIC not in note["cc"]
    bob_member = await members.by_username(a2.rt.db, "bob")
    assert bob_member is not None and await posts.count_live(a2.rt.db, bob_member.id) == 0
    async with a2.client() as anonymous:
        listed = (await anonymous.get(f"/api/v1/accounts/{bob_member.id}/statuses")).json()
        assert private.json()["id"] not in [s["id"] for s in listed]
    own = (await bob.get(f"/api/v1/accounts/{bob_member.id}/statuses")).json()
    assert private.json()["id"] in [s["id"] for s in own]
    assert (await alice.get(f"/api/v1/statuses/{private.json()['id']}")).status_code == 404
    # a direct status needs someone to go to: here it starts as a reply
    assert (await bob.post("/api/v1/statuses", data={"status": "Hallo", "visibility": "direct"})).status_code == 422


async def test_search(world: tuple[LiveServer, FakeMastodon, Api, Api]) -> None:
    a2, fake, alice, _ = world
    created = await alice.post("/api/v1/statuses", data={"status": "Over de #omgevingswet gesproken"})
    assert created.status_code == 200
    found = (await alice.get("/api/v2/search", q="omgevingswet")).json()
    assert [s["id"] for s in found["statuses"]] == [created.json()["id"]]
    assert [t["name"] for t in found["hashtags"]] == ["omgevingswet"]
    assert (await alice.get("/api/v2/search", q="omgev", type="hashtags")).json()["hashtags"][0]["name"] == (
        "omgevingswet"
    )
    assert [a["acct"] for a in (await alice.get("/api/v2/search", q="ali", type="accounts")).json()["accounts"]] == [
        "alice"
    ]
    # a post on another server, by its address: looked up there, then liked and answered like any
    note = fake.note("carol", "<p>Ver weg</p>", None)
    assert (await alice.get("/api/v2/search", q=note["id"])).json()["statuses"] == []  # not without resolve
    resolved = (await alice.get("/api/v2/search", q=note["id"], resolve="true")).json()["statuses"]
    assert [s["uri"] for s in resolved] == [note["id"]] and resolved[0]["content"] == "<p>Ver weg</p>"
    assert (await alice.post(f"/api/v1/statuses/{resolved[0]['id']}/favourite")).status_code == 200
    await received_about(fake, "Like", note["id"])
    handle = f"carol@{fake.base.removeprefix('http://')}"
    accounts = (await alice.get("/api/v2/search", q=fake.uri("carol"), resolve="true")).json()["accounts"]
    assert [a["acct"] for a in accounts] == [handle]
    async with a2.client() as anonymous:
        other = fake.note("carol", "<p>Anoniem</p>", None)
        assert (await anonymous.get("/api/v2/search", params={"q": other["id"], "resolve": "true"})).json()[
            "statuses"
        ] == []  # looking things up elsewhere is for members
    assert (await alice.client.get("/api/v2/search", params={"q": "x", "type": "groups"})).status_code == 422


async def test_a_direct_message_from_elsewhere_is_read_and_answered(
    world: tuple[LiveServer, FakeMastodon, Api, Api],
) -> None:
    a2, fake, alice, bob = world
    alice_uri = a2.rt.urls.actor("alice")
    message = fake.note("carol", "<p>Heb je even?</p>", None, mention=alice_uri, to=[alice_uri], cc=[])
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", message))).status_code == 202

    async def told() -> dict[str, Any] | None:
        found = (await alice.get("/api/v1/notifications", **{"types[]": "mention"})).json()
        return found[0] if found else None

    notice = await wait_for(told, what="the direct message's notification")
    status = notice["status"]
    assert status["visibility"] == "direct" and status["content"] == "<p>Heb je even?</p>"
    assert status["uri"] == message["id"] and status["account"]["acct"].startswith("carol@")
    # known only from the notification: alice's alone to open
    assert (await alice.get(f"/api/v1/statuses/{status['id']}")).json()["content"] == status["content"]
    assert (await bob.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
    async with a2.client() as anonymous:
        assert (await anonymous.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
    answer = await alice.post("/api/v1/statuses", json={"status": "Zeker", "visibility": "direct",
                                                         "in_reply_to_id": status["id"]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    sent = (await received_about(fake, "Create", answer.json()["uri"]))["object"]
    assert sent["inReplyTo"] == message["id"] and sent["to"] == [fake.uri("carol")] and sent["cc"] == []
    assert answer.json()["visibility"] == "direct"
    assert (await bob.get(f"/api/v1/statuses/{answer.json()['id']}")).status_code == 404
