"""Notifications say what happened and where: "Bob Jansen reageerde op ‘TITEL’", with the beginning of what
was said and a link to the comment itself, for a member's comment and a remote reply alike (real HTTP)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.posts import publish_post
from fediverse_a2.services.social import comment
from fediverse_a2.store import comments
from helpers import LiveServer, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
TITLE = "Open data in de gemeente"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", run_workers=True) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(a2, "bob", "Bob Jansen", PASSWORD)
        yield a2


async def notifications_of(a2: LiveServer, username: str, lang: str = "nl") -> str:
    async with WebUser(a2.base_url) as web:
        assert (await web.login(username, PASSWORD)).status_code == 303
        return (await web.get(f"/notifications?lang={lang}")).text


async def test_a_members_comment_says_who_where_what_and_links_to_it(a2: LiveServer) -> None:
    post = await publish_post(a2.rt, "alice", TITLE, "Wie doet mee?")
    said = await comment(a2.rt, a2.workers.directory, "bob", post, "Ik doe **graag** mee met de *datasets* " * 20)
    comment_id = said.rsplit("/", 1)[1]
    page = await notifications_of(a2, "alice")
    assert html.escape(f"Bob Jansen reageerde op ‘{TITLE}’", quote=False) in page
    excerpt = page.split('<blockquote class="notification-excerpt">', 1)[1].split("</blockquote>", 1)[0]
    assert f'href="{post}#comment-{comment_id}"' in excerpt  # straight to the comment
    assert "Ik doe graag mee met de datasets" in excerpt and "**" not in excerpt and "<strong>" not in excerpt
    assert excerpt.count("Ik doe graag") < 20 and " …" in excerpt  # the beginning only
    english = await notifications_of(a2, "alice", "en")
    assert html.escape(f"Bob Jansen commented on ‘{TITLE}’", quote=False) in english
    own = await notifications_of(a2, "bob")  # the header names Bob: only the list counts
    assert "reageerde op" not in own and "notification-excerpt" not in own  # never told of one's own comment


async def test_a_remote_reply_says_where_and_its_edit_changes_the_excerpt(a2: LiveServer) -> None:
    post = await publish_post(a2.rt, "alice", TITLE, "Wie doet mee?")
    fake = FakeMastodon()
    fake.add_user("carol", "Carol Mastodon")
    async with running(fake):
        note = fake.note("carol", "<p>Wij publiceren al <em>alles</em> als open data.</p>", post)
        assert (await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", note))).status_code == 202
        row = await wait_for(lambda: comments.by_ap_id(a2.rt.db, note["id"]), what="the reply stored")
        page = await notifications_of(a2, "alice")
        assert html.escape(f"Carol Mastodon reageerde op ‘{TITLE}’", quote=False) in page
        assert f'href="{post}#comment-{row.id}"' in page and "Wij publiceren al alles als open data." in page
        edited = {**note, "content": "<p>Wij publiceren nu echt alles.</p>", "updated": "2026-11-28T11:00:00Z"}
        update = {"id": f"{note['id']}#update", "type": "Update", "actor": fake.uri("carol"), "object": edited,
                  "to": note["to"], "cc": note["cc"]}  # fmt: skip
        assert (await fake.send("carol", f"{a2.base_url}/inbox", update)).status_code == 202

        async def changed() -> bool:
            return "Wij publiceren nu echt alles." in await notifications_of(a2, "alice")

        await wait_for(changed, what="the excerpt to follow the edit")
