"""Members on the web in a real browser (Debian's Chromium, driven by Playwright).

The member signs in, writes a post with an image (which a Mastodon-shaped follower receives),
comments, answers a remote comment (which its author's server receives, `inReplyTo` its note),
has a POST without its CSRF token refused, is throttled after repeated wrong passwords, and signs
out. The pages that show a remote comment pass axe-core and html-validate (every other page is
swept by test_browser_layout.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from browser import BrowserPage, assert_accessible, assert_valid_html, browser_page, outline_problems, require_browser
from fake_mastodon import FakeMastodon
from fediverse_a2.store import comments, posts
from helpers import LiveServer, wait_for
from media_samples import photo
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    require_browser()
    async with mastodon_world(tmp_path, members=[("alice", "Alice de Vries", "admin")], followed_by="carol") as world:
        yield world


def assert_clean_here(bp: BrowserPage, fake: FakeMastodon) -> None:
    """No console error, CSP violation or failed request, except the fake's missing avatar images
    (the fake Mastodon serves actors, not their pictures)."""
    for found in (bp.failed_requests, bp.bad_responses):
        found[:] = [e for e in found if fake.base not in e]
    bp.console_errors[:] = [e for e in bp.console_errors if "404 (Not Found)" not in e or bp.bad_responses]
    bp.assert_clean()
    bp.clear()


async def comment_id(a2: LiveServer, ap_id: str) -> int:
    row = await comments.by_ap_id(a2.rt.db, ap_id)
    assert row is not None
    return row.id


async def sign_in(bp: BrowserPage, password: str = PASSWORD) -> None:
    await bp.page.goto("/login")
    await bp.page.fill("input[name=username]", "alice")
    await bp.page.fill("input[name=password]", password)
    await bp.page.click("form[action='/login'] button[type=submit]")


async def test_a_member_writes_comments_answers_and_signs_out(
    world: tuple[LiveServer, FakeMastodon], tmp_path: Path
) -> None:
    a2, fake = world
    image = tmp_path / "grafiek.jpg"
    image.write_bytes(photo((640, 480)))
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await sign_in(bp)
        assert await page.locator("form[action*=logout] button").count() == 1

        # A post with an image, published from the editor.
        await page.goto("/posts/new")
        await page.fill("#title", "Open data in de gemeente")
        await page.fill("#body", "Hallo **allemaal**, zie de grafiek.")
        await page.fill("#tags", "OpenData")
        await page.set_input_files("#image_1", str(image))
        await page.fill("#alt_new_1", "Grafiek van de open datasets")
        await page.click("button[name=action][value=publish]")
        await page.wait_for_url("**/posts/*")
        post_url = page.url
        assert await page.locator("h1").inner_text() == "Open data in de gemeente"
        assert await page.locator("img[alt='Grafiek van de open datasets']").count() == 1

        def created(reply_to: str | None) -> Any:
            async def check() -> list[dict[str, Any]]:
                return [a for a in fake.received_of("Create") if a["object"].get("inReplyTo") == reply_to]

            return check

        (create,) = await wait_for(created(None), what="the post at the follower's server")
        note = create["object"]
        assert note["id"] == post_url
        (attachment,) = note["attachment"]
        assert attachment["type"] == "Image" and attachment["mediaType"] == "image/jpeg"
        assert (attachment["width"], attachment["height"]) == (640, 480)
        assert attachment["name"] == "Grafiek van de open datasets"

        # A comment of her own, from the form under the post.
        await page.fill("form.comment-form textarea[name=body]", "Een eerste reactie van mijzelf.")
        await page.click("form.comment-form button[type=submit]")
        await page.wait_for_load_state()
        assert "Een eerste reactie van mijzelf." in await page.locator("main").inner_text()

        # Carol answers from Mastodon; alice answers her through the reply link.
        remote = fake.note("carol", "<p>Mooi overzicht!</p>", post_url)
        assert (await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", remote))).status_code == 202
        await wait_for(lambda: comments.by_ap_id(a2.rt.db, remote["id"]), what="carol's comment stored")
        await page.goto(post_url)
        assert "Reactie van Carol Mastodon op" in await page.locator("main").inner_text()
        reply_link = page.locator(f"a.reply[href*='{remote['id'].rsplit('/', 1)[1]}']")
        await reply_link.click()
        await page.wait_for_url(lambda url: "/reply?to=" in url)
        await page.fill("textarea[name=body]", "Dank je wel, Carol.")
        await page.click("main form button[type=submit]")
        await page.wait_for_url(f"{post_url}*")
        assert "Dank je wel, Carol." in await page.locator("main").inner_text()
        (answer,) = await wait_for(created(remote["id"]), what="the answer at carol's server")
        assert answer["object"]["inReplyTo"] == remote["id"]
        assert any(t["type"] == "Mention" and t["href"] == fake.uri("carol") for t in answer["object"]["tag"])

        # Signing out ends the session: the editor asks for a sign-in again. From 64rem the
        # account links fold into a disclosure under the member's name.
        await page.click(".account-menu > summary")
        await page.click("form[action*=logout] button")
        await page.wait_for_load_state()
        assert await page.locator("form[action*=logout]").count() == 0
        await page.goto("/posts/new")
        assert "/login" in page.url
        assert bp.csp_violations == [] and bp.page_errors == []


async def test_a_post_without_its_csrf_token_is_refused(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        await sign_in(bp)
        await bp.page.goto("/posts/new")
        # What a forged form would send: everything but the token.
        await bp.page.evaluate("document.querySelector('main form input[name=csrf]').remove()")
        await bp.page.fill("#title", "Vervalst")
        await bp.page.fill("#body", "Dit mag er niet komen.")
        async with bp.page.expect_response(lambda r: r.request.method == "POST") as answer:
            await bp.page.click("button[name=action][value=publish]")
        assert (await answer.value).status == 403
        assert await posts.count_live(a2.rt.db) == 0
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM posts") == 0


async def test_repeated_wrong_passwords_are_throttled(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        for _ in range(10):
            async with bp.page.expect_response(lambda r: r.request.method == "POST") as answer:
                await sign_in(bp, password="wrong password")
            assert (await answer.value).status == 401
        async with bp.page.expect_response(lambda r: r.request.method == "POST") as answer:
            await sign_in(bp)  # the right password, too late
        response = await answer.value
        assert response.status == 429 and int(response.headers["retry-after"]) > 0
        assert await bp.page.locator("form[action*=logout]").count() == 0


async def test_pages_with_a_remote_comment_are_accessible_and_valid(world: tuple[LiveServer, FakeMastodon]) -> None:
    """The pages that show a comment from another server (every other page, signed in and out, at
    every width and in both languages, is checked by test_browser_layout.py)."""
    a2, fake = world
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await sign_in(bp)
        await page.goto("/posts/new")
        await page.fill("#title", "Toegankelijk")
        await page.fill("#body", "Tekst met een [link](https://example.org/).\n\n## Kop\n\nMeer.")
        await page.click("button[name=action][value=publish]")
        await page.wait_for_url("**/posts/*")
        post_url = page.url
        remote = fake.note("carol", "<p>Eens!</p>", post_url)
        assert (await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", remote))).status_code == 202
        await wait_for(lambda: comments.by_ap_id(a2.rt.db, remote["id"]), what="carol's comment stored")
        await page.wait_for_load_state()
        bp.clear()  # what the setup above left (a stylesheet cut off by the next navigation)
        pages = [
            post_url,
            f"/reply?to={remote['id']}",
            f"/moderation/comments/{await comment_id(a2, remote['id'])}",
            "/",
        ]
        for url in pages:
            response = await page.goto(url)
            assert response is not None and response.status == 200, url
            html = await response.text()
            assert outline_problems(html) == [], url
            assert_valid_html(html)
            await assert_accessible(page)
            assert_clean_here(bp, fake)
        # Preview renders inside the editor; it is a page of its own kind.
        await page.goto("/posts/new")
        await page.fill("#title", "Voorbeeld")
        await page.fill("#body", "*Schuin*")
        await page.click("button[name=action][value=preview]")
        await page.wait_for_load_state()
        assert await page.locator(".preview em").inner_text() == "Schuin"
        await assert_accessible(page)
        assert_clean_here(bp, fake)
