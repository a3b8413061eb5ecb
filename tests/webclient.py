"""A cookie-keeping HTTP client that uses the site's forms as a browser would (token, Origin), for tests."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from fediverse_a2.services.accounts import set_password
from fediverse_a2.services.members import add_member
from helpers import LiveServer

__all__ = ["BROWSER", "WebUser", "csrf_of", "member_with_password"]

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "Accept": "text/html"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_QUESTION = re.compile(r'<section class="form-page confirm">.*?<form method="post" action="([^"]*)">(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = _CSRF.search(html)
    assert match, "no form with a CSRF token on the page"
    return match.group(1)


async def member_with_password(server: LiveServer, username: str, name: str, password: str, **kw: Any) -> None:
    """A member who can sign in."""
    member = await add_member(server.rt, username, name, **kw)
    await set_password(server.rt, member, password)


class WebUser:
    """One browser: its own cookies; forms are fetched first for their token and sent with an Origin."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = httpx.AsyncClient(base_url=base_url, timeout=20, headers=BROWSER)

    async def __aenter__(self) -> WebUser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        """A GET, cookies kept, redirects not followed."""
        return await self.client.get(path, **kw)

    async def submit(
        self,
        form_page: str,
        action: str,
        data: dict[str, Any],
        files: Any = None,
        *,
        token: bool = True,
        origin: str | None = "self",
    ) -> httpx.Response:
        """Open `form_page`, take its token, POST `data` to `action` (as a browser on this site would)."""
        page = await self.get(form_page)
        assert page.status_code == 200, (form_page, page.status_code, page.text[:300])
        fields = dict(data)
        if token:
            fields.setdefault("csrf", csrf_of(page.text))
        headers = {} if origin is None else {"Origin": self.base_url if origin == "self" else origin}
        return await self.client.post(action, data=fields, files=files, headers=headers)

    async def confirm(self, page: str) -> httpx.Response:
        """Open a page that asks first (web/confirm.py) and answer yes: its form POSTed as shown."""
        shown = await self.get(page)
        assert shown.status_code == 200, (page, shown.status_code, shown.text[:300])
        form = _QUESTION.search(shown.text)
        assert form, f"{page} asks nothing"
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(form.group(2))}
        action = html.unescape(form.group(1))
        return await self.client.post(action, data=fields, headers={"Origin": self.base_url})

    async def login(self, username: str, password: str) -> httpx.Response:
        """Sign in through /login."""
        return await self.submit("/login", "/login", {"username": username, "password": password})
