"""Self test of the browser-test support (tests/browser.py): Chromium, axe-core and the HTML
checks on a real `fediverse-a2 serve`, and on made-up pages that must trip each check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from browser import (
    assert_accessible,
    assert_valid_html,
    axe_violations,
    browser_page,
    html_problems,
    outline_problems,
    require_browser,
    require_tools,
    valid_datetime,
)
from helpers import ServiceProcess, last_line

HTML = {"Accept": "text/html"}


@dataclass
class Site:
    server: ServiceProcess
    pages: dict[str, str]  # name -> URL


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A served instance with a member, a post (with a heading, a list and a link) and a comment on it.

    One for the module: the CLI calls and the start take seconds. The tests run on function-scoped
    event loops, so the server is started from a loop of its own in a worker thread.
    """
    server = ServiceProcess(tmp_path_factory.mktemp("browser-site"))
    server.cli("member", "add", "alice", "--name", "Alice de Vries")
    body = "Inleiding met een [link](https://example.org/).\n\n# Tussenkop\n\n- een\n- twee\n"
    post_url = last_line(server.cli("post", "alice", "--title", "Eerste bericht", "--body", body))
    server.cli("comment", "alice", post_url, "--body", "Een *reactie*.")
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, server.start()).result()
        yield Site(server, {"home": server.base_url + "/", "post": post_url})
    finally:
        server.stop()


PAGES = ["home", "post"]


async def _html(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


# -- today's pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
async def test_page_loads_in_chromium_without_errors(site: Site, name: str) -> None:
    require_browser()
    async with browser_page(site.server.base_url) as bp:
        response = await bp.page.goto(site.pages[name])
        assert response is not None and response.status == 200
        assert await bp.page.title()
        assert await bp.page.locator("h1").count() == 1
        if name == "post":
            assert await bp.page.locator("li.comment").count() == 1
        assert "content-security-policy" in response.headers  # the checks below run under it
        bp.assert_clean()
        assert bp.blocked_requests == []


OUTLINE_TODAY = "today's pages have no skip link (the first focusable element is the site name)"


@pytest.mark.parametrize("name", PAGES)
async def test_page_outline(site: Site, name: str) -> None:
    problems = outline_problems(await _html(site.pages[name]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", PAGES)
async def test_page_is_valid_html(site: Site, name: str) -> None:
    require_tools()
    problems = html_problems(await _html(site.pages[name]))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", PAGES)
async def test_page_passes_axe(site: Site, name: str) -> None:
    require_browser()
    require_tools()
    async with browser_page() as bp:
        await bp.page.goto(site.pages[name])
        await assert_accessible(bp.page)
        bp.assert_clean()  # injecting axe left no trace in the console


async def test_copy_field_works_under_the_csp(site: Site) -> None:
    require_browser()
    async with browser_page() as bp:
        await bp.page.goto(site.pages["post"])
        await bp.page.locator("input.copy").click()
        assert bp.csp_violations == []


async def test_post_whose_first_subheading_is_level_two(site: Site) -> None:
    post_url = last_line(site.server.cli("post", "alice", "--title", "Kopjes", "--body", "Tekst.\n\n## Kop\n\nMeer."))
    problems = outline_problems(await _html(post_url))
    assert not problems, "\n".join(problems)


# -- the checks themselves --------------------------------------------------------------------

BAD_PAGE = """<!doctype html>
<html lang="en"><head><title>Bad</title></head>
<body><a href="/">Home</a>
<main><h2>Not the first</h2><h1>One</h1><h1>Two</h1><h4>Skips</h4>
<form><input name="q"><input type="hidden" name="t"><input type="submit" value="Go"></form>
<time>today</time> <time datetime="2024-02-30">later</time>
<img src="/a.png"><img src="http://example.invalid/tracker.png" alt="">
<script>console.log("inline")</script></main></body></html>"""

GOOD_PAGE = """<!doctype html>
<html lang="en"><head><title>Good</title></head>
<body><a href="#main">Skip to the content</a>
<main id="main"><h1>One</h1><h2>Two</h2><h3>Three</h3><h2>Four</h2>
<form><label for="q">Search</label> <input id="q" name="q"> <label>Or <input name="r"></label>
<input type="submit" value="Go"></form>
<p><time datetime="2024-02-29T12:30:00+01:00">29 February</time></p></main></body></html>"""


def test_outline_problems_finds_each_problem() -> None:
    assert outline_problems(GOOD_PAGE) == []
    problems = "\n".join(outline_problems(BAD_PAGE))
    assert "2 <h1> elements" in problems
    assert "<h2> is the first heading" in problems
    assert "<h4> follows <h1>" in problems
    assert '<input name="q"> has no <label' in problems
    assert 'name="t"' not in problems and 'type="submit"' not in problems
    assert "no skip link" in problems
    assert "<time> without a datetime" in problems
    assert '<time datetime="2024-02-30">' in problems


def test_skip_link_must_point_at_an_existing_id() -> None:
    page = GOOD_PAGE.replace('id="main"', 'id="content"')
    assert outline_problems(page) == ["line 3: the skip link points at #main, which no element has as id"]


def test_valid_datetime() -> None:
    for value in ("2024", "2024-02", "2024-02-29", "--02-29", "12:30:15.5", "2024-01-05 12:30Z", "2020-W53", "PT1H30M"):
        assert valid_datetime(value), value
    for value in ("", "P", "2023-02-29", "2024-13", "24:00", "2024-W53", "2024-01-05T12:30+25:00", "gisteren"):
        assert not valid_datetime(value), value


def test_html_problems_runs_html_validate() -> None:
    require_tools()
    assert html_problems(GOOD_PAGE) == []
    problems = "\n".join(html_problems(BAD_PAGE.replace("</main>", "</div></main>")))
    assert "[close-order]" in problems  # a stray end tag: invalid markup
    assert "[wcag/h37]" in problems  # an <img> without alt
    with pytest.raises(AssertionError, match="HTML problem"):
        assert_valid_html(BAD_PAGE)


async def test_browser_page_reports_csp_violations_and_blocks_the_internet() -> None:
    """A made-up page on 127.0.0.1 under the app's kind of CSP, answered by a route (no server)."""
    require_browser()
    require_tools()
    csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http:"
    async with browser_page() as bp:

        async def fake(route: object) -> None:
            await route.fulfill(  # type: ignore[attr-defined]
                body=BAD_PAGE, content_type="text/html", headers={"Content-Security-Policy": csp}
            )

        await bp.page.route("http://127.0.0.1:9/**", fake)
        await bp.page.goto("http://127.0.0.1:9/bad")
        assert any("inline script" in e for e in bp.csp_violations), bp.console_errors
        assert bp.blocked_requests == ["http://example.invalid/tracker.png"]
        # axe runs under `script-src 'self'` and finds the missing alt and label.
        ids = {v["id"] for v in await axe_violations(bp.page)}
        assert {"image-alt", "label"} <= ids, ids
        bp.clear()
        with pytest.raises(AssertionError, match="image-alt"):
            await assert_accessible(bp.page)
        assert bp.console_errors == []
