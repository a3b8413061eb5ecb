"""The archive by year and month, in the instance's time zone (Europe/Amsterdam here), over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fediverse_a2.services.members import add_member
from fediverse_a2.store import posts
from fediverse_a2.web.archive_pages import month_bounds, months_between
from helpers import LiveServer, live_server
from html_check import check_html

AMS = ZoneInfo("Europe/Amsterdam")


def _at(*parts: int) -> float:
    return datetime(*parts, tzinfo=AMS).timestamp()  # type: ignore[misc]


def test_month_bounds_are_local_midnights() -> None:
    start, end = month_bounds(2014, 12, AMS)
    assert datetime.fromtimestamp(start, UTC) == datetime(2014, 11, 30, 23, tzinfo=UTC)
    assert datetime.fromtimestamp(end, UTC) == datetime(2014, 12, 31, 23, tzinfo=UTC)
    assert months_between(_at(2013, 11, 5), _at(2014, 2, 1), AMS) == [(2013, 11), (2013, 12), (2014, 1), (2014, 2)]


@pytest.fixture
async def server(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as srv:
        yield srv


async def _page(server: LiveServer, path: str) -> tuple[int, str]:
    async with server.client() as client:
        r = await client.get(path, headers={"Accept": "text/html"})
    return r.status_code, r.text


def _titles(page: str) -> list[str]:
    return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', page)


async def test_archive_counts_by_local_month_and_pages_months(server: LiveServer) -> None:
    member = await add_member(server.rt, "alice", "Alice")
    db = server.rt.db
    # 23.30 on 31 January in Amsterdam is already February in UTC: it belongs to January here.
    await posts.create(db, member.id, "Laat in januari", "", "<p>a</p>", _at(2014, 1, 31, 23, 30))
    await posts.create(db, member.id, "Vroeg in februari", "", "<p>b</p>", _at(2014, 2, 1, 0, 30))
    await posts.create(db, member.id, "Concept", "", "<p>c</p>", _at(2014, 2, 2), state="draft")
    gone = await posts.create(db, member.id, "Weg", "", "<p>d</p>", _at(2014, 2, 3))
    await posts.mark_deleted(db, gone)
    for day in range(1, 26):
        await posts.create(db, member.id, f"Maart {day}", "", "<p>e</p>", _at(2015, 3, day, 12))

    status, page = await _page(server, "/archive")
    assert status == 200
    check_html(page)
    assert "Europe/Amsterdam" in page
    assert page.index('<h2 id="year-2015">2015</h2>') < page.index('<h2 id="year-2014">2014</h2>')
    assert re.search(r'href="/archive/2014/01"><time datetime="2014-01">januari 2014</time></a>: 1 blogpost<', page)
    assert re.search(r'href="/archive/2014/02"><time datetime="2014-02">februari 2014</time></a>: 1 blogpost<', page)
    assert re.search(r'href="/archive/2015/03">.*?</a>: 25 blogposts<', page)
    assert "/archive/2014/03" not in page  # empty months are left out

    status, page = await _page(server, "/archive/2014/01")
    assert status == 200 and _titles(page) == ["Laat in januari"]
    check_html(page)
    assert "<h1>Blogposts van januari 2014</h1>" in page
    _, page = await _page(server, "/archive/2014/2")
    assert _titles(page) == ["Vroeg in februari"]  # no draft, nothing deleted

    _, first = await _page(server, "/archive/2015/03")
    assert _titles(first) == [f"Maart {d}" for d in range(1, 21)]
    assert f'rel="next" href="{server.base_url}/archive/2015/03?page=2"' in first
    _, second = await _page(server, "/archive/2015/03?page=2")
    assert _titles(second) == [f"Maart {d}" for d in range(21, 26)] and 'rel="next"' not in second
    _, newest = await _page(server, "/archive/2015/03?order=newest")
    assert _titles(newest)[:2] == ["Maart 25", "Maart 24"]
    assert f'rel="next" href="{server.base_url}/archive/2015/03?order=newest&amp;page=2"' in newest
    check_html(newest)
    _, english = await _page(server, "/archive/2015/03?lang=en")
    assert "Blog posts of March 2015" in english


async def test_empty_archive_and_impossible_months(server: LiveServer) -> None:
    status, page = await _page(server, "/archive")
    assert status == 200 and "nog geen blogposts in het archief" in page
    check_html(page)
    assert (await _page(server, "/archive/2014/13"))[0] == 404
    assert (await _page(server, "/archive/2014/0"))[0] == 404
    status, page = await _page(server, "/archive/2030/05")
    assert status == 200 and "Er zijn nog geen blogposts." in page
