"""No link of ours points off-site: a request path such as `//evil.example/` must not come back
as a protocol-relative link (language switch, canonical link, pager, `next=` after sign-in).

Every link on a page is resolved as a browser would (against the address it asked for) and
must land on this instance; links to remote content (`rel="nofollow"`) are not ours.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from fediverse_a2.hosts import origin_of
from fediverse_a2.services.posts import publish_post
from fediverse_a2.web.links import local_target, normal_path
from helpers import LiveServer, live_server
from webclient import BROWSER, WebUser, member_with_password

PASSWORD = "correct horse battery"
OFFSITE = ["//evil.example/", "///evil.example/", "/%2F%2Fevil.example/", "/%2f%2fevil.example", "/\\evil.example/",
           "/%5Cevil.example/", "////evil.example//x"]  # fmt: skip
_LINK = re.compile(r"<(a|link|form|img|script)\b([^>]*)>", re.I)
_ATTR = re.compile(r'\b(href|src|action)="([^"]*)"', re.I)


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "ada", "Ada", PASSWORD)
        for n in range(21):
            await publish_post(server.rt, "ada", f"Post {n}", "Tekst")
        yield server


def links_off_site(page_url: str, text: str, base: str) -> list[str]:
    """Every link of ours on the page that a browser would follow to another origin."""
    ours = origin_of(base)
    found = []
    for _tag, attrs in _LINK.findall(text):
        if "nofollow" in attrs:
            continue  # remote content: an author's or a comment's own address
        for _name, value in _ATTR.findall(attrs):
            if value.startswith("#"):
                continue  # a place on this same page
            target = urljoin(page_url, html.unescape(value))
            if target.startswith(("http:", "https:")) and origin_of(target) != ours:
                found.append(value)
    return found


async def _get(server: LiveServer, raw_path: str, **kw: object) -> tuple[str, httpx.Response]:
    url = server.base_url + raw_path
    async with httpx.AsyncClient(headers=BROWSER) as client:
        return url, await client.get(url, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw_path", OFFSITE)
async def test_a_protocol_relative_path_gets_no_off_site_links(a2: LiveServer, raw_path: str) -> None:
    url, r = await _get(a2, raw_path)
    assert r.status_code == 404
    assert "evil.example" in r.text  # the path is on the page...
    assert links_off_site(url, r.text, a2.base_url) == []  # ...but no link leads there
    for lang in ("nl", "en"):
        assert re.search(rf'href="{re.escape(a2.base_url)}/evil\.example/?[^"]*\?lang={lang}"', r.text), lang


async def test_the_language_links_keep_the_page_and_its_query(a2: LiveServer) -> None:
    url, r = await _get(a2, "/search?q=post&page=2")
    assert f'href="{a2.base_url}/search?q=post&amp;page=2&amp;lang=en"' in r.text
    assert links_off_site(url, r.text, a2.base_url) == []


async def test_pager_and_canonical_links_are_absolute_on_this_site(a2: LiveServer) -> None:
    url, first = await _get(a2, "/")
    assert f'<link rel="canonical" href="{a2.base_url}/">' in first.text
    assert f'rel="next" href="{a2.base_url}/?page=2"' in first.text
    url, second = await _get(a2, "/?page=2&lang=en")
    assert f'rel="prev" href="{a2.base_url}/?lang=en"' in second.text  # page 1 has no page=
    assert f'<link rel="canonical" href="{a2.base_url}/?page=2">' in second.text  # the language is no page
    assert links_off_site(url, second.text, a2.base_url) == []
    _, missing = await _get(a2, "/posts/999999")
    assert 'rel="canonical"' not in missing.text  # an error page names no canonical address


@pytest.mark.parametrize(
    ("sent", "lands"),
    [
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%2F%2Fevil.example", "/evil.example"),
        ("/%2f%2fevil.example/x?y=1", "/evil.example/x?y=1"),
        ("/posts/1/../../\\evil.example", "/evil.example"),
        ("/reply?to=http://evil.example/x", "/reply?to=http://evil.example/x"),  # a query is only a query
        ("/timeline?page=2", "/timeline?page=2"),
    ],
)
async def test_sign_in_goes_on_to_a_page_of_this_site_only(a2: LiveServer, sent: str, lands: str) -> None:
    async with WebUser(a2.base_url) as web:
        form = await web.get("/login", params={"next": sent})
        assert links_off_site(str(form.url), form.text, a2.base_url) == []
        r = await web.submit(f"/login?next={sent}", "/login", {"username": "ada", "password": PASSWORD, "next": sent})
        assert r.status_code == 303 and r.headers["location"] == a2.base_url + lands


async def test_a_visitor_sent_to_sign_in_comes_back_to_the_same_page(a2: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=a2.base_url, headers=BROWSER) as visitor:
        r = await visitor.get("/reply", params={"to": "http://127.0.0.1:1/x y"})
        assert r.status_code == 303
        location = r.headers["location"]
        assert location == f"{a2.base_url}/login?next=/reply%3Fto%3Dhttp%253A%252F%252F127.0.0.1%253A1%252Fx%2By"
        login = await visitor.get(location)
        assert 'name="next" value="/reply?to=http%3A%2F%2F127.0.0.1%3A1%2Fx+y"' in login.text


def test_normal_paths_and_sign_in_targets() -> None:
    assert normal_path("//evil.example/") == "/evil.example/"
    assert normal_path("/a/./b/../c//d") == "/a/c/d"
    assert normal_path("/../..") == "/"
    assert normal_path("/é x") == "/%C3%A9%20x"
    assert normal_path("/a%b") == "/a%25b"
    assert local_target("//evil.example") is None
    assert local_target("/\\evil.example") is None
    assert local_target("evil.example") is None
    assert local_target("/a\r\nLocation: x") is None
    assert local_target("/%2F%2Fevil.example") == "/evil.example"
    assert local_target("/x?a=1#frag") == "/x?a=1"
