"""Every page at home on every screen, in a real browser (Debian's Chromium, driven by Playwright).

One instance and one Chromium serve the whole module (tests/demo_site.py fills the instance with
a lived-in community). Over every page, signed in (an admin, who sees every page) and out:

* at 320, 390, 768, 1024, 1280 and 1920 px nothing is wider than the viewport, and every link
  and button of the header is visible, inside the viewport and the element found at its centre
  (usable) once the header's disclosures are opened, by clicking, as a visitor would; images fit,
  long words wrap, tables stack on a phone;
* from 1024 px the signed-in header is one line;
* axe-core finds no violation of WCAG 2.0/2.1/2.2 A and AA nor of its best practices, at 390 and
  1280 px, in Dutch and in English, signed in and out (and with the phone menu open, and in the
  dark colour scheme); the markup
  passes html-validate and the outline checks (one h1, no skipped level, labels, skip link);
* one search landmark on every page, and Tab's first stop is the skip link;
* a keyboard alone gets from the front page through sign-in to a published post, at phone and
  desktop width, with a visible focus on every stop.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
import pytest_asyncio

from browser import (
    BrowserPage,
    axe_violations,
    format_violations,
    html_problems_of,
    launch_chromium,
    open_page,
    outline_problems,
    require_browser,
    require_tools,
)
from demo_site import LONG_WORD, PASSWORD, Demo, populate
from fediverse_a2.store import posts
from helpers import LiveServer, live_server

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.asyncio(loop_scope="module")

WIDTHS = (320, 390, 768, 1024, 1280, 1920)
AXE_WIDTHS = (390, 1280)
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
HEIGHT = 800


@dataclass
class Site:
    server: LiveServer
    demo: Demo
    browser: Browser
    visitor_pages: list[str]
    member_pages: list[str]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """One filled instance and one Chromium for the module."""
    require_browser()
    require_tools()
    folder: Path = tmp_path_factory.mktemp("layout")
    # The network's own name: a long one in the header at 320 px.
    async with live_server(folder / "a2", run_workers=True, instance={"name": "Ambtenaar 2.0"}) as server:
        demo = await populate(server)
        base = server.base_url
        post = {name: url.removeprefix(base) for name, url in demo.posts.items()}
        published = await posts.by_id(server.rt.db, int(post["open_data"].rsplit("/", 1)[1]))
        assert published is not None
        when = dt.datetime.fromtimestamp(published.published, server.rt.tz)
        comment = demo.comment_urls[0]
        common = [
            "/", "/members", "/members?q=utrecht", "/groups", "/groups/opendata", "/groups/netwerk",
            *post.values(), f"/posts/{demo.imported_post_id}", "/users/alice", "/users/dewi", "/tags/opendata",
            "/archive", f"/archive/{when.year}/{when.month:02d}", "/search?q=open", "/events",
            f"/events/{demo.event_id}", f"/pages/{demo.site_page}",
            f"/interact?uri={quote(server.rt.urls.actor('alice'), safe='')}", "/privacy", "/nergens",
        ]  # fmt: skip
        visitor = [*common, "/login", "/join", "/password/forgot"]
        member = [
            *common, "/posts/new", f"{post['open_data']}/edit", f"/reply?to={quote(comment, safe='')}",
            "/timeline", "/network", "/notifications", "/settings/profile", "/settings/password",
            "/settings/notifications", "/settings/images", "/settings/apps", "/settings/export", "/settings/delete",
            "/settings/moderation", "/followers",
            "/following", "/moderation", f"/moderation/comments/{comment.rsplit('/', 1)[1]}", "/moderation/blocks",
            "/moderation/reports", "/moderation/log", "/admin/members", "/admin/requests", "/admin/federation",
            "/admin/queue", "/admin/health", "/events/new", f"/events/{demo.event_id}/edit",
            f"/events/{demo.event_id}/cancel", f"/groups/{demo.private_group}",
            f"/groups/{demo.private_group}/requests", demo.private_post.removeprefix(base),
        ]  # fmt: skip
        async with launch_chromium() as browser:
            yield Site(server, demo, browser, visitor, member)


async def sign_in(bp: BrowserPage, username: str = "alice") -> None:
    """Sign in through the form (the pointer's way; the keyboard's is its own test)."""
    page = bp.page
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    assert await page.locator("form[action='/logout']").count() == 1


# -- what is measured on a page ----------------------------------------------------------------

_OVERFLOW = """() => ({
  page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  viewport: window.innerWidth,
  wide: [...document.querySelectorAll('main *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5
            && getComputedStyle(el).position !== 'fixed' && el.getClientRects().length)
    .slice(0, 5).map((el) => el.outerHTML.slice(0, 120)),
  images: [...document.querySelectorAll('main img')]
    .filter((img) => img.getClientRects().length && img.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((img) => img.outerHTML.slice(0, 120)),
})"""

_HEADER = """() => [...document.querySelectorAll('header.site :is(a[href], button, summary, input:not([type=hidden]))')]
  .map((el) => {
    const r = el.getBoundingClientRect();
    const shown = el.checkVisibility({visibilityProperty: true, opacityProperty: true}) && r.width > 0 && r.height > 0;
    const hit = shown ? document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) : null;
    return {
      what: (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().replace(/\\s+/g, ' '),
      tag: el.tagName.toLowerCase(), shown, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
      usable: !!hit && (hit === el || el.contains(hit)),
    };
  })"""


async def _open_header(page: Page) -> None:
    """Open the header's disclosures the way a visitor does: a click on each visible summary."""
    for selector in (".site-menu > summary", ".account-menu > summary"):
        summary = page.locator(selector)
        if (
            await summary.count()
            and await summary.is_visible()
            and await summary.evaluate("(s) => !s.parentElement.open")
        ):
            await summary.click()


async def _close_header(page: Page) -> None:
    await page.evaluate("() => document.querySelectorAll('header details[open]').forEach((d) => d.open = false)")


async def check_layout(page: Page, url: str, width: int, *, signed_in: bool) -> list[str]:
    """What is wrong with the page at this width: overflow, images too wide, header links out of reach."""
    problems = []
    measured = await page.evaluate(_OVERFLOW)
    if measured["page"] > measured["viewport"]:
        problems.append(f"{url} @{width}: page {measured['page']} px wide in a {measured['viewport']} px viewport; "
                        f"wider elements: {measured['wide']}")  # fmt: skip
    if measured["images"]:
        problems.append(f"{url} @{width}: images wider than the viewport: {measured['images']}")
    await _open_header(page)
    links = [i for i in await page.evaluate(_HEADER) if i["tag"] != "summary" or i["shown"]]
    expected = 5 if signed_in else 3  # at least brand, some links, the language switch
    if len(links) < expected:
        problems.append(f"{url} @{width}: only {len(links)} header controls found")
    for i in links:
        if not i["shown"]:
            problems.append(f"{url} @{width}: header control {i['what']!r} is not visible")
        elif i["left"] < -0.5 or i["right"] > width + 0.5:
            problems.append(f"{url} @{width}: header control {i['what']!r} is outside the viewport "
                            f"({i['left']:.0f}-{i['right']:.0f})")  # fmt: skip
        elif not i["usable"]:
            problems.append(f"{url} @{width}: header control {i['what']!r} is covered by something else")
    await _close_header(page)
    if signed_in and width >= 1024:
        # One line: every control of the closed header shares one band of the bar.
        bar = [i for i in await page.evaluate(_HEADER) if i["shown"]]
        top, bottom = max(i["top"] for i in bar), min(i["bottom"] for i in bar)
        if top >= bottom:
            rows = sorted({round(i["top"]) for i in bar})
            problems.append(f"{url} @{width}: the signed-in header is more than one line (rows at {rows})")
    return problems


async def goto(bp: BrowserPage, url: str) -> str:
    """Open a page (a 404 where expected); its HTML as served."""
    response = await bp.page.goto(url)
    assert response is not None, url
    expected = 404 if url == "/nergens" else 200
    assert response.status == expected, (url, response.status)
    if expected == 404:
        bp.bad_responses[:] = [e for e in bp.bad_responses if not e.startswith("404 GET") or "/nergens" not in e]
        bp.console_errors[:] = [e for e in bp.console_errors if "404" not in e]
    return await response.text()


# -- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "member"])
async def test_every_page_fits_every_width(site: Site, signed_in: bool) -> None:
    problems: list[str] = []
    async with open_page(site.browser, site.server.base_url, locale="nl-NL") as bp:
        if signed_in:
            await sign_in(bp)
        for url in site.member_pages if signed_in else site.visitor_pages:
            await bp.page.set_viewport_size({"width": 1280, "height": HEIGHT})
            await goto(bp, url)
            for width in WIDTHS:
                await bp.page.set_viewport_size({"width": width, "height": HEIGHT})
                problems += await check_layout(bp.page, url, width, signed_in=signed_in)
            bp.assert_clean()
    assert not problems, f"{len(problems)} layout problem(s):\n" + "\n".join(f"- {p}" for p in problems)


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "member"])
async def test_every_page_passes_axe(site: Site, signed_in: bool, lang: str) -> None:
    found: list[str] = []
    served: dict[str, str] = {}
    async with open_page(site.browser, site.server.base_url, locale="nl-NL" if lang == "nl" else "en-GB") as bp:
        if signed_in:
            await sign_in(bp)
        for url in site.member_pages if signed_in else site.visitor_pages:
            await bp.page.set_viewport_size({"width": AXE_WIDTHS[0], "height": HEIGHT})
            served[url] = await goto(bp, url)
            assert await bp.page.get_attribute("html", "lang") == lang, url
            for width in AXE_WIDTHS:
                await bp.page.set_viewport_size({"width": width, "height": HEIGHT})
                violations = await axe_violations(bp.page, AXE_TAGS)
                if violations:
                    found.append(f"{url} @{width} ({lang}):\n{format_violations(violations)}")
            bp.assert_clean()
        # The open menu is part of every page too (at phone width it lies over the page).
        await bp.page.set_viewport_size({"width": 390, "height": HEIGHT})
        await goto(bp, "/")
        await _open_header(bp.page)
        violations = await axe_violations(bp.page, AXE_TAGS)
        if violations:
            found.append(f"/ with the menu open @390 ({lang}):\n{format_violations(violations)}")
    assert not found, "axe-core found violations:\n" + "\n".join(found)
    # The markup, as served: html-validate (all pages in one run) and the outline checks.
    invalid = []
    for url, problems in html_problems_of(served).items():
        problems += outline_problems(served[url])
        if problems:
            invalid.append(f"{url}:\n" + "\n".join(f"  - {p}" for p in problems))
    assert not invalid, "HTML problems:\n" + "\n".join(invalid)


async def test_dark_mode_passes_axe(site: Site) -> None:
    """The dark colours (prefers-color-scheme: dark) meet the same rules, on every page of a member."""
    found: list[str] = []
    options = {"locale": "nl-NL", "color_scheme": "dark", "viewport": {"width": 1280, "height": HEIGHT}}
    async with open_page(site.browser, site.server.base_url, **options) as bp:
        await sign_in(bp)
        background = await bp.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 23, 32)"  # the dark scheme is the one in force
        for url in site.member_pages:
            await goto(bp, url)
            violations = await axe_violations(bp.page, AXE_TAGS)
            if violations:
                found.append(f"{url} (dark):\n{format_violations(violations)}")
        bp.assert_clean()
    assert not found, "axe-core found violations:\n" + "\n".join(found)


async def test_one_search_landmark_and_a_skip_link_on_every_page(site: Site) -> None:
    async with open_page(site.browser, site.server.base_url, locale="nl-NL") as bp:
        await sign_in(bp)
        for url in site.member_pages:
            await goto(bp, url)
            assert await bp.page.locator("[role=search], search").count() == 1, url
            await bp.page.keyboard.press("Tab")
            focused = await bp.page.evaluate("() => document.activeElement.getAttribute('href')")
            assert focused == "#main", url


async def test_long_words_wrap_images_scale_and_tables_stack(site: Site) -> None:
    async with open_page(site.browser, site.server.base_url, viewport={"width": 320, "height": HEIGHT}) as bp:
        await goto(bp, site.demo.posts["long"].removeprefix(site.server.base_url))
        title = bp.page.locator("h1")
        assert LONG_WORD in await title.inner_text()
        box = await title.bounding_box()
        assert box is not None and box["width"] <= 320 and box["height"] > 60  # wrapped onto several lines
        image = bp.page.locator("figure.image img").first
        box = await image.bounding_box()
        assert box is not None and 200 < box["width"] <= 320  # 960 px wide, scaled down to the column
        natural = await image.evaluate("(img) => img.naturalWidth")
        assert natural == 960
        # On a phone a table's rows stack, each cell named by its column; from 48rem it is a table.
        await sign_in(bp)
        for url in ("/admin/members", "/admin/federation"):
            await goto(bp, url)
            row = bp.page.locator("table.stack tbody tr").first
            cell = row.locator("td").first
            assert await row.evaluate("(tr) => getComputedStyle(tr).display") == "block", url
            label = await cell.evaluate("(td) => getComputedStyle(td, '::before').content")
            assert label.strip('"') == await cell.get_attribute("data-label"), url
            assert await bp.page.locator("table.stack thead").evaluate("(t) => t.getBoundingClientRect().width") <= 1
            await bp.page.set_viewport_size({"width": 1280, "height": HEIGHT})
            assert await row.evaluate("(tr) => getComputedStyle(tr).display") == "table-row", url
            await bp.page.set_viewport_size({"width": 320, "height": HEIGHT})


@pytest.mark.parametrize("width", [390, 1280])
async def test_a_keyboard_alone_goes_from_sign_in_to_a_published_post(site: Site, width: int) -> None:
    title = f"Met het toetsenbord geschreven op {width} px"
    async with open_page(
        site.browser, site.server.base_url, locale="nl-NL", viewport={"width": width, "height": HEIGHT}
    ) as bp:
        page = bp.page
        await goto(bp, "/")

        async def tab_to(matches: str, limit: int = 60) -> None:
            """Press Tab until the focused element matches; every stop must show its focus."""
            for _ in range(limit):
                await page.keyboard.press("Tab")
                state = await page.evaluate(
                    """(sel) => {
                      const el = document.activeElement;
                      const s = getComputedStyle(el);
                      const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
                      return {match: el.matches(sel), what: el.outerHTML.slice(0, 100),
                              visible: ring || s.boxShadow !== 'none'};
                    }""",
                    matches,
                )
                assert state["visible"], f"no visible focus on {state['what']}"
                if state["match"]:
                    return
            raise AssertionError(f"Tab never reached {matches}")

        # The menu (a disclosure at phone width) opens from the keyboard, too.
        if width < 1024:
            await tab_to(".site-menu > summary")
            await page.keyboard.press("Enter")
        await tab_to("a[href='/login']")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/login")
        await tab_to("#username")
        await page.keyboard.type("bob")
        await tab_to("#password")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/$"))
        if width < 1024:
            await tab_to(".site-menu > summary")
            await page.keyboard.press("Enter")
        await tab_to("a[href='/posts/new']")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/posts/new")
        await tab_to("#title")
        await page.keyboard.type(title)
        await tab_to("#body")
        await page.keyboard.type("Geschreven zonder muis.\n\nTwee alinea's.")
        await tab_to("button[value=publish]")
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/posts/\d+$"))
        assert await page.locator("h1").inner_text() == title
        assert "Geschreven zonder muis." in await page.locator("main").inner_text()
        bp.assert_clean()
    assert any(p.title == title for p in await posts.recent(site.server.rt.db, 50))
