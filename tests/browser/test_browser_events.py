"""Events in a real browser (Debian's Chromium): a member creates one through the form (its date and time
fields), answers it, cancels it after the page that asks first; the event pages pass axe-core and
html-validate, signed in and as a visitor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from browser import assert_accessible, assert_valid_html, browser_page, outline_problems, require_browser
from event_samples import DASH, utc
from fediverse_a2.models import MAYBE
from fediverse_a2.store import events
from helpers import LiveServer, live_server
from webclient import member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    require_browser()
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        yield server


async def test_an_event_made_answered_and_cancelled_in_the_browser(a2: LiveServer) -> None:
    async with browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await page.goto("/login")
        await page.fill("input[name=username]", "alice")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_url(lambda url: "/login" not in url)
        await page.goto("/events/new")
        await page.fill("#title", "Dag van de Ambtenaar 2.0")
        await page.fill("#start", "2031-06-14T10:00")
        await page.fill("#end", "2031-06-14T17:00")
        await page.fill("#location", "Jaarbeurs")
        await page.fill("#address", "Jaarbeursplein 6, Utrecht")
        await page.fill("#body", "Het jaarlijkse *netwerkfeest*.")
        await page.click("form[action='/events/new'] button[type=submit]")
        await page.wait_for_url("**/events/*")
        event_id = int(page.url.rsplit("/", 1)[1])
        event = await events.by_id(a2.rt.db, event_id)
        assert event is not None and (event.starts_at, event.ends_at) == (utc(2031, 6, 14, 8), utc(2031, 6, 14, 15))
        assert f"10.00{DASH}17.00" in await page.locator("time.dt-start").inner_text()
        await page.check("#rsvp-maybe")
        await page.click("form.rsvp button[type=submit]")
        await page.wait_for_url(f"**/events/{event_id}#answers")
        assert await events.answer_of(a2.rt.db, event_id, a2.rt.urls.actor("alice")) == MAYBE
        assert await page.locator("#rsvp-maybe").is_checked()
        for url in ["/events", "/events/new", f"/events/{event_id}", f"/events/{event_id}/edit",
                    f"/events/{event_id}/cancel", "/"]:  # fmt: skip
            response = await page.goto(url)
            assert response is not None and response.status == 200, url
            html = await response.text()
            assert outline_problems(html) == [], url
            assert_valid_html(html)
            await assert_accessible(page)
        bp.assert_clean()
        async with browser_page(a2.base_url, locale="nl-NL") as visitor:
            for url in ["/events", f"/events/{event_id}", "/"]:
                response = await visitor.page.goto(url)
                assert response is not None and response.status == 200, url
                assert_valid_html(await response.text())
                await assert_accessible(visitor.page)
            visitor.assert_clean()
        await page.goto(f"/events/{event_id}")
        await page.click(f"a[href='/events/{event_id}/cancel']")
        await page.wait_for_url(f"**/events/{event_id}/cancel")
        await page.click(f"form[action='/events/{event_id}/cancel'] button[type=submit]")
        await page.wait_for_url("**/events")
        event = await events.by_id(a2.rt.db, event_id)
        assert event is not None and event.post.deleted_at is not None
