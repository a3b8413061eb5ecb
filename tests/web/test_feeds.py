"""Atom feeds of a member and of a tag, through real HTTP: valid Atom, only their own posts,
escaped content, linked from the HTML pages, 404 for an unknown member."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import delete_post, publish_post
from fediverse_a2.services.social import comment
from helpers import LiveServer, live_server

NS = {"a": "http://www.w3.org/2005/Atom"}
BROWSER = {"Accept": "text/html", "User-Agent": "Mozilla/5.0 Firefox/130.0"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path) as srv:
        await add_member(srv.rt, "alice", "Alice de Vries")
        await add_member(srv.rt, "bob", "Bob Jansen")
        yield srv


def entries(body: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(body)
    return [
        (e.findtext("a:title", namespaces=NS) or "", e.findtext("a:id", namespaces=NS) or "")
        for e in root.findall("a:entry", NS)
    ]


async def test_a_members_feed_holds_their_posts_only(server: LiveServer) -> None:
    mine = await publish_post(server.rt, "alice", "Van Alice & co", "Tekst <script>alert(1)</script>")
    await publish_post(server.rt, "bob", "Van Bob", "Tekst")
    gone = await publish_post(server.rt, "alice", "Weg", "Tekst")
    await delete_post(server.rt, gone)
    async with server.client() as client:
        r = await client.get("/users/alice/feed.atom")
        profile = await client.get("/users/alice", headers=BROWSER)
        missing = await client.get("/users/nobody/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert entries(r.content) == [("Van Alice & co", mine)]
    root = ET.fromstring(r.content)
    assert root.findtext("a:title", namespaces=NS, default="").startswith("Alice de Vries")
    assert "<script>" not in (root.find("a:entry", NS).findtext("a:content", namespaces=NS) or "")  # type: ignore[union-attr]
    assert f'type="application/atom+xml" href="{server.base_url}/users/alice/feed.atom"' in profile.text
    assert missing.status_code == 404


async def test_a_tags_feed_holds_the_posts_with_that_tag(server: LiveServer) -> None:
    tagged = await publish_post(server.rt, "alice", "Open data", "Tekst", tags="#OpenData")
    other = await publish_post(server.rt, "bob", "Ook open", "Tekst", tags="opendata, Gemeenten")
    await publish_post(server.rt, "bob", "Iets anders", "Tekst", tags="Gemeenten")
    async with server.client() as client:
        r = await client.get("/tags/OpenData/feed.atom")
        page = await client.get("/tags/opendata", headers=BROWSER)
        empty = await client.get("/tags/niets/feed.atom")
    assert r.status_code == 200
    assert sorted(entries(r.content)) == sorted([("Open data", tagged), ("Ook open", other)])
    assert f'href="{server.base_url}/tags/opendata/feed.atom"' in page.text
    assert empty.status_code == 200 and entries(empty.content) == []


async def test_a_profile_shows_counts_posts_and_comments(server: LiveServer) -> None:
    post = await publish_post(server.rt, "bob", "Samen werken", "Wat vinden jullie?")
    await comment(server.rt, server.workers.directory, "alice", post, "Goed plan, <b>Bob</b>!")
    gone = await publish_post(server.rt, "bob", "Weg", "Tekst")
    await comment(server.rt, server.workers.directory, "alice", gone, "Verdwijnt mee")
    await delete_post(server.rt, gone)
    async with server.client() as client:
        page = (await client.get("/users/alice", headers=BROWSER)).text
        bobs = (await client.get("/users/bob", headers=BROWSER)).text
    assert "0 volgers" in page and "volgt 0" in page
    assert "Reacties van Alice de Vries" in page and "Samen werken" in page and "Goed plan" in page
    assert "<b>Bob</b>" not in page and "Verdwijnt mee" not in page
    assert "Samen werken" in bobs and "Reacties van Bob" not in bobs
