"""Apps in a real browser (Debian's Chromium, driven by Playwright): the member signs in from an
app's authorisation link, sees the consent page and approves; the browser is sent back to the
app's web address with a code that works, and to an app's own scheme without the page's policy
stopping it. The consent page, the code page and /settings/apps pass axe-core and html-validate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api_client import REDIRECT, App, register
from browser import BrowserPage, assert_accessible, assert_valid_html, browser_page, outline_problems, require_browser
from helpers import LiveServer, free_socket, live_server, serving
from webclient import member_with_password

PASSWORD = "correct horse battery"
OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    require_browser()
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        yield server


class WebApp:
    """A web app's own page on 127.0.0.1, where the browser lands with the code."""

    def __init__(self) -> None:
        self.sock = free_socket()
        self.callback = f"http://127.0.0.1:{self.sock.getsockname()[1]}/callback"
        self.app = Starlette(routes=[Route("/callback", self.landed)])

    async def landed(self, request: Request) -> Response:
        return PlainTextResponse("ok")


def authorize_path(app: App, redirect: str) -> str:
    query = {"client_id": app.client_id, "redirect_uri": redirect, "response_type": "code", "scope": "read write"}
    return "/oauth/authorize?" + urlencode(query)


async def check_page(bp: BrowserPage) -> None:
    html = await bp.page.content()
    assert outline_problems(html) == [], bp.page.url
    assert_valid_html(html)
    await assert_accessible(bp.page)
    bp.assert_clean()


async def test_a_member_lets_an_app_in_from_the_browser(a2: LiveServer) -> None:
    web_app = WebApp()
    callback = web_app.callback
    app = await register(a2.base_url, scopes="read write", redirect=f"{callback} {REDIRECT} {OOB}")
    async with serving(web_app), browser_page(a2.base_url, locale="nl-NL") as bp:
        page = bp.page
        await page.goto(authorize_path(app, callback))
        assert "/login" in page.url  # signed out: the sign-in form first
        await page.fill("input[name=username]", "alice")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_url("**/oauth/authorize?**")
        assert "Test app" in await page.content()
        await check_page(bp)
        await page.click("button[name=decision][value=approve]")
        await page.wait_for_url(f"{callback}?**")
        code = parse_qs(urlsplit(page.url).query)["code"][0]
        bp.assert_clean()
        async with httpx.AsyncClient(base_url=a2.base_url) as client:
            r = await client.post("/oauth/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
                "client_id": app.client_id, "client_secret": app.client_secret,
            })  # fmt: skip
        assert r.status_code == 200, r.text

        # Out of band: the code on a page of its own.
        await page.goto(authorize_path(app, OOB))
        await page.click("button[name=decision][value=approve]")
        await page.wait_for_selector("#oauth-code")
        await check_page(bp)

        await page.goto("/settings/apps")
        assert "Test app" in await page.content()
        await check_page(bp)
        await page.click("a[href^='/settings/apps/revoke']")
        await page.wait_for_url("**/settings/apps/revoke?app=*")
        await check_page(bp)  # the page that asks first
        await page.click("form[action='/settings/apps/revoke'] button[type=submit]")
        await page.wait_for_url("**/settings/apps?revoked=1")
        assert "Test app" not in await page.inner_text("main")
        await check_page(bp)

        # To an app's own scheme: the page's form-action lets the redirect through.
        await page.goto(authorize_path(app, REDIRECT))
        codes = await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes")
        bp.clear()
        # Chromium hands the redirect to whatever app has the scheme (none here: the navigation is
        # aborted); had the page's policy not allowed the scheme, it would report a violation.
        async with page.expect_event("requestfailed") as failed:
            await page.click("button[name=decision][value=approve]")
        assert (await failed.value).url == f"{a2.base_url}/oauth/authorize"
        assert bp.csp_violations == []
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes") == codes + 1  # the app's code
        bp.clear()
