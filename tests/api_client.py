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

from fediverse_a2.store import follows, members
from helpers import wait_for
from webclient import WebUser

__all__ = [
    "REDIRECT",
    "Api",
    "App",
    "Consent",
    "authorize_code",
    "follows_member",
    "hidden_fields",
    "member_follows",
    "pkce_pair",
    "register",
    "token_for",
]

REDIRECT = "fediverse-a2-test://oauth-callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class Api:
    """httpx on a running instance with a member's bearer token."""

    def __init__(self, server: Any, token: str) -> None:
        self.client: httpx.AsyncClient = server.client(headers={"Authorization": f"Bearer {token}"})

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, **kw)


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


async def follows_member(server: Any, fake: Any, name: str, username: str) -> None:
    """A user of the fake server follows a member (accepted at once: the member is not locked)."""
    follow = {"id": f"{fake.base}/follows/{name}-{username}", "type": "Follow", "actor": fake.uri(name),
              "object": server.rt.urls.actor(username)}  # fmt: skip
    assert (await fake.send(name, server.rt.urls.inbox(username), follow)).status_code == 202
    member = await members.by_username(server.rt.db, username)
    assert member is not None

    async def following() -> bool:
        return await follows.is_follower(server.rt.db, member.id, fake.uri(name))

    await wait_for(following, what=f"{name} following {username}")


async def member_follows(server: Any, fake: Any, name: str, token: str) -> str:
    """The member of a token follows a user of the fake server through the API (the fake accepts); their account id."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20,
                                 headers={"Authorization": f"Bearer {token}"}) as api:  # fmt: skip
        handle = f"{name}@{fake.base.removeprefix('http://')}"
        found = (await api.get("/api/v1/accounts/search", params={"q": handle, "resolve": "true"})).json()
        account_id: str = found[0]["id"]
        assert (await api.post(f"/api/v1/accounts/{account_id}/follow")).status_code == 200

        async def follow_arrived() -> list[dict[str, Any]]:
            return [f for f in fake.received_of("Follow") if f["object"] == fake.uri(name)]

        follow = (await wait_for(follow_arrived, what=f"the Follow of {name}"))[-1]
        accept = {"id": f"{fake.base}/accepts/{secrets.token_hex(4)}", "type": "Accept", "actor": fake.uri(name),
                  "object": follow}  # fmt: skip
        assert (await fake.send(name, follow["actor"] + "/inbox", accept)).status_code == 202

        async def accepted() -> bool:
            rel = (await api.get("/api/v1/accounts/relationships", params={"id[]": account_id})).json()
            return bool(rel[0]["following"])

        await wait_for(accepted, what=f"following {name}")
    return account_id
