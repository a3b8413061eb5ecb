"""The AVG pages through real HTTP: /privacy from the configuration in Dutch and English, a member's
data as a zip from /settings/export (in the shapes Mastodon reads), and who may get it."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.export import FOLLOWING_HEADER
from fediverse_a2.services.reactions_out import react
from fediverse_a2.services.social import comment, follow
from fediverse_a2.store import follows, members
from helpers import LiveServer, live_server, wait_for
from html_check import check_html
from media_samples import photo
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
EVENT = {"title": "Borrel", "start": "2031-06-14T10:00", "end": "2031-06-14T17:00", "location": "Jaarbeurs",
         "address": "Jaarbeursplein 6, Utrecht", "link": "", "body": "Een **borrel**."}  # fmt: skip
PRIVACY = {"controller": "Stichting Ambtenaar 2.0", "contact": "privacy@a2.example", "officer": "Fenna de Functionaris"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", privacy=PRIVACY, inbox={"keep_raw_days": 14}) as s:
        await member_with_password(s, "alice", "Alice de Vries", PASSWORD, email="alice@example.org")
        await member_with_password(s, "bob", "Bob", PASSWORD)
        yield s


async def test_privacy_statement_comes_from_the_configuration_in_both_languages(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        home = await web.get("/")
        assert 'href="/privacy"' in home.text  # the footer links it on every page
        nl = await web.get("/privacy?lang=nl")
        assert nl.status_code == 200
        expected = ["Privacyverklaring", "Stichting Ambtenaar 2.0", "mailto:privacy@a2.example"]
        expected += ["Fenna de Functionaris", "15 minuten", "30 dagen", "na 14 dagen", "geen log van verzoeken"]
        for text in [*expected, "Autoriteit Persoonsgegevens"]:
            assert text in nl.text, text
        assert "Privacy statement" not in nl.text
        check_html(nl.text)
        en = await web.get("/privacy?lang=en")
        for text in ("Privacy statement", "Controller: Stichting Ambtenaar 2.0", "after 14 days", "no log of requests"):
            assert text in en.text, text


async def test_privacy_statement_without_a_contact_says_so(tmp_path: Path) -> None:
    async with live_server(tmp_path / "bare", server={"access_log": True}) as bare, WebUser(bare.base_url) as web:
        page = await web.get("/privacy?lang=en")
        # The controller falls back to the instance's name; the missing contact is said, not hidden.
        assert "Controller: Test A2." in page.text and "privacy.contact" in page.text
        assert "a line with the IP address" in page.text  # the access log is on here


async def test_export_holds_a_members_data_in_mastodons_shapes(server: LiveServer) -> None:
    fake = FakeMastodon()
    fake.add_user("carol", "Carol")
    async with running(fake), WebUser(server.base_url) as web:
        await web.login("alice", PASSWORD)
        # A post with an image, a draft, a comment, a follow, a follower and a like.
        r = await web.submit(
            "/posts/new", "/posts/new",
            {"title": "Open data", "body": "Over **open** data", "tags": "opendata", "alt_new_1": "Een grafiek",
             "action": "publish"},
            files={"image_1": ("grafiek.jpg", photo(), "image/jpeg")},
        )  # fmt: skip
        assert r.status_code == 303
        post = r.headers["location"]
        draft = await web.submit(
            "/posts/new", "/posts/new", {"title": "Concept", "body": "Nog niet af", "action": "draft"}
        )
        assert draft.status_code == 303
        mine = await comment(server.rt, server.workers.directory, "alice", post, "Een eigen reactie")
        await follow(server.rt, server.workers.directory, "alice", fake.uri("carol"))
        alice = server.rt.urls.actor("alice")
        r = await fake.send("carol", f"{alice}/inbox", {"id": f"{fake.base}/f/1", "type": "Follow",
                                                       "actor": fake.uri("carol"), "object": alice})  # fmt: skip
        assert r.status_code == 202
        note = fake.note("carol", "<p>Toot</p>", None)
        assert (await fake.send("carol", f"{server.base_url}/inbox", fake.create("carol", note))).status_code == 202

        async def followed() -> bool:
            await server.workers.inbox.run_once()
            member = await members.by_username(server.rt.db, "alice")
            return member is not None and await follows.count_followers(server.rt.db, member.id) == 1

        await wait_for(followed, what="carol's follow stored")
        await react(server.rt, server.workers.directory, "alice", "Like", note["id"])  # carol's toot, on the timeline
        # An event of her own, and her answer to bob's.
        own_event = await web.submit("/events/new", "/events/new", EVENT)
        assert own_event.status_code == 303
        async with WebUser(server.base_url) as bob:
            await bob.login("bob", PASSWORD)
            bobs = await bob.submit("/events/new", "/events/new", {**EVENT, "title": "Congres", "location": ""})
            assert bobs.status_code == 303
        bobs_event = bobs.headers["location"]
        answered = await web.submit(bobs_event, f"{bobs_event}/rsvp", {"status": "maybe"})
        assert answered.status_code == 303

        page = await web.get("/settings/export")
        assert page.status_code == 200 and 'action="/settings/export"' in page.text
        check_html(page.text)
        check_html((await web.get("/settings/profile")).text)  # with its other accounts
        refused = await web.submit("/settings/export", "/settings/export", {}, token=False)
        assert refused.status_code == 403
        r = await web.submit("/settings/export", "/settings/export", {})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith('attachment; filename="127.0.0.1-alice-')
        zf = zipfile.ZipFile(io.BytesIO(r.content))
        names = set(zf.namelist())

    # Mastodon's archive: the actor, the outbox of Creates, likes, bookmarks, media_attachments/.
    actor = orjson.loads(zf.read("actor.json"))
    assert actor["type"] == "Person" and actor["id"] == alice and actor["preferredUsername"] == "alice"
    assert actor["publicKey"]["owner"] == alice
    outbox = orjson.loads(zf.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection" and outbox["id"] == "outbox.json"
    assert outbox["totalItems"] == len(outbox["orderedItems"]) == 3  # the post, the comment, her event; no draft
    by_object = {item["object"]["id"]: item for item in outbox["orderedItems"]}
    assert set(by_object) == {post, mine, own_event.headers["location"]}
    assert all(i["type"] == "Create" for i in outbox["orderedItems"])
    assert by_object[own_event.headers["location"]]["object"]["type"] == "Event"
    [image] = by_object[post]["object"]["attachment"]
    assert image["name"] == "Een grafiek" and image["url"].startswith("media_attachments/")
    assert image["url"] in names  # the image itself is in the archive
    assert zf.read(image["url"]) == (server.rt.config.media_path / image["url"].split("/", 1)[1]).read_bytes()
    likes = orjson.loads(zf.read("likes.json"))
    assert likes["type"] == "OrderedCollection" and likes["orderedItems"] == [note["id"]] and likes["totalItems"] == 1
    assert orjson.loads(zf.read("bookmarks.json"))["orderedItems"] == []

    # Mastodon's import format for follows.
    rows = list(csv.reader(io.StringIO(zf.read("following_accounts.csv").decode())))
    assert rows[0] == FOLLOWING_HEADER == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert rows[1:] == [[f"carol@{fake.base.removeprefix('http://')}", "true", "false", ""]]
    followers = list(csv.reader(io.StringIO(zf.read("followers.csv").decode())))
    assert followers[1:] == [[f"carol@{fake.base.removeprefix('http://')}", fake.uri("carol")]]

    # The rest of what the account holds: profile with e-mail, posts as Markdown and HTML (the draft too).
    profile = orjson.loads(zf.read("profile.json"))
    assert profile["email"] == "alice@example.org" and profile["name"] == "Alice de Vries"
    post_id = post.rsplit("/", 1)[1]
    markdown = zf.read(f"posts/{post_id}.md").decode()
    assert markdown.startswith('---\ntitle: "Open data"\n') and "Over **open** data" in markdown
    assert 'tags: ["opendata"]' in markdown
    assert "<strong>open</strong>" in zf.read(f"posts/{post_id}.html").decode()
    drafts = [n for n in names if n.endswith(".md") and b'state: "draft"' in zf.read(n)]
    assert len(drafts) == 1 and b"Nog niet af" in zf.read(drafts[0])
    [own] = orjson.loads(zf.read("comments.json"))
    assert own["id"] == mine and "Een eigen reactie" in own["content"]
    media = orjson.loads(zf.read("media.json"))
    assert [m["description"] for m in media] == ["Een grafiek"]
    assert orjson.loads(zf.read("notifications.json"))[0]["kind"] == "follow"
    # Her event with its time and place; her answer to bob's event, not bob's data.
    event_id = own_event.headers["location"].rsplit("/", 1)[1]
    event_md = zf.read(f"posts/{event_id}.md").decode()
    assert f'url: "{own_event.headers["location"]}"' in event_md
    assert 'event: {"starts":"2031-06-14T08:00:00Z"' in event_md and '"place":"Jaarbeurs"' in event_md
    [answer] = orjson.loads(zf.read("event_answers.json"))
    assert answer == {"event": bobs_event, "title": "Congres", "starts": "2031-06-14T08:00:00Z", "answer": "maybe",
                      "updated": answer["updated"]}  # fmt: skip
    assert f"posts/{bobs_event.rsplit('/', 1)[1]}.md" not in names
    assert zf.testzip() is None


async def test_export_is_only_for_the_signed_in_member_and_only_of_their_own_data(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        r = await web.get("/settings/export")
        assert r.status_code == 303 and "/login" in r.headers["location"]
        await web.login("bob", PASSWORD)
        r = await web.submit("/settings/export", "/settings/export", {"username": "alice"})
        profile = orjson.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("profile.json"))
        assert profile["username"] == "bob" and profile["email"] is None


async def test_delete_asks_the_password_and_keeps_the_last_admin(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        r = await web.get("/settings/delete")
        assert r.status_code == 303 and "/login" in r.headers["location"]
        alice = await members.by_username(server.rt.db, "alice")
        assert alice is not None
        await members.set_role(server.rt.db, alice.id, "admin")
        await web.login("alice", PASSWORD)
        page = await web.get("/settings/delete")
        assert 'name="password"' in page.text and 'type="password"' in page.text
        check_html(page.text)
        r = await web.submit("/settings/delete", "/settings/delete", {"password": PASSWORD})
        assert r.status_code == 400 and "enige beheerder" in r.text
        assert not (await members.by_username(server.rt.db, "alice")).is_deleted  # type: ignore[union-attr]
        # Ten wrong passwords, and the form is throttled like the sign-in.
        for _ in range(10):
            r = await web.submit("/settings/delete", "/settings/delete", {"password": "fout"})
            assert r.status_code == 400
        r = await web.submit("/settings/delete", "/settings/delete", {"password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert not (await members.by_username(server.rt.db, "alice")).is_deleted  # type: ignore[union-attr]
