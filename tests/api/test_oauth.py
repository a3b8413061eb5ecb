"""OAuth 2 end to end over HTTP: registering apps every way apps do it, the authorisation page, the code
exchange with and without PKCE, client credentials, revocation, scopes, and everything refused."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import orjson
import pytest

from api_client import REDIRECT, App, authorize_code, code_from, hidden_fields, pkce_pair, register, token_for
from fediverse_a2.services import accounts
from fediverse_a2.store import members, oauth_tokens
from helpers import LiveServer, cli, live_server
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        yield server


def authorize_url(app: App, scopes: str = "read write follow push", redirect: str = REDIRECT, **extra: str) -> str:
    query = {"client_id": app.client_id, "redirect_uri": redirect, "response_type": "code", "scope": scopes}
    return "/oauth/authorize?" + urlencode({**query, **extra})


async def exchange(a2: LiveServer, app: App, code: str, **extra: str) -> httpx.Response:
    async with a2.client() as client:
        return await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": app.client_id, "client_secret": app.client_secret, **extra,
        })  # fmt: skip


async def me(a2: LiveServer, token: str) -> httpx.Response:
    async with a2.client() as client:
        return await client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})


# -- registering ------------------------------------------------------------------------------


async def test_apps_register_as_json_form_or_form_without_content_type(a2: LiveServer) -> None:
    fields = {
        "client_name": "Ice",
        "redirect_uris": "icecubesapp://",
        "scopes": "read write",
        "website": "https://x.invalid",
    }
    async with a2.client() as client:
        uris = ["icecubesapp://", "urn:ietf:wg:oauth:2.0:oob"]
        as_json = await client.post("/api/v1/apps", json={**fields, "redirect_uris": uris})
        as_form = await client.post("/api/v1/apps", data=fields)
        # Ice Cubes sends its form with no Content-Type at all
        bare = await client.post("/api/v1/apps", content=urlencode(fields).encode())
        assert "content-type" not in bare.request.headers
    for r in (as_json, as_form, bare):
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["name"] == "Ice" and data["website"] == "https://x.invalid" and data["scopes"] == ["read", "write"]
        assert data["client_id"] and data["client_secret"] and data["redirect_uri"].startswith("icecubesapp://")
    assert as_json.json()["redirect_uris"] == ["icecubesapp://", "urn:ietf:wg:oauth:2.0:oob"]
    # only a hash of the secret is kept
    secret = bare.json()["client_secret"]
    query = "SELECT secret_hash FROM oauth_apps WHERE client_id = ?"
    stored = await a2.rt.db.fetchval(query, (bare.json()["client_id"],))
    assert stored and secret not in stored


@pytest.mark.parametrize(
    "fields",
    [
        {"redirect_uris": "app://cb"},  # no name
        {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
        {"client_name": "x", "redirect_uris": "https://a.invalid/cb#frag"},
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "x", "redirect_uris": "app://cb", "scopes": "read admin:write"},
        {"client_name": "x"},  # no redirect URI
    ],
)
async def test_bad_registrations_are_refused_with_an_error(a2: LiveServer, fields: dict[str, str]) -> None:
    async with a2.client() as client:
        r = await client.post("/api/v1/apps", data=fields)
    assert r.status_code == 422 and set(r.json()) == {"error"}
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_apps") == 0


# -- the authorisation page -------------------------------------------------------------------


async def test_signed_out_member_signs_in_then_approves_and_the_code_goes_to_a_custom_scheme(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    async with WebUser(a2.base_url) as web:
        first = await web.get(authorize_url(app, state="st"))
        assert first.status_code == 303 and "/login?next=" in first.headers["location"]
        consent = await authorize_code(web, authorize_url(app, state="st"), "alice", PASSWORD)
    assert "Test app" in consent.page
    for text in ("alles van je account lezen", "accounts voor je volgen", REDIRECT):
        assert text in consent.page
    location = consent.location
    assert location.startswith(REDIRECT + "?") and parse_qs(urlsplit(location).query)["state"] == ["st"]
    r = await exchange(a2, app, code_from(location))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write follow push" and body["created_at"] > 0
    assert r.headers["cache-control"] == "no-store"
    assert (await me(a2, body["access_token"])).json()["username"] == "alice"
    # stored hashed, bound to alice and the app
    row = await a2.rt.db.fetchone("SELECT token_hash, member_id FROM oauth_tokens")
    assert body["access_token"] not in row[0]
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and row[1] == alice.id


async def test_the_consent_page_lets_the_app_scheme_through_its_policy(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = await web.get(authorize_url(app))
    policy = page.headers["content-security-policy"]
    assert "form-action 'self'" in policy and "fediverse-a2-test:" in policy
    assert page.headers.get_list("content-security-policy") == [policy]  # one policy, not two
    assert "script-src 'self'" in policy


async def test_deny_sends_access_denied_back(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, authorize_url(app, state="q"), "alice", PASSWORD, approve=False)
    params = parse_qs(urlsplit(consent.location).query)
    assert params["error"] == ["access_denied"] and params["state"] == ["q"] and "code" not in params
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes") == 0


async def test_out_of_band_shows_the_code_on_the_page(a2: LiveServer) -> None:
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = await register(a2.base_url, redirect=oob)
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, authorize_url(app, redirect=oob), "alice", PASSWORD)
    page = consent.location  # no redirect: the answer is the page
    code = page.split('id="oauth-code" class="code" type="text" readonly value="')[1].split('"')[0]
    async with a2.client() as client:
        r = await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": oob,
            "client_id": app.client_id, "client_secret": app.client_secret,
        })  # fmt: skip
    assert r.status_code == 200, r.text


async def test_a_redirect_uri_that_was_not_registered_is_refused_on_the_page(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        for redirect in ("https://evil.invalid/steal", REDIRECT + "/other", 'app://"x'):
            r = await web.get(authorize_url(app, redirect=redirect))
            assert r.status_code == 400 and "location" not in r.headers, redirect
            assert "Dit verzoek kan niet" in r.text
        unknown = await web.get(authorize_url(App("no-such-app", "x")))
        assert unknown.status_code == 400 and "location" not in unknown.headers
        # a POST carrying another redirect URI is refused the same way, and makes no code
        page = await web.get(authorize_url(app))
        fields = dict(hidden_fields(page.text))
        fields.update(redirect_uri="https://evil.invalid/steal", decision="approve")
        r = await web.client.post("/oauth/authorize", data=fields, headers={"Origin": a2.base_url})
        assert r.status_code == 400 and "location" not in r.headers
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes") == 0


async def test_consent_needs_the_form_token_and_this_origin(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = await web.get(authorize_url(app))
        fields = dict(hidden_fields(page.text))
        fields["decision"] = "approve"
        forged = await web.client.post("/oauth/authorize", data=fields, headers={"Origin": "https://evil.invalid"})
        del fields["csrf"]
        tokenless = await web.client.post("/oauth/authorize", data=fields, headers={"Origin": a2.base_url})
    assert forged.status_code == 403 and tokenless.status_code == 403
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes") == 0


async def test_scopes_beyond_the_registration_are_sent_back_as_invalid_scope(a2: LiveServer) -> None:
    app = await register(a2.base_url, scopes="read")
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.get(authorize_url(app, scopes="read write"))
        sub = await web.get(authorize_url(app, scopes="read:statuses"))
    assert r.status_code == 302 and parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["invalid_scope"]
    assert sub.status_code == 200  # read covers read:statuses


# -- the token endpoint -----------------------------------------------------------------------


async def code_for(a2: LiveServer, app: App, **extra: str) -> str:
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, authorize_url(app, **extra), "alice", PASSWORD)
    return code_from(consent.location)


async def test_pkce_s256_is_verified_and_a_wrong_verifier_refused(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    verifier, challenge = pkce_pair()
    code = await code_for(a2, app, code_challenge=challenge, code_challenge_method="S256")
    wrong = await exchange(a2, app, code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # the code is spent by the failed attempt: the right verifier comes too late
    late = await exchange(a2, app, code, code_verifier=verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"

    code = await code_for(a2, app, code_challenge=challenge, code_challenge_method="S256")
    missing = await exchange(a2, app, code)
    assert missing.status_code == 400
    code = await code_for(a2, app, code_challenge=challenge, code_challenge_method="S256")
    right = await exchange(a2, app, code, code_verifier=verifier)
    assert right.status_code == 200, right.text
    # plain is not offered
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        plain = await web.get(authorize_url(app, code_challenge=verifier, code_challenge_method="plain"))
    assert plain.status_code == 302 and "error=invalid_request" in plain.headers["location"]


async def test_a_code_works_once_for_its_own_app_and_redirect_uri(a2: LiveServer) -> None:
    app, other = await register(a2.base_url), await register(a2.base_url)
    code = await code_for(a2, app)
    assert (await exchange(a2, other, code)).json()["error"] == "invalid_grant"  # another app: and now spent
    code = await code_for(a2, app)
    assert (await exchange(a2, app, code, redirect_uri="fediverse-a2-test://else")).status_code == 400
    code = await code_for(a2, app)
    assert (await exchange(a2, app, code)).status_code == 200
    assert (await exchange(a2, app, code)).json()["error"] == "invalid_grant"  # used
    code = await code_for(a2, app)
    bad_secret = await exchange(a2, app, code, client_secret="wrong")
    assert bad_secret.status_code in (400, 401) and bad_secret.json()["error"] == "invalid_client"


async def test_client_secret_basic_is_accepted_too(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    code = await code_for(a2, app)
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    async with a2.client() as client:
        r = await client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": REDIRECT}, headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    assert r.status_code == 200, r.text


async def test_client_credentials_give_an_app_token_that_acts_for_no_member(a2: LiveServer) -> None:
    app = await register(a2.base_url, scopes="read write")
    async with a2.client() as client:
        r = await client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app.client_id,
                              "client_secret": app.client_secret, "scope": "read"})  # fmt: skip
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        verified = await client.get("/api/v1/apps/verify_credentials", headers=auth)
        assert verified.status_code == 200 and verified.json()["name"] == "Test app"
        assert "client_secret" not in verified.json()
        mine = await client.get("/api/v1/accounts/verify_credentials", headers=auth)
        assert mine.status_code == 422 and mine.json() == {"error": "This method requires an authenticated user"}
        beyond = await client.post("/oauth/token", data={"grant_type": "client_credentials",
                                   "client_id": app.client_id, "client_secret": app.client_secret,
                                   "scope": "follow"})  # fmt: skip
        assert beyond.status_code == 400 and beyond.json()["error"] == "invalid_scope"
        password = await client.post("/oauth/token", data={"grant_type": "password", "username": "alice",
                                     "password": PASSWORD, "client_id": app.client_id,
                                     "client_secret": app.client_secret})  # fmt: skip
        assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"


# -- tokens on the API ------------------------------------------------------------------------


async def test_a_read_only_token_is_refused_a_write(a2: LiveServer) -> None:
    token = await token_for(a2.base_url, "alice", PASSWORD, scopes="read")
    async with a2.client() as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/accounts/verify_credentials", headers=auth)).status_code == 200
        r = await client.patch("/api/v1/accounts/update_credentials", data={"display_name": "Mallory"}, headers=auth)
    assert r.status_code == 403 and r.json() == {"error": "This action is outside the authorized scopes"}
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and alice.name == "Alice de Vries"


async def test_sub_scopes_and_profile_allow_only_what_they_name(a2: LiveServer) -> None:
    profile = await token_for(a2.base_url, "alice", PASSWORD, scopes="profile")
    statuses = await token_for(a2.base_url, "alice", PASSWORD, scopes="read:statuses write:statuses")
    assert (await me(a2, profile)).status_code == 200  # Mastodon 4.3: profile is enough for verify_credentials
    assert (await me(a2, statuses)).status_code == 403
    async with a2.client() as client:
        r = await client.get("/api/v1/markers", params={"timeline[]": "home"},
                             headers={"Authorization": f"Bearer {statuses}"})  # fmt: skip
        assert r.status_code == 200
        r = await client.get("/api/v1/preferences", headers={"Authorization": f"Bearer {profile}"})
        assert r.status_code == 403


async def test_revoked_and_unknown_tokens_are_refused(a2: LiveServer) -> None:
    app = await register(a2.base_url)
    token = await token_for(a2.base_url, "alice", PASSWORD, app=app)
    assert (await me(a2, token)).status_code == 200
    async with a2.client() as client:
        other = await register(a2.base_url)
        foreign = await client.post("/oauth/revoke", data={"token": token, "client_id": other.client_id,
                                    "client_secret": other.client_secret})  # fmt: skip
        assert foreign.status_code in (400, 403) and (await me(a2, token)).status_code == 200
        r = await client.post("/oauth/revoke", data={"token": token, "client_id": app.client_id,
                              "client_secret": app.client_secret})  # fmt: skip
        assert r.status_code == 200 and r.json() == {}
    refused = await me(a2, token)
    assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}
    for header in ("Bearer nonsense", "Bearer", "Basic abc", "Token x"):
        async with a2.client() as client:
            r = await client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": header})
        assert r.status_code == 401 and "error" in r.json(), header
    async with a2.client() as client:
        assert (await client.get("/api/v1/accounts/verify_credentials")).status_code == 401
        # on a public endpoint too, a token that is sent must be valid
        r = await client.get("/api/v1/instance", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_a_new_password_or_disabling_ends_the_tokens(a2: LiveServer) -> None:
    first = await token_for(a2.base_url, "alice", PASSWORD)
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None
    await accounts.set_password(a2.rt, alice, "another good password")
    assert (await me(a2, first)).status_code == 401
    second = await token_for(a2.base_url, "alice", "another good password")
    assert (await me(a2, second)).status_code == 200
    cli(a2.config_path, "member", "disable", "alice")
    assert (await me(a2, second)).status_code == 401
    assert await oauth_tokens.authorised_apps(a2.rt.db, alice.id) == []


async def test_settings_apps_lists_the_apps_and_revokes_one(a2: LiveServer) -> None:
    token = await token_for(a2.base_url, "alice", PASSWORD)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = await web.get("/settings/apps")
        assert page.status_code == 200 and "Test app" in page.text and "read write follow push" in page.text
        link = re.search(r'href="/settings/apps/revoke\?app=(\d+)"', page.text)
        assert link is not None
        app_id = link.group(1)
        forged = await web.client.post("/settings/apps/revoke", data={"app": app_id}, headers={"Origin": a2.base_url})
        assert forged.status_code == 403 and (await me(a2, token)).status_code == 200
        asked = await web.get(f"/settings/apps/revoke?app={app_id}")  # asks first: nothing happens yet
        assert asked.status_code == 200 and "Test app" in asked.text and (await me(a2, token)).status_code == 200
        r = await web.confirm(f"/settings/apps/revoke?app={app_id}")
        assert r.status_code == 303
        after = await web.get("/settings/apps?revoked=1")
        assert "Test app" not in after.text
    assert (await me(a2, token)).status_code == 401


# -- the frame --------------------------------------------------------------------------------


async def test_cors_as_mastodon_has_it(a2: LiveServer) -> None:
    async with a2.client() as client:
        for path, method in (("/api/v1/accounts/verify_credentials", "GET"), ("/oauth/token", "POST"),
                             ("/api/v1/statuses", "POST")):  # fmt: skip
            pre = await client.options(path, headers={
                "Origin": "https://elk.invalid", "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            })  # fmt: skip
            assert pre.status_code == 200, (path, pre.text)
            assert pre.headers["access-control-allow-origin"] == "*"
            assert method in pre.headers["access-control-allow-methods"]
            assert "authorization" in pre.headers["access-control-allow-headers"].lower()
            assert "access-control-allow-credentials" not in pre.headers
        r = await client.get("/api/v1/instance", headers={"Origin": "https://elk.invalid"})
        assert r.headers["access-control-allow-origin"] == "*" and "Link" in r.headers["access-control-expose-headers"]
        page = await client.get("/", headers={"Origin": "https://elk.invalid"})
        assert "access-control-allow-origin" not in page.headers  # the web pages are not shared


async def test_errors_trailing_slashes_and_unknown_paths(a2: LiveServer) -> None:
    async with a2.client() as client:
        plain, slashed = await client.get("/api/v1/instance"), await client.get("/api/v1/instance/")
        assert plain.status_code == slashed.status_code == 200 and plain.json()["uri"] == slashed.json()["uri"]
        missing = await client.get("/api/v1/no_such_thing")
        assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
        wrong_method = await client.delete("/api/v1/instance")
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()
        account = await client.get("/api/v1/accounts/999999")
        assert account.status_code == 404 and account.json() == {"error": "Record not found"}
        broken = await client.post("/api/v1/apps", content=b"{not json", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and "error" in broken.json()
        huge = await client.post("/api/v1/apps", content=orjson.dumps({"client_name": "x" * 2_000_000}),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
        assert huge.status_code == 413
        meta = await client.get("/.well-known/oauth-authorization-server")
        assert meta.json()["token_endpoint"] == f"{a2.base_url}/oauth/token"
        assert meta.json()["issuer"] == a2.base_url
