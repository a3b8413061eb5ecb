"""Discovery, negotiation, pages and the feed, through real HTTP against a running instance."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import delete_post, edit_post, publish_post
from helpers import AP, LiveServer, live_server

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "User-Agent": "Mozilla/5.0 Firefox/130.0"}
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path) as srv:
        yield srv


async def test_home_explains_how_to_add_a_member(server: LiveServer) -> None:
    async with server.client() as client:
        r = await client.get("/", headers=BROWSER)
    assert r.status_code == 200
    assert "Nog geen leden" in r.text
    assert "fediverse-a2 member add" in r.text


async def test_webfinger_finds_members_only(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    host = server.base_url.removeprefix("http://")
    async with server.client() as client:
        r = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{host}"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/jrd+json")
        doc = r.json()
        assert doc["subject"] == f"acct:alice@{host}"
        link = next(link for link in doc["links"] if link["rel"] == "self")
        assert link == {"rel": "self", "type": AP, "href": f"{server.base_url}/users/alice"}
        assert (await client.get("/.well-known/webfinger", params={"resource": f"acct:bob@{host}"})).status_code == 404
        other = await client.get("/.well-known/webfinger", params={"resource": "acct:alice@other.example"})
        assert other.status_code == 404
        assert (await client.get("/.well-known/webfinger")).status_code == 400
        # preferredUsername resolves back to the same actor
        actor = (await client.get(link["href"], headers={"Accept": AP})).json()
        assert actor["preferredUsername"] == "alice"


async def test_nodeinfo(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    async with server.client() as client:
        links = (await client.get("/.well-known/nodeinfo")).json()["links"]
        assert links[0]["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
        doc = (await client.get(links[0]["href"].removeprefix(server.base_url))).json()
    assert doc["version"] == "2.1"
    assert doc["protocols"] == ["activitypub"]
    assert doc["software"]["name"] == "fediverse-a2"
    assert doc["usage"]["users"]["total"] == 1


@pytest.mark.parametrize("accept", [AP, LD])
async def test_actor_and_post_negotiate(server: LiveServer, accept: str) -> None:
    await add_member(server.rt, "alice", "Alice de Vries")
    url = await publish_post(server.rt, "alice", "Netwerk gaat door", "Het *netwerk* blijft.")
    async with server.client() as client:
        actor = await client.get("/users/alice", headers={"Accept": accept})
        assert actor.status_code == 200
        assert actor.headers["content-type"] == AP
        assert actor.json()["type"] == "Person"
        assert actor.json()["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        note = await client.get(url.removeprefix(server.base_url), headers={"Accept": accept})
        assert note.headers["content-type"] == AP
        doc = note.json()
        assert doc["id"] == url and doc["type"] == "Note"
        assert doc["content"].startswith("<p><strong>Netwerk gaat door</strong></p>")
        assert "<em>netwerk</em>" in doc["content"]
        assert doc["replies"]["totalItems"] == 0
        page = await client.get("/users/alice", headers=BROWSER)
        assert page.headers["content-type"].startswith("text/html")
        assert "Alice de Vries" in page.text


async def test_post_page_counts_views_by_people_only(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "Titel", "Body")
    path = url.removeprefix(server.base_url)
    async with server.client() as client:
        first = await client.get(path, headers=BROWSER)
        assert "Weergaven: 1" in first.text
        await client.get(path, headers={"Accept": AP})
        await client.get(
            path, headers={"Accept": "text/html", "User-Agent": "http.rb/5.1 (Mastodon/4.3; +https://m.example/)"}
        )
        second = await client.get(path, headers=BROWSER)
    assert "Weergaven: 2" in second.text
    assert "Reacties (0)" in second.text
    assert "Nog geen reacties." in second.text
    # How to reply from one's own account: the post URL and the author's handle.
    assert f'value="{url}"' in second.text
    assert f"@alice@{server.base_url.removeprefix('http://')}" in second.text


async def test_pages_switch_to_english(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "Titel", "Body")
    path = url.removeprefix(server.base_url)
    async with server.client() as client:
        by_query = await client.get(path + "?lang=en", headers=BROWSER)
        # The chosen language sticks (a cookie), whatever the browser prefers.
        sticky = await client.get(path, headers={**BROWSER, "Accept-Language": "nl-NL,en;q=0.5"})
    async with server.client() as client:
        by_header = await client.get(path, headers={**BROWSER, "Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
        dutch = await client.get(path, headers={**BROWSER, "Accept-Language": "nl-NL,en;q=0.5"})
        back = await client.get(path + "?lang=nl", headers={**BROWSER, "Accept-Language": "en"})
    assert "Views: 1" in by_query.text and 'lang="en"' in by_query.text
    assert "a2_lang=en" in by_query.headers["set-cookie"]
    assert "Views: 2" in sticky.text
    assert "Views: 3" in by_header.text
    assert "Weergaven: 4" in dutch.text
    assert "Weergaven: 5" in back.text


async def test_home_pages_through_posts(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    for i in range(23):
        await publish_post(server.rt, "alice", f"Post nummer {i}", "x")
    async with server.client() as client:
        first = await client.get("/", headers=BROWSER)
        second = await client.get("/?page=2", headers=BROWSER)
    assert "Post nummer 22" in first.text and "Post nummer 3<" in first.text
    assert "Post nummer 2<" not in first.text
    assert 'rel="next"' in first.text
    assert "Post nummer 2<" in second.text and "Post nummer 0<" in second.text
    assert 'rel="next"' not in second.text


async def test_feed_is_valid_atom(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "Feed & meer", "Tekst met <script>alert(1)</script>")
    async with server.client() as client:
        r = await client.get("/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(r.content)
    entry = root.find("a:entry", ns)
    assert entry is not None
    assert entry.findtext("a:title", namespaces=ns) == "Feed & meer"
    assert entry.findtext("a:id", namespaces=ns) == url
    assert "<script>" not in (entry.findtext("a:content", namespaces=ns) or "")


async def test_unknown_things_are_404_never_500(server: LiveServer) -> None:
    async with server.client() as client:
        for path in (
            "/users/nobody",
            "/posts/12345",
            "/posts/12345/replies",
            "/comments/9",
            "/users/nobody/outbox",
            "/nope",
            "/users/nobody/followers",
        ):
            for headers in (BROWSER, {"Accept": AP}):
                r = await client.get(path, headers=headers)
                assert r.status_code == 404, (path, headers, r.status_code)
        html = await client.get("/posts/12345", headers=BROWSER)
        assert "Niet gevonden" in html.text


async def test_edit_and_delete_reach_the_pages(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "Oud", "oude tekst")
    await edit_post(server.rt, url, "Nieuw", None)
    path = url.removeprefix(server.base_url)
    async with server.client() as client:
        doc = (await client.get(path, headers={"Accept": AP})).json()
        assert doc["content"].startswith("<p><strong>Nieuw</strong></p>") and "updated" in doc
        await delete_post(server.rt, url)
        gone = await client.get(path, headers={"Accept": AP})
        assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
        assert (await client.get(path, headers=BROWSER)).status_code == 410


async def test_outbox_lists_create_update_delete(server: LiveServer) -> None:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "A", "a")
    await edit_post(server.rt, url, "B", None)
    await delete_post(server.rt, url)
    async with server.client() as client:
        head = (await client.get("/users/alice/outbox", headers={"Accept": AP})).json()
        page = (await client.get("/users/alice/outbox?page=1", headers={"Accept": AP})).json()
    assert head["type"] == "OrderedCollection" and head["totalItems"] == 3
    assert [a["type"] for a in page["orderedItems"]] == ["Delete", "Update", "Create"]


async def test_static_stylesheet_is_served(server: LiveServer) -> None:
    async with server.client() as client:
        r = await client.get("/static/style.css")
    assert r.status_code == 200 and "--accent" in r.text
