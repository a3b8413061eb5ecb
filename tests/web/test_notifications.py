"""Notifications through real HTTP: a Mastodon-shaped remote follows, replies, mentions, likes and boosts;
members see it on /notifications with an unread count in the header, and mark it read with a form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fake_mastodon import FakeMastodon
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import members
from fediverse_a2.store import notifications as store
from helpers import LiveServer, wait_for
from webclient import WebUser
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with mastodon_world(
        tmp_path, members=[("alice", "Alice de Vries"), ("bob", "Bob Jansen")], database=database_url
    ) as world:
        yield world


async def _member_id(a2: LiveServer, username: str) -> int:
    member = await members.by_username(a2.rt.db, username)
    assert member is not None
    return member.id


async def _unread(a2: LiveServer, username: str, count: int) -> bool:
    return await store.unread_count(a2.rt.db, await _member_id(a2, username)) == count


async def _kinds(a2: LiveServer, username: str) -> list[str]:
    return [n.kind for n in await store.page(a2.rt.db, await _member_id(a2, username), 100)]


def _header_link(page: str) -> str:
    """What the header's notifications link says (to a screen reader too): its text without the tags."""
    match = re.search(r'<li><a class="nav-notifications[^"]*" href="/notifications"[^>]*>(.*?)</a></li>', page)
    assert match, "no notifications link in the header"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def _everything_from_carol(a2: LiveServer, fake: FakeMastodon, post_url: str) -> dict[str, Any]:
    """Carol follows Alice, replies to her post, likes and boosts it, and mentions Bob elsewhere."""
    carol = fake.uri("carol")
    alice_inbox = f"{a2.base_url}/users/alice/inbox"
    follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": carol, "object": f"{a2.base_url}/users/alice"}
    assert (await fake.send("carol", alice_inbox, follow)).status_code == 202
    reply = fake.note("carol", "<p>Mooi stuk!</p>", post_url)
    assert (await fake.send("carol", alice_inbox, fake.create("carol", reply))).status_code == 202
    like = {"id": f"{fake.base}/likes/1", "type": "Like", "actor": carol, "object": post_url}
    assert (await fake.send("carol", alice_inbox, like)).status_code == 202
    boost = {"id": f"{fake.base}/boosts/1", "type": "Announce", "actor": carol, "object": post_url,
             "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    assert (await fake.send("carol", alice_inbox, boost)).status_code == 202
    mention = fake.note("carol", "<p>Hoi @bob</p>", None, mention=f"{a2.base_url}/users/bob")
    assert (
        await fake.send("carol", f"{a2.base_url}/users/bob/inbox", fake.create("carol", mention))
    ).status_code == 202
    await wait_for(lambda: _unread(a2, "alice", 4), what="alice's four notifications")
    await wait_for(lambda: _unread(a2, "bob", 1), what="bob's mention")
    return {"reply": reply, "like": like, "mention": mention}


async def test_remote_activity_is_listed_with_an_unread_count_and_marked_read(
    world: tuple[LiveServer, FakeMastodon],
) -> None:
    a2, fake = world
    post_url = await publish_post(a2.rt, "alice", "Open data", "Hallo allemaal")
    sent = await _everything_from_carol(a2, fake, post_url)
    assert sorted(await _kinds(a2, "alice")) == ["boost", "follow", "like", "reply"]
    assert await _kinds(a2, "bob") == ["mention"]
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        page = (await alice.get("/notifications")).text
        assert _header_link(page) == "Meldingen 4 ongelezen"
        assert page.count('class="notification ') == 4 and page.count(" unread") >= 4
        assert "Carol Mastodon" in page and "volgt je nu" in page and "boostte ‘Open data’" in page
        # What happened and where, with what was said and a link to it.
        assert "Carol Mastodon reageerde op ‘Open data’" in page and "markeerde ‘Open data’ als favoriet" in page
        assert '<blockquote class="notification-excerpt"><p><a href="' in page and ">Mooi stuk!</a>" in page
        assert page.count("<time datetime=") == 4
        comment_id = await a2.rt.db.fetchval("SELECT id FROM comments WHERE ap_id = ?", (sent["reply"]["id"],))
        assert f'href="{post_url}#comment-{comment_id}"' in page  # the reply, on our page
        assert f'href="{fake.base}/@carol"' in page  # the actor's profile
        assert "Hoi @bob" not in page and "noemde je" not in page  # Bob's mention is Bob's
        english = (await alice.get("/notifications?lang=en")).text
        assert _header_link(english) == "Notifications 4 unread" and "favourited ‘Open data’" in english

        # A POST without the form's token changes nothing.
        refused = await alice.client.post("/notifications/read", data={}, headers={"Origin": a2.base_url})
        assert refused.status_code == 403
        forged = await alice.client.post(
            "/notifications/read", data={"csrf": "x"}, headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        assert await _unread(a2, "alice", 4)

        done = await alice.submit("/notifications", "/notifications/read", {})
        assert done.status_code == 303 and done.headers["location"].endswith("/notifications")
        page = (await alice.get("/notifications?lang=nl")).text
        assert _header_link(page) == "Meldingen" and " unread" not in page
        assert page.count('class="notification ') == 4  # still listed, no longer new
        assert await _unread(a2, "alice", 0)

        # Undo of the Like takes its notification away.
        undo = {"id": f"{fake.base}/likes/1/undo", "type": "Undo", "actor": fake.uri("carol"), "object": sent["like"]}
        assert (await fake.send("carol", f"{a2.base_url}/users/alice/inbox", undo)).status_code == 202
        await wait_for(lambda: _lacks(a2, "alice", "like"), what="the like's notification to go")
        # So does a Delete of the reply.
        delete = {"id": f"{sent['reply']['id']}#delete", "type": "Delete", "actor": fake.uri("carol"),
                  "object": sent["reply"]["id"]}  # fmt: skip
        assert (await fake.send("carol", f"{a2.base_url}/users/alice/inbox", delete)).status_code == 202
        await wait_for(lambda: _lacks(a2, "alice", "reply"), what="the reply's notification to go")
        assert sorted(await _kinds(a2, "alice")) == ["boost", "follow"]

    async with WebUser(a2.base_url) as bob:
        await bob.login("bob", PASSWORD)
        page = (await bob.get("/notifications")).text
        assert _header_link(page) == "Meldingen 1 ongelezen"
        assert "Carol Mastodon" in page and "noemde je" in page and "volgt je nu" not in page
        assert f'href="{sent["mention"]["url"]}"' in page


async def _lacks(a2: LiveServer, username: str, kind: str) -> bool:
    return kind not in await _kinds(a2, username)


async def test_visitors_are_sent_to_sign_in_and_see_nothing(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    post_url = await publish_post(a2.rt, "alice", "Open data", "Hallo allemaal")
    await _everything_from_carol(a2, fake, post_url)
    async with WebUser(a2.base_url) as visitor:
        r = await visitor.get("/notifications")
        assert r.status_code == 303 and "/login" in r.headers["location"]
        assert "Carol" not in r.text
        home = (await visitor.get("/")).text
        assert 'href="/notifications"' not in home
        r = await visitor.client.post("/notifications/read", data={}, headers={"Origin": a2.base_url})
        assert r.status_code == 303  # to sign in; nothing changed
        r = await visitor.get("/settings/notifications")
        assert r.status_code == 303 and "/login" in r.headers["location"]
    assert await _unread(a2, "alice", 4)


async def test_local_comments_notify_the_author_but_not_oneself(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    post_url = await publish_post(a2.rt, "alice", "Open data", "Hallo allemaal")
    path = "/posts/" + post_url.rsplit("/", 1)[1]
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        own = await alice.submit(path, f"{path}/comments", {"body": "Mijn eigen reactie"})
        assert own.status_code == 303, own.text
    assert await _kinds(a2, "alice") == []
    async with WebUser(a2.base_url) as bob:
        await bob.login("bob", PASSWORD)
        r = await bob.submit(path, f"{path}/comments", {"body": "Goed verhaal, Alice"})
        assert r.status_code == 303, r.text
    assert await _kinds(a2, "alice") == ["reply"]
    assert await _kinds(a2, "bob") == []
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        page = (await alice.get("/notifications")).text
        assert "Bob Jansen" in page and _header_link(page) == "Meldingen 1 ongelezen"
        assert f'href="{a2.base_url}/users/bob"' in page


async def test_mail_settings_page_validates_and_saves(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        page = (await alice.get("/settings/notifications")).text
        assert 'name="email"' in page and 'value="immediate" checked' in page
        assert "Deze server verstuurt nog geen e-mail" in page  # no [mail] in this config
        profile = (await alice.get("/settings/profile")).text
        assert 'href="/settings/notifications"' in profile
        modes = {f"mode_{g}": "digest" for g in ("replies", "mentions", "likes", "boosts", "follows")}
        refused = await alice.client.post("/settings/notifications", data=modes, headers={"Origin": a2.base_url})
        assert refused.status_code == 403
        bad = await alice.submit(
            "/settings/notifications", "/settings/notifications",
            {**modes, "email": "alice@example.org\r\nBcc: evil@example.org", "language": "en"},
        )  # fmt: skip
        assert bad.status_code == 400 and "geen geldig e-mailadres" in bad.text
        wrong = await alice.submit("/settings/notifications", "/settings/notifications", {**modes, "mode_likes": "x"})
        assert wrong.status_code == 400
        ok = await alice.submit(
            "/settings/notifications", "/settings/notifications",
            {**modes, "mode_likes": "never", "email": " alice@example.org ", "language": "en"},
        )  # fmt: skip
        assert ok.status_code == 200 and "Opgeslagen." in ok.text
        assert "alice@example.org" in ok.text and 'name="email"' not in ok.text
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None and member.email == "alice@example.org"
    settings = await store.get_settings(a2.rt.db, member.id)
    assert (
        settings.language == "en" and settings.mode("like") == "never" and settings.mode("follow_request") == "digest"
    )
