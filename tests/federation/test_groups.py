"""Groups (FEP-1b12) end to end: the network group @netwerk and topic groups, over real HTTP.

Remote followers are Mastodon-shaped fakes (one server per follower, so what each receives is
its own); the topic group test adds a second instance of this service that follows a group.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.activitypub import build
from fediverse_a2.services.moderation import set_domain
from fediverse_a2.store import groups as group_store
from helpers import LiveServer, cli, last_line, live_server, wait_for
from pg import DatabaseFactory
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
AP = "application/activity+json"


async def _get(url: str, accept: str = AP) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url, headers={"Accept": accept})


async def _follow(fake: FakeMastodon, name: str, target: str, inbox: str) -> dict[str, Any]:
    follow = {"id": fake.new_id("follows"), "type": "Follow", "actor": fake.uri(name), "object": target}
    assert (await fake.send(name, inbox, follow)).status_code == 202
    return follow


async def _got(fake: FakeMastodon, test: Any, what: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        return next((a for a in fake.received if test(a)), None)

    found: dict[str, Any] = await wait_for(check, what=what)
    return found


async def _publish(web: WebUser, fields: dict[str, str]) -> str:
    r = await web.submit("/posts/new", "/posts/new", {"action": "publish", **fields})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


@pytest.fixture
async def a2(tmp_path: Path, database_factory: DatabaseFactory) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", run_workers=True, database=await database_factory()) as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        yield server


async def test_the_network_group_announces_every_members_post(a2: LiveServer) -> None:
    netwerk = f"{a2.base_url}/users/netwerk"
    doc = (await _get(netwerk)).json()
    assert doc["type"] == "Group" and doc["preferredUsername"] == "netwerk"
    assert doc["name"] == a2.rt.config.instance.name
    assert doc["inbox"] == f"{netwerk}/inbox" and doc["followers"] == f"{netwerk}/followers"
    assert doc["publicKey"]["owner"] == netwerk and "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    finger = await _get(f"{a2.base_url}/.well-known/webfinger?resource=acct:netwerk@{a2.rt.urls.host}")
    assert {"rel": "self", "type": AP, "href": netwerk} in finger.json()["links"]
    browser = await _get(netwerk, "text/html")
    assert browser.status_code == 303 and browser.headers["location"] == f"{a2.base_url}/groups/netwerk"

    # carol (alone on her server) follows only the group; dave (on his) follows alice and the group.
    only_group, both = FakeMastodon(), FakeMastodon()
    only_group.add_user("carol", "Carol")
    both.add_user("dave", "Dave")
    async with running(only_group), running(both):
        carol_follow = await _follow(only_group, "carol", netwerk, f"{netwerk}/inbox")
        await _follow(both, "dave", netwerk, f"{netwerk}/inbox")
        await _follow(both, "dave", f"{a2.base_url}/users/alice", f"{a2.base_url}/users/alice/inbox")
        accept = await _got(only_group, lambda a: a["type"] == "Accept", "the group's Accept")
        assert accept["actor"] == netwerk and accept["object"]["id"] == carol_follow["id"]
        assert accept["_key_id"] == f"{netwerk}#main-key"  # signed with the group's own key
        async with WebUser(a2.base_url) as web:
            await web.login("alice", PASSWORD)
            url = await _publish(web, {"title": "Open data", "body": "Hallo allemaal"})

            def is_boost(a: dict[str, Any]) -> bool:
                return a["type"] == "Announce" and a["object"] == url

            boost = await _got(only_group, is_boost, "the group's Announce at carol's")
            assert boost["actor"] == netwerk and build.PUBLIC in boost["to"]
            assert f"{netwerk}/followers" in boost["cc"] and boost["_key_id"] == f"{netwerk}#main-key"
            await _got(both, is_boost, "the group's Announce at dave's")
            create = await _got(both, lambda a: a["type"] == "Create", "alice's own Create at dave's")
            assert create["actor"] == f"{a2.base_url}/users/alice" and create["object"]["id"] == url
            assert not only_group.received_of("Create")  # a follower of the group only gets no Create

            # An edit: the author's Update and the group's Announce{Update} reach the group's followers.
            path = url.removeprefix(a2.base_url)
            edited = {"title": "Open data!", "body": "Nieuw", "action": "publish"}
            r = await web.submit(f"{path}/edit", f"{path}/edit", edited)
            assert r.status_code == 303
            passed_on = await _got(
                only_group,
                lambda a: a["type"] == "Announce" and isinstance(a["object"], dict) and a["object"]["type"] == "Update",
                "the group's Announce{Update}",
            )
            assert passed_on["actor"] == netwerk and passed_on["object"]["object"]["id"] == url
            update = await _got(only_group, lambda a: a["type"] == "Update", "alice's Update at carol's")
            assert update["actor"] == f"{a2.base_url}/users/alice" and "Nieuw" in update["object"]["content"]
            await _got(both, lambda a: a["type"] == "Update", "alice's Update at dave's")
            assert len(both.received_of("Update")) == 1  # one inbox, one delivery: dave follows both

            # The group page lists the post; a delete is announced too, and the page drops it.
            page = (await web.get("/groups/netwerk")).text
            assert "Open data!" in page and f"@netwerk@{a2.rt.urls.host}" in page
            assert (await web.submit(path, f"{path}/delete", {})).status_code == 303
            gone = await _got(
                only_group,
                lambda a: a["type"] == "Announce" and isinstance(a["object"], dict) and a["object"]["type"] == "Delete",
                "the group's Announce{Delete}",
            )
            assert gone["object"]["object"]["id"] == url
            await _got(only_group, lambda a: a["type"] == "Delete", "alice's Delete at carol's")
            assert "Open data!" not in (await web.get("/groups/netwerk")).text

            # Undo{Follow}: carol is no longer a follower and gets nothing more.
            undo = {"id": only_group.new_id("undos"), "type": "Undo", "actor": only_group.uri("carol"),
                    "object": carol_follow}  # fmt: skip
            assert (await only_group.send("carol", f"{netwerk}/inbox", undo)).status_code == 202

            async def unfollowed() -> bool:
                items = (await _get(f"{netwerk}/followers?page=1")).json()["orderedItems"]
                return only_group.uri("carol") not in items and both.uri("dave") in items

            await wait_for(unfollowed, what="the Undo{Follow} of the group")
            later = await _publish(web, {"title": "Later", "body": "Nog een"})
            await _got(both, lambda a: a["type"] == "Announce" and a["object"] == later, "the later Announce")
            assert not [a for a in only_group.received if a.get("object") == later]
    assert "failed" not in last_line(cli(a2.config_path, "queue"))


async def test_topic_groups_across_two_instances(tmp_path: Path, database_factory: DatabaseFactory) -> None:
    async with (
        live_server(tmp_path / "a", run_workers=True, database=await database_factory()) as a,
        live_server(tmp_path / "b", run_workers=True, database=await database_factory()) as b,
    ):
        await member_with_password(a, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(a, "mia", "Mia Moderator", PASSWORD)
        await member_with_password(b, "bob", "Bob van B", PASSWORD)
        out = cli(a.config_path, "group", "add", "wonen", "--name", "Wonen en ruimte").stdout
        assert f"@wonen@{a.rt.urls.host}" in out
        cli(a.config_path, "group", "add", "open", "--name", "Open groep", "--rule", "anyone")
        cli(a.config_path, "group", "add", "intern", "--name", "Intern", "--rule", "members")
        listed = cli(a.config_path, "group", "list").stdout
        assert "wonen\tWonen en ruimte\tfollowers" in listed and "open\tOpen groep\tanyone" in listed
        assert "netwerk\t" in listed and "intern\tIntern\tmembers" in listed
        assert "mia now moderates group wonen" in cli(a.config_path, "group", "moderator", "wonen", "mia").stdout
        assert cli(a.config_path, "group", "add", "alice", "--name", "X", check=False).returncode != 0
        wonen = f"{a.base_url}/users/wonen"
        assert (await _get(wonen)).json()["type"] == "Group"

        # bob on instance B follows the topic group, by handle.
        # (in a thread: the CLI talks to both servers, which run in this event loop)
        await asyncio.to_thread(cli, b.config_path, "follow", "bob", f"@wonen@{a.rt.urls.host}")
        bob = f"{b.base_url}/users/bob"

        async def followed() -> bool:
            return bob in (await _get(f"{wonen}/followers?page=1")).json()["orderedItems"]

        await wait_for(followed, what="bob to follow the group")

        async def at_b(object_id: str) -> bool:
            rows = await b.rt.db.fetchall("SELECT body FROM inbox_items WHERE actor_uri = ?", (wonen,))
            return any(orjson.loads(r["body"]).get("object") == object_id for r in rows)

        # alice writes in the group: the Note names the group, and the group announces it to bob.
        async with WebUser(a.base_url) as web:
            await web.login("alice", PASSWORD)
            form = (await web.get("/posts/new")).text
            assert 'name="group"' in form and 'value="wonen"' in form and 'value="netwerk"' not in form
            url = await _publish(web, {"title": "Woningbouw", "body": "Wie doet mee?", "group": "wonen"})
            note = (await _get(url)).json()
            assert wonen in note["cc"] and note["audience"] == wonen
            await wait_for(lambda: at_b(url), what="the group's Announce at B")
            page = (await web.get(f"{url.removeprefix(a.base_url)}/edit")).text
            assert '<option value="wonen" selected>' in page

        fake, blocked = FakeMastodon(), FakeMastodon(host="127.0.0.5")
        fake.add_user("carol", "Carol")  # follows the group
        fake.add_user("erin", "Erin")  # does not
        blocked.add_user("mallory", "Mallory")
        async with running(fake), running(blocked):
            await _follow(fake, "carol", wonen, f"{wonen}/inbox")
            await _follow(blocked, "mallory", wonen, f"{wonen}/inbox")
            await _got(fake, lambda x: x["type"] == "Accept", "the Accept of carol's follow")
            await _got(blocked, lambda x: x["type"] == "Accept", "the Accept of mallory's follow")
            await set_domain(a.rt, "block", "127.0.0.5")

            async def send(server: FakeMastodon, name: str, to_group: str, *, mention: bool = False) -> str:
                group = f"{a.base_url}/users/{to_group}"
                kw = {"cc": [f"{server.uri(name)}/followers"] + ([] if mention else [group])}
                note = server.note(name, f"<p>Bericht van {name}</p>", url, mention=group if mention else None, **kw)
                r = await server.send(name, f"{group}/inbox", server.create(name, note))
                assert r.status_code in (202, 403)
                return str(note["id"])

            from_carol = await send(fake, "carol", "wonen")  # rule followers, a follower: announced
            from_erin = await send(fake, "erin", "wonen")  # not a follower: not announced
            erin_open = await send(fake, "erin", "open", mention=True)  # rule anyone, by mention: announced
            carol_intern = await send(fake, "carol", "intern")  # rule members: never a remote post
            from_mallory = await send(blocked, "mallory", "wonen")  # a blocked domain: never
            await wait_for(lambda: at_b(from_carol), what="carol's reply announced to bob")

            async def announced(group: str, object_id: str) -> bool:
                found = await group_store.by_username(a.rt.db, group)
                assert found is not None
                return any(p.object_id == object_id for p in await group_store.posts(a.rt.db, found.id))

            await wait_for(lambda: announced("open", erin_open), what="erin's mention of the open group announced")

            async def all_handled() -> bool:
                left = await a.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'")
                return int(left) == 0

            await wait_for(all_handled, what="A's inbox to be worked off")
            assert not await announced("wonen", from_erin)
            assert not await announced("intern", carol_intern)
            assert not await announced("wonen", from_mallory)
            boosts = [x for x in fake.received_of("Announce") if x["object"] == from_carol]
            assert boosts and boosts[0]["actor"] == wonen

            # carol edits her reply: the group passes her Update on as Announce{Update}.
            changed = {**fake.notes[from_carol], "content": "<p>Bewerkt</p>", "updated": "2026-11-28T11:00:00Z"}
            fake.notes[from_carol] = changed
            update = {"@context": build.AS_CONTEXT, "id": f"{from_carol}#updates/1", "type": "Update",
                      "actor": fake.uri("carol"), "object": changed, "to": changed["to"]}  # fmt: skip
            assert (await fake.send("carol", f"{wonen}/inbox", update)).status_code == 202
            passed_on = await _got(
                fake,
                lambda x: x["type"] == "Announce" and isinstance(x["object"], dict) and x["object"]["type"] == "Update",
                "the group's Announce{Update} of carol's edit",
            )
            assert passed_on["actor"] == wonen and passed_on["object"]["id"] == update["id"]

            # The group page lists both; mia (a group moderator) removes carol's: an Undo{Announce}.
            async with WebUser(a.base_url) as visitor:
                page = (await visitor.get("/groups/wonen")).text
                assert "Woningbouw" in page and "Bericht van carol" in page and "Bericht van erin" not in page
                assert "Uit de groep halen" not in page
            wonen_group = await group_store.by_username(a.rt.db, "wonen")
            assert wonen_group is not None
            item = next(p for p in await group_store.posts(a.rt.db, wonen_group.id) if p.object_id == from_carol)
            async with WebUser(a.base_url) as web:
                await web.login("alice", PASSWORD)  # not a moderator of the group
                r = await web.submit("/groups/wonen", "/groups/wonen/remove", {"item": str(item.id)})
                assert r.status_code == 403
            async with WebUser(a.base_url) as mod:
                await mod.login("mia", PASSWORD)
                page = (await mod.get("/groups/wonen")).text
                assert "Uit de groep halen" in page
                r = await mod.submit("/groups/wonen", "/groups/wonen/remove", {"item": str(item.id)})
                assert r.status_code == 303
                assert "Bericht van carol" not in (await mod.get("/groups/wonen")).text

            undo = await _got(fake, lambda x: x["type"] == "Undo", "the group's Undo{Announce}")
            assert undo["actor"] == wonen and undo["object"]["type"] == "Announce"
            assert undo["object"]["id"] == boosts[0]["id"] and undo["object"]["object"] == from_carol
