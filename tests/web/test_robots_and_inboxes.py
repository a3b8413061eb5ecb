"""/robots.txt exists and keeps crawlers out of what is behind a sign-in; GET on an inbox is 405."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.robotparser import RobotFileParser

import httpx
import pytest

from fediverse_a2.services.groups import add_group
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from helpers import LiveServer, live_server

AP = "application/activity+json"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as server:
        await add_member(server.rt, "alice", "Alice")
        await add_group(server.rt, "buurt", "De buurt")
        await publish_post(server.rt, "alice", "Een post", "Tekst")
        yield server


async def test_robots_txt_opens_the_pages_and_closes_the_rest(a2: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        r = await client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert lines[0] == "User-agent: *"
    for closed in ("/admin", "/settings", "/moderation", "/api/", "/oauth/", "/inbox", "/users/*/inbox", "/login"):
        assert f"Disallow: {closed}" in lines, closed
    robots = RobotFileParser()
    robots.parse(lines)
    base = a2.base_url
    for page in ("/", "/posts/1", "/users/alice", "/tags/zon", "/archive", "/groups/buurt", "/feed.atom"):
        assert robots.can_fetch("SomeBot", base + page), page
    for page in ("/admin/members", "/settings/profile", "/moderation/log", "/inbox", "/timeline",
                 "/notifications", "/posts/new", "/api/v1/timelines/home", "/oauth/authorize"):  # fmt: skip
        assert not robots.can_fetch("SomeBot", base + page), page


@pytest.mark.parametrize("path", ["/inbox", "/users/alice/inbox", "/users/buurt/inbox", "/users/netwerk/inbox"])
async def test_get_on_an_inbox_is_405_with_allow_post(a2: LiveServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        for accept in (AP, "text/html", "*/*"):
            r = await client.get(path, headers={"Accept": accept})
            assert r.status_code == 405 and r.headers["allow"] == "POST", (accept, r.status_code)
            if accept == "text/html":
                assert "Dit adres kan niet zo worden geopend." in r.text
        # A member's collections are still there beside it.
        assert (await client.get(path.replace("/inbox", "/outbox") if "users" in path else "/users/alice/outbox",
                                 headers={"Accept": AP})).status_code == 200  # fmt: skip
