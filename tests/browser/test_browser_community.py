"""Community on the web in a real browser (Debian's Chromium, driven by Playwright), with a
Mastodon-shaped remote: the member locks her account and approves a follow request, holds a
comment for approval and approves it, reads her notifications and reports a comment; a visitor
follows her from their own server (remote interaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from browser import BrowserPage, browser_page, require_browser
from fake_mastodon import FakeMastodon, received
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import comments, follow_requests, members
from helpers import LiveServer, wait_for
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    require_browser()
    async with mastodon_world(tmp_path, members=[("alice", "Alice de Vries", "moderator")]) as world:
        yield world


async def sign_in(bp: BrowserPage) -> None:
    await bp.page.goto("/login")
    await bp.page.fill("input[name=username]", "alice")
    await bp.page.fill("input[name=password]", PASSWORD)
    await bp.page.click("form[action='/login'] button[type=submit]")
    await bp.page.wait_for_load_state()


async def test_lock_approve_hold_notify_and_report(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    post_url = await publish_post(a2.rt, "alice", "Open overheid", "Wat vinden jullie?")
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await sign_in(bp)

        # Lock the account; carol's Follow waits until alice approves it.
        await page.goto("/settings/profile")
        await page.check("#locked")
        await page.click("main form button[type=submit]")
        await page.wait_for_load_state()
        follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                  "object": a2.rt.urls.actor("alice")}  # fmt: skip
        assert (await fake.send("carol", a2.rt.urls.inbox("alice"), follow)).status_code == 202
        await wait_for(lambda: follow_requests.for_member(a2.rt.db, alice.id), what="the follow request")
        await page.goto("/notifications")
        assert "Carol Mastodon" in await page.locator("main").inner_text()
        count = await page.locator("header a[href='/notifications'] .count").text_content()
        assert " ".join((count or "").split()) == "1 ongelezen"
        await page.click("form[action='/notifications/read'] button")
        await page.wait_for_load_state()
        assert await page.locator("header a[href='/notifications'] .count").count() == 0
        await page.goto("/followers")
        await page.click("button[name=action][value=approve]")
        await page.wait_for_load_state()
        (accept,) = await received(fake, "Accept")
        assert accept["object"]["id"] == follow["id"]

        # Hold comments from accounts she does not follow; carol's reply waits, then is approved.
        await page.goto("/settings/moderation")
        await page.check("#hold")
        await page.click("main form button[type=submit]")
        await page.wait_for_load_state()
        reply = fake.note("carol", "<p>Graag meer over de pilot</p>", post_url)
        assert (await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", reply))).status_code == 202
        await wait_for(lambda: comments.by_ap_id(a2.rt.db, reply["id"]), what="carol's reply stored")
        await page.goto(post_url)
        assert "Graag meer over de pilot" not in await page.locator("main").inner_text()
        await page.goto("/moderation")
        assert "Graag meer over de pilot" in await page.locator("main").inner_text()
        await page.click("button[name=action][value=approve]")
        await page.wait_for_load_state()
        await page.goto(post_url)
        assert "Graag meer over de pilot" in await page.locator("main").inner_text()

        # Report carol's comment to her server: a Flag from the instance actor.
        row = await comments.by_ap_id(a2.rt.db, reply["id"])
        assert row is not None
        await page.goto(f"/moderation/comments/{row.id}")
        await page.fill("textarea[name=reason]", "Spam")
        await page.click("form:has(textarea[name=reason]) button[type=submit]")
        await page.wait_for_load_state()
        (flag,) = await received(fake, "Flag")
        assert flag["actor"] == a2.rt.urls.instance_actor and reply["id"] in flag["object"]
        assert bp.csp_violations == [] and bp.page_errors == []


async def test_a_visitor_follows_from_their_own_server(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await page.goto("/users/alice")
        await page.click("a:has-text('Volgen')")
        await page.wait_for_url(lambda url: "/interact?" in url)
        await page.fill("#handle", f"@carol@{fake.base.removeprefix('http://')}")
        # The fake has no page there: the navigation itself is what we check.
        async with page.expect_request(lambda r: r.url.startswith(f"{fake.base}/authorize_interaction")) as went:
            await page.click("main form button[type=submit]")
        query = parse_qs(urlsplit((await went.value).url).query)
        assert query == {"uri": [a2.rt.urls.actor("alice")]}
        # The handle is remembered for the next time.
        await page.goto(f"/interact?uri={quote(a2.rt.urls.actor('alice'), safe='')}")
        assert await page.input_value("#handle") == f"@carol@{fake.base.removeprefix('http://')}"
