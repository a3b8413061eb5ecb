"""Events over federation, through real HTTP with a Mastodon-shaped remote (signed with httpsig) and a
second instance: the Event as delivered and served, Update and Delete, answers (Join/Leave as
Mobilizon sends them; Accept/TentativeAccept/Reject of the Event as Friendica does; Undo), forged
answers refused, remote events on the timeline, and replies to an event becoming its comments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from event_samples import DASH, MOBILIZON_CONTEXT, utc
from fake_mastodon import PUBLIC, FakeMastodon, received, running
from fediverse_a2.models import GOING, MAYBE, NOT_GOING
from fediverse_a2.services.events import EventDraft, add_event, cancel_event, require_event, save_event
from fediverse_a2.services.social import follow
from fediverse_a2.store import comments, events, members
from helpers import AP, LiveServer, cli, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    a2: LiveServer
    fake: FakeMastodon  # carol (a Mobilizon-like account) and dave (a Friendica-like one) follow alice

    @property
    def alice(self) -> str:
        return f"{self.a2.base_url}/users/alice"

    @property
    def inbox(self) -> str:
        return f"{self.a2.base_url}/inbox"


async def handled(a2: LiveServer, activity_id: str) -> str:
    """Wait until the inbox worker handled an activity; its final state (done or failed)."""

    async def state() -> str | None:
        value = await a2.rt.db.fetchval("SELECT state FROM inbox_items WHERE activity_id = ?", (activity_id,))
        return None if value in (None, "queued") else str(value)

    result: str = await wait_for(state, what=f"{activity_id} handled")
    return result


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[World]:
    async with live_server(tmp_path / "a2", run_workers=True, database=database_url) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mobilizon")
        fake.add_user("dave", "Dave Friendica")
        async with running(fake):
            for n, name in enumerate(("carol", "dave")):
                follow_activity = {"id": f"{fake.base}/follows/{n}", "type": "Follow", "actor": fake.uri(name),
                                   "object": f"{a2.base_url}/users/alice"}  # fmt: skip
                assert (await fake.send(name, f"{a2.base_url}/users/alice/inbox", follow_activity)).status_code == 202
            await received(fake, "Accept", 2)
            yield World(a2, fake)


async def _event(world: World, **kw: str) -> str:
    return await add_event(
        world.a2.rt, "alice", kw.get("title", "Dag van de Ambtenaar 2.0"), "2031-06-14T10:00", "2031-06-14T17:00",
        location=kw.get("location", "Jaarbeurs"), body="Het jaarlijkse **netwerkfeest**.",
    )  # fmt: skip


async def test_event_goes_out_as_an_as2_event_and_is_served_at_its_url(world: World) -> None:
    url = await _event(world)
    (create,) = await received(world.fake, "Create")  # one shared inbox for both followers
    event = create["object"]
    assert create["actor"] == world.alice and create["_key_id"] == f"{world.alice}#main-key"
    assert event["type"] == "Event" and event["id"] == url and event["url"] == url
    assert event["name"] == "Dag van de Ambtenaar 2.0"
    assert "<strong>netwerkfeest</strong>" in event["content"]
    # 10:00-17:00 summer time in Amsterdam is 08:00-15:00 UTC.
    assert event["startTime"] == "2031-06-14T08:00:00Z" and event["endTime"] == "2031-06-14T15:00:00Z"
    assert event["timezone"] == "Europe/Amsterdam"
    assert event["location"] == {"type": "Place", "name": "Jaarbeurs"}
    assert event["attributedTo"] == world.alice and event["actor"] == world.alice
    assert event["to"] == [PUBLIC] and event["cc"] == [f"{world.alice}/followers"]
    assert event["joinMode"] == "free" and event["participantCount"] == 0
    terms = create["@context"][-1]
    assert terms["address"]["@id"] == "schema:address" and terms["joinMode"]["@id"] == "mz:joinMode"
    # The same document, by content negotiation; a browser gets the page.
    async with httpx.AsyncClient(timeout=10) as client:
        served = await client.get(url, headers={"Accept": AP})
        page = await client.get(url, headers={"Accept": "text/html"})
    assert served.status_code == 200 and served.headers["content-type"].startswith(AP)
    doc = served.json()
    assert doc["type"] == "Event" and doc["startTime"] == event["startTime"] and doc["id"] == url
    assert doc["replies"]["id"] == f"{url}/replies"
    assert page.status_code == 200 and "<h1" in page.text and "Dag van de Ambtenaar 2.0" in page.text
    assert f"zaterdag 14 juni 2031, 10.00{DASH}17.00" in page.text


async def test_edit_sends_update_and_cancel_sends_delete(world: World) -> None:
    url = await _event(world)
    await received(world.fake, "Create")
    # erin answered the event from elsewhere without following alice: she hears of changes too.
    elsewhere = FakeMastodon()
    elsewhere.add_user("erin", "Erin Elders")
    async with running(elsewhere):
        join = {"id": f"{elsewhere.base}/join/1", "type": "Join", "actor": elsewhere.uri("erin"), "object": url}
        assert (await elsewhere.send("erin", world.inbox, join)).status_code == 202
        await received(elsewhere, "Accept")
        await _edit_and_cancel(world, url)
        (update,) = await received(elsewhere, "Update")
        (delete,) = await received(elsewhere, "Delete")
    assert update["object"]["id"] == url and delete["object"]["id"] == url
    assert not elsewhere.received_of("Create")


async def _edit_and_cancel(world: World, url: str) -> None:
    rt = world.a2.rt
    alice = await members.by_username(rt.db, "alice")
    assert alice is not None
    event = await require_event(rt, url)
    draft = EventDraft(
        "Dag van de Ambtenaar 2.0 (nieuwe zaal)", "2031-06-14T11:00", "2031-06-14T18:00", "Nu in zaal 2.",
        "Jaarbeurs", "Jaarbeursplein 6, 3521 AL Utrecht", "https://video.example.nl/dag",
    )  # fmt: skip
    await save_event(rt, alice, draft, event=event)
    (update,) = await received(world.fake, "Update")
    changed = update["object"]
    assert changed["id"] == url and "updated" in changed
    assert changed["name"] == "Dag van de Ambtenaar 2.0 (nieuwe zaal)"
    assert changed["startTime"] == "2031-06-14T09:00:00Z"
    assert changed["location"] == {
        "type": "Place",
        "name": "Jaarbeurs",
        "address": {"type": "PostalAddress", "streetAddress": "Jaarbeursplein 6, 3521 AL Utrecht"},
    }
    assert changed["attachment"] == [
        {"type": "Link", "href": "https://video.example.nl/dag", "mediaType": "text/html", "name": "Website"}
    ]
    assert changed["isOnline"] is True

    await cancel_event(rt, alice, await require_event(rt, url))
    (delete,) = await received(world.fake, "Delete")
    assert delete["object"] == {"id": url, "type": "Tombstone"} and delete["actor"] == world.alice
    async with httpx.AsyncClient(timeout=10) as client:
        gone = await client.get(url, headers={"Accept": AP})
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"


async def test_join_and_leave_as_mobilizon_sends_them(world: World) -> None:
    url = await _event(world)
    event_id = int(url.rsplit("/", 1)[1])
    carol = world.fake.uri("carol")
    join = {"id": f"{world.fake.base}/join/1", "type": "Join", "actor": carol, "object": url,
            "participationMessage": "Ik kom graag"}  # fmt: skip
    assert (await world.fake.send("carol", world.inbox, {"@context": MOBILIZON_CONTEXT, **join})).status_code == 202
    # The organiser accepts the Join, as Mobilizon waits for before it shows the participation.
    (accept,) = [a for a in await received(world.fake, "Accept", 3) if a["object"].get("type") == "Join"]
    assert accept["actor"] == world.alice and accept["object"]["id"] == join["id"]
    assert accept["object"]["actor"] == carol and accept["object"]["object"] == url and accept["to"] == [carol]
    assert await events.answer_of(world.a2.rt.db, event_id, carol) == GOING
    async with WebUser(world.a2.base_url) as web:
        page = (await web.get(url)).text
    going = page[page.index("Aanwezig (1)") : page.index("Misschien (0)")]
    assert "Carol Mobilizon" in going and "@carol@" in going

    leave = {"id": f"{world.fake.base}/leave/1", "type": "Leave", "actor": carol, "object": url}
    assert (await world.fake.send("carol", world.inbox, leave)).status_code == 202
    assert await handled(world.a2, leave["id"]) == "done"
    assert await events.answer_of(world.a2.rt.db, event_id, carol) == NOT_GOING


async def test_accept_tentative_accept_reject_and_undo(world: World) -> None:
    url = await _event(world)
    event_id = int(url.rsplit("/", 1)[1])
    dave = world.fake.uri("dave")
    seen = []
    for n, (kind, expected) in enumerate((("Accept", GOING), ("TentativeAccept", MAYBE), ("Reject", NOT_GOING))):
        # Friendica answers with the Event itself as the object (embedded, or by id).
        obj: Any = {"id": url, "type": "Event"} if n % 2 else url
        answer = {"id": f"{world.fake.base}/answers/{n}", "type": kind, "actor": dave, "object": obj}
        assert (await world.fake.send("dave", world.inbox, answer)).status_code == 202
        assert await handled(world.a2, answer["id"]) == "done"
        seen.append(await events.answer_of(world.a2.rt.db, event_id, dave))
        assert seen[-1] == expected
    assert await events.count_by_status(world.a2.rt.db, event_id) == {GOING: 0, MAYBE: 0, NOT_GOING: 1}
    # None of these is a Join: no Accept{Join} went back.
    assert not [a for a in world.fake.received_of("Accept") if a["object"].get("type") == "Join"]
    rejected = {"id": f"{world.fake.base}/answers/2", "type": "Reject", "actor": dave, "object": url}
    undo = {"id": f"{world.fake.base}/answers/2/undo", "type": "Undo", "actor": dave, "object": rejected}
    assert (await world.fake.send("dave", world.inbox, undo)).status_code == 202
    assert await handled(world.a2, undo["id"]) == "done"
    assert await events.answer_of(world.a2.rt.db, event_id, dave) is None
    # The served Event counts who is going.
    join = {"id": f"{world.fake.base}/join/9", "type": "Join", "actor": world.fake.uri("carol"), "object": url}
    assert (await world.fake.send("carol", world.inbox, join)).status_code == 202
    await handled(world.a2, join["id"])
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url, headers={"Accept": AP})).json()["participantCount"] == 1


async def test_forged_and_misdirected_answers_change_nothing(world: World) -> None:
    url = await _event(world)
    event_id = int(url.rsplit("/", 1)[1])
    carol, dave = world.fake.uri("carol"), world.fake.uri("dave")
    accept = {"id": f"{world.fake.base}/answers/c1", "type": "Accept", "actor": carol, "object": url}
    async with httpx.AsyncClient(timeout=10) as client:
        unsigned = await client.post(world.inbox, json=accept, headers={"Content-Type": AP})
    assert unsigned.status_code == 401
    # Signed by dave's key, claiming to be carol.
    body = httpx.Request("POST", world.inbox, json=accept).content
    headers = world.fake.signed_headers("dave", "POST", world.inbox, body)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.post(world.inbox, content=body, headers=headers)).status_code == 401
    # An activity id on another host than its actor's.
    elsewhere = {**accept, "id": "http://127.0.0.2:9/answers/c1"}
    assert (await world.fake.send("carol", world.inbox, elsewhere)).status_code == 400
    assert await events.answer_of(world.a2.rt.db, event_id, carol) is None

    # carol's real answer; dave may not undo it.
    assert (await world.fake.send("carol", world.inbox, accept)).status_code == 202
    assert await handled(world.a2, accept["id"]) == "done"
    undo = {"id": f"{world.fake.base}/undo/d1", "type": "Undo", "actor": dave, "object": accept["id"]}
    assert (await world.fake.send("dave", world.inbox, undo)).status_code == 403
    undo_embedded = {**undo, "id": f"{world.fake.base}/undo/d2", "object": accept}
    assert (await world.fake.send("dave", world.inbox, undo_embedded)).status_code == 403
    assert await events.answer_of(world.a2.rt.db, event_id, carol) == GOING

    # An answer to something that is not a live event of ours: stored nowhere.
    alice = await members.by_username(world.a2.rt.db, "alice")
    assert alice is not None
    other = await _event(world, title="Afgezegd")
    await cancel_event(world.a2.rt, alice, await require_event(world.a2.rt, other))
    over = await add_event(world.a2.rt, "alice", "Al geweest", "2020-05-01T10:00", "2020-05-01T11:00")
    targets = (other, over, f"{world.a2.base_url}/events/999999", f"{world.a2.base_url}/posts/1")
    for n, target in enumerate(targets):
        join = {"id": f"{world.fake.base}/join/x{n}", "type": "Join", "actor": dave, "object": target}
        assert (await world.fake.send("dave", world.inbox, join)).status_code == 202
        assert await handled(world.a2, join["id"]) == "done"
    count = await world.a2.rt.db.fetchval("SELECT COUNT(*) FROM event_rsvps WHERE actor_uri = ?", (dave,))
    assert count == 0
    assert not [a for a in world.fake.received_of("Accept") if a["object"].get("type") == "Join"]


async def test_a_reply_to_an_event_becomes_its_comment(world: World) -> None:
    url = await _event(world)
    event_id = int(url.rsplit("/", 1)[1])
    reply = world.fake.note("carol", "<p>Is er ook een livestream?</p>", url)
    assert (await world.fake.send("carol", world.inbox, world.fake.create("carol", reply))).status_code == 202

    async def stored() -> list:
        return await comments.list_for_post(world.a2.rt.db, event_id, world.a2.rt.policy, world.a2.rt.urls)

    [comment] = await wait_for(stored, what="the reply stored as the event's comment")
    assert comment.ap_id == reply["id"]
    async with WebUser(world.a2.base_url) as web:
        page = (await web.get(url)).text
    assert "Is er ook een livestream?" in page and "Reactie van Carol Mobilizon" in page
    async with httpx.AsyncClient(timeout=10) as client:
        doc = (await client.get(url, headers={"Accept": AP})).json()
        collection = (await client.get(f"{url}/replies?page=1", headers={"Accept": AP})).json()
        wrong = await client.get(f"{world.a2.base_url}/posts/{event_id}/replies?page=1", headers={"Accept": AP})
    assert doc["replies"]["totalItems"] == 1 and doc["replies"]["first"]["orderedItems"] == [reply["id"]]
    assert collection["partOf"] == f"{url}/replies" and collection["orderedItems"] == [reply["id"]]
    assert wrong.status_code == 404
    # A reply addressed to /posts/ID of the event is not taken for one to a blog post.
    stray = world.fake.note("carol", "<p>Verdwaald</p>", f"{world.a2.base_url}/posts/{event_id}")
    create = world.fake.create("carol", stray)
    assert (await world.fake.send("carol", world.inbox, create)).status_code == 202
    await handled(world.a2, create["id"])
    assert len(await stored()) == 1


async def test_remote_events_from_followed_accounts_are_on_the_timeline(world: World) -> None:
    a2, fake = world.a2, world.fake
    await follow(a2.rt, a2.workers.directory, "alice", fake.uri("carol"))
    (sent,) = await received(fake, "Follow")
    accept = {"id": f"{fake.base}/accepts/1", "type": "Accept", "actor": fake.uri("carol"), "object": sent}
    assert (await fake.send("carol", f"{world.alice}/inbox", accept)).status_code == 202
    await handled(a2, accept["id"])
    carol = fake.uri("carol")
    mobilizon = {
        "id": f"{fake.base}/events/252d5816", "type": "Event", "actor": carol, "attributedTo": carol,
        "name": "Mobilizon Launching Party", "content": "<p>Mobilizon is now federated!</p>",
        "startTime": "2031-12-18T13:00:00Z", "endTime": "2031-12-18T14:00:00Z", "joinMode": "free",
        "location": {"type": "Place", "name": "Cour du Château", "id": f"{fake.base}/address/1",
                     "address": {"type": "PostalAddress", "addressCountry": "France", "addressLocality": "Nantes",
                                 "postalCode": None, "streetAddress": " "}},
        "url": f"{fake.base}/events/252d5816", "to": [PUBLIC], "cc": [], "published": "2031-11-01T10:00:00Z",
    }  # fmt: skip
    gancio = {
        "id": f"{fake.base}/federation/m/7", "type": "Event", "attributedTo": carol, "name": "Repair café",
        "content": "<p>Neem je kapotte spullen mee</p>", "startTime": "2031-12-20T10:00:00+01:00",
        "endTime": "2031-12-20T13:00:00+01:00", "to": [PUBLIC], "published": "2031-11-02T10:00:00Z",
        "location": {"name": "Buurthuis", "address": "Dorpsstraat 1, Utrecht"}, "url": f"{fake.base}/event/7", "cc": [],
    }  # fmt: skip
    create = {**fake.create("carol", mobilizon), "@context": MOBILIZON_CONTEXT}
    assert (await fake.send("carol", f"{world.alice}/inbox", create)).status_code == 202
    assert (await fake.send("carol", f"{world.alice}/inbox", fake.create("carol", gancio))).status_code == 202
    assert await handled(a2, create["id"]) == "done"
    assert await handled(a2, f"{gancio['id']}/activity") == "done"
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = (await web.get("/timeline")).text
    assert "Mobilizon Launching Party" in page and "Mobilizon is now federated!" in page
    # 13:00 UTC in December is 14:00 in Amsterdam.
    assert f"donderdag 18 december 2031, 14.00{DASH}15.00" in page
    assert "Cour du Château, Nantes, France" in page
    assert "Repair café" in page and f"zaterdag 20 december 2031, 10.00{DASH}13.00" in page
    assert "Buurthuis, Dorpsstraat 1, Utrecht" in page
    # An Update (with `updated`) moves it.
    moved = {**mobilizon, "startTime": "2031-12-18T15:00:00Z", "endTime": "2031-12-18T16:00:00Z",
             "updated": "2031-11-05T10:00:00Z"}  # fmt: skip
    update = {"@context": MOBILIZON_CONTEXT, "id": f"{mobilizon['id']}#u1", "type": "Update", "actor": carol,
              "object": moved}  # fmt: skip
    assert (await fake.send("carol", f"{world.alice}/inbox", update)).status_code == 202
    assert await handled(a2, update["id"]) == "done"
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = (await web.get("/timeline")).text
    assert f"donderdag 18 december 2031, 16.00{DASH}17.00" in page and f"14.00{DASH}15.00" not in page


async def test_two_instances_an_event_reaches_the_follower_and_its_reply_comes_back(
    tmp_path: Path, database_factory: Any
) -> None:
    async with (
        live_server(tmp_path / "a", run_workers=True, database=await database_factory()) as a,
        live_server(tmp_path / "b", run_workers=True, database=await database_factory()) as b,
    ):
        await member_with_password(a, "alice", "Alice van A", PASSWORD)
        await member_with_password(b, "bob", "Bob van B", PASSWORD)
        await follow(b.rt, b.workers.directory, "bob", f"{a.base_url}/users/alice")

        async def accepted() -> bool:
            return bool(await b.rt.db.fetchval("SELECT 1 FROM following WHERE state = 'accepted'"))

        await wait_for(accepted, what="bob's follow accepted")
        url = await add_event(
            a.rt, "alice", "Kennisdag open data", "2031-03-30T01:30", "2031-03-30T04:00", location="Stadhuis"
        )

        async def arrived() -> Any:
            return await b.rt.db.fetchone("SELECT name, starts_at, ends_at, location FROM remote_posts")

        row = await wait_for(arrived, what="the Event at instance B")
        # Across the switch to summer time: 01:30 CET to 04:00 CEST is 00:30 to 02:00 UTC.
        assert row["name"] == "Kennisdag open data" and row["location"] == "Stadhuis"
        assert (row["starts_at"], row["ends_at"]) == (utc(2031, 3, 30, 0, 30), utc(2031, 3, 30, 2, 0))
        listing = cli(b.config_path, "timeline", "bob").stdout
        assert (
            f"event: Kennisdag open data · Sunday 30 March 2031, 01:30{DASH}04:00 (Europe/Amsterdam) · Stadhuis"
            in listing
        )
        async with WebUser(b.base_url) as web:
            await web.login("bob", PASSWORD)
            page = (await web.get("/timeline")).text
            assert "Kennisdag open data" in page and f"zondag 30 maart 2031, 01.30{DASH}04.00" in page
            r = await web.submit(f"/timeline/reply?to={url}", "/timeline/reply", {"to": url, "body": "Ik kom ook!"})
            assert r.status_code == 303
        event_id = int(url.rsplit("/", 1)[1])

        async def commented() -> list:
            return await comments.list_for_post(a.rt.db, event_id, a.rt.policy, a.rt.urls)

        [comment] = await wait_for(commented, what="bob's reply as a comment under the event at A")
        assert "Ik kom ook!" in comment.content_html and comment.author.name == "Bob van B"
