"""Apps in tests: register one, and go through the real authorisation (sign-in and consent forms over HTTP)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from webclient import WebUser

__all__ = ["REDIRECT", "App", "Consent", "authorize_code", "hidden_fields", "pkce_pair", "register", "token_for"]

REDIRECT = "fediverse-a2-test://oauth-callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Consent:
    """The consent page as the member saw it, and where approving it led."""

    page: str
    location: str


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden fields of a page's forms (what the consent form carries), unescaped."""
    return [(name, html.unescape(value)) for name, value in _HIDDEN.findall(page)]


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register(base_url: str, scopes: str = "read write follow push", redirect: str = REDIRECT) -> App:
    """POST /api/v1/apps as a form."""
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        r = await client.post(
            "/api/v1/apps", data={"client_name": "Test app", "redirect_uris": redirect, "scopes": scopes}
        )
    assert r.status_code == 200, r.text
    data = r.json()
    return App(data["client_id"], data["client_secret"])


async def authorize_code(web: WebUser, url: str, username: str, password: str, *, approve: bool = True) -> Consent:
    """Open an authorisation URL as a browser: sign in when asked, then approve (or deny) on the consent page."""
    path = url.removeprefix(web.base_url)
    page = await web.get(path)
    if page.status_code == 303 and "/login" in page.headers["location"]:
        login_path = page.headers["location"].removeprefix(web.base_url)
        next_path = parse_qs(urlsplit(login_path).query)["next"][0]
        signed = await web.submit(login_path, "/login", {"username": username, "password": password, "next": next_path})
        assert signed.status_code == 303, signed.text
        path = signed.headers["location"].removeprefix(web.base_url)
        page = await web.get(path)
    assert page.status_code == 200, (page.status_code, page.text[:500])
    fields: dict[str, Any] = dict(hidden_fields(page.text))
    fields["decision"] = "approve" if approve else "deny"
    answer = await web.client.post("/oauth/authorize", data=fields, headers={"Origin": web.base_url})
    assert answer.status_code in (200, 302), (answer.status_code, answer.text[:500])
    return Consent(page.text, answer.headers.get("location", "") or answer.text)


def code_from(location: str) -> str:
    """The code an approval sent back to the app's redirect URI."""
    return parse_qs(urlsplit(location).query)["code"][0]


async def token_for(
    base_url: str, username: str, password: str, scopes: str = "read write follow push", app: App | None = None
) -> str:
    """A member's access token through the whole real flow: register, sign in, approve, exchange the code."""
    app = app or await register(base_url, scopes)
    query = urlencode({"client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": scopes})
    async with WebUser(base_url) as web:
        consent = await authorize_code(web, f"/oauth/authorize?{query}", username, password)
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        r = await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code_from(consent.location), "redirect_uri": REDIRECT,
            "client_id": app.client_id, "client_secret": app.client_secret,
        })  # fmt: skip
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token
