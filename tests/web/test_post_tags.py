"""#tags in a post's text link to their tag page and tag the post; every post keeps the spelling its author
typed, and tag pages match without case (real HTTP, with a Mastodon-shaped follower receiving the Note)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fake_mastodon import FakeMastodon, received, running
from helpers import LiveServer, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with live_server(tmp_path / "a2", run_workers=True) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(a2, "bob", "Bob Jansen", PASSWORD)
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        async with running(fake):
            follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                      "object": a2.rt.urls.actor("alice")}  # fmt: skip
            assert (await fake.send("carol", a2.rt.urls.inbox("alice"), follow)).status_code == 202
            await wait_for(lambda: _now(fake.received_of("Accept")), what="the Accept")
            yield a2, fake


async def _now(value: Any) -> Any:
    return value


async def publish(a2: LiveServer, username: str, title: str, body: str, tags: str = "") -> str:
    async with WebUser(a2.base_url) as web:
        assert (await web.login(username, PASSWORD)).status_code == 303
        fields = {"title": title, "body": body, "tags": tags, "action": "publish"}
        r = await web.submit("/posts/new", "/posts/new", fields)
        assert r.status_code == 303, r.text[:500]
        return str(r.headers["location"])


async def test_hashtags_in_the_text_link_to_the_tag_page_and_tag_the_post(
    world: tuple[LiveServer, FakeMastodon],
) -> None:
    a2, fake = world
    body = "Over #OpenData bij de #Gemeente, niet over `#code`, #2024 of [#link](https://example.org/#x)."
    url = await publish(a2, "alice", "Data delen", body, tags="Zorg")
    async with WebUser(a2.base_url) as visitor:
        page = (await visitor.get(url)).text
    tag_url = a2.rt.urls.tag("opendata")
    assert f'<a href="{tag_url}" class="mention hashtag"' in page and ">#OpenData</a>" in page
    assert f'href="{a2.rt.urls.tag("gemeente")}" class="mention hashtag"' in page
    assert "<code>#code</code>" in page and f'href="{a2.rt.urls.tag("2024")}"' not in page
    listed = page.split('<ul class="tags">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r">#(\w+)</a>", listed) == ["Gemeente", "OpenData", "Zorg"]  # as written, by folded name
    (create,) = await received(fake, "Create")
    names = sorted(t["name"] for t in create["object"]["tag"] if t["type"] == "Hashtag")
    assert names == ["#Gemeente", "#OpenData", "#Zorg"]
    assert 'class="mention hashtag"' in create["object"]["content"]
    # The editor asks for the typed tags only: the text's own #tags come from the text.
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        editor = (await web.get(f"{url.removeprefix(a2.base_url)}/edit")).text
        assert 'id="tags" name="tags" value="Zorg"' in editor
        preview = await web.submit(
            "/posts/new", "/posts/new", {"title": "T", "body": "Kijk #Hier", "tags": "", "action": "preview"}
        )
        assert f'href="{a2.rt.urls.tag("hier")}" class="mention hashtag"' in preview.text


async def test_each_post_keeps_its_authors_spelling_and_tag_pages_ignore_case(
    world: tuple[LiveServer, FakeMastodon],
) -> None:
    a2, _ = world
    first = await publish(a2, "alice", "Eerste", "Tekst", tags="OpenData")
    second = await publish(a2, "bob", "Tweede", "Tekst over #opendata")
    third = await publish(a2, "bob", "Derde", "Tekst", tags="OPENDATA")
    async with WebUser(a2.base_url) as web:
        for url, spelling in ((first, "OpenData"), (second, "opendata"), (third, "OPENDATA")):
            listed = (await web.get(url)).text.split('<ul class="tags">', 1)[1].split("</ul>", 1)[0]
            assert f">#{spelling}</a>" in listed, (url, listed)
        for asked in ("opendata", "OpenData", "OPENDATA"):
            page = (await web.get(f"/tags/{asked}")).text
            assert all(html.escape(title) in page for title in ("Eerste", "Tweede", "Derde")), asked
