"""Members on the web, through real HTTP: sign-in, sessions, CSRF, throttling, headers, invitations, joining."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fediverse_a2.app import create_app
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from fediverse_a2.services import accounts
from fediverse_a2.store import members, posts
from helpers import LiveServer, cli, last_line, live_server, write_config
from webclient import BROWSER, WebUser, csrf_of, member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as s:
        await member_with_password(s, "alice", "Alice de Vries", PASSWORD)
        yield s


def session_cookie(response: httpx.Response) -> str:
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("a2_session="))
    return header


async def test_sign_in_sets_a_safe_session_cookie_and_stores_only_its_hash(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        r = await web.login("alice", PASSWORD)
        assert r.status_code == 303 and r.headers["location"] == f"{server.base_url}/"
        cookie = session_cookie(r)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
        session_id = web.client.cookies["a2_session"]
        stored = [row["id_hash"] for row in await server.rt.db.fetchall("SELECT id_hash FROM sessions")]
        assert stored == [hashlib.sha256(session_id.encode()).hexdigest()]
        page = await web.get("/")
        assert "Uitloggen" in page.text and 'action="/logout"' in page.text


async def test_session_id_is_rotated_at_sign_in_and_deleted_at_sign_out(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        await web.login("alice", PASSWORD)
        first = web.client.cookies["a2_session"]
        await web.login("alice", PASSWORD)
        second = web.client.cookies["a2_session"]
        assert first != second
        assert await accounts.member_for_session(server.rt, first) is None
        assert await accounts.member_for_session(server.rt, second) is not None
        assert (await web.get("/logout")).status_code == 405  # signing out is a POST
        r = await web.submit("/", "/logout", {})
        assert r.status_code == 303
        assert await accounts.member_for_session(server.rt, second) is None
        assert await server.rt.db.fetchval("SELECT COUNT(*) FROM sessions") == 0


async def test_a_new_password_ends_the_other_sessions(server: LiveServer) -> None:
    async with WebUser(server.base_url) as laptop, WebUser(server.base_url) as phone:
        await laptop.login("alice", PASSWORD)
        await phone.login("alice", PASSWORD)
        r = await laptop.submit(
            "/settings/password", "/settings/password",
            {"current": PASSWORD, "password": "een nieuw wachtwoord", "password_again": "een nieuw wachtwoord"},
        )  # fmt: skip
        assert r.status_code == 200 and "gewijzigd" in r.text
        assert (await laptop.get("/settings/profile")).status_code == 200
        assert (await phone.get("/settings/profile")).status_code == 303  # signed out
        assert (await laptop.login("alice", "een nieuw wachtwoord")).status_code == 303


async def test_post_without_csrf_token_or_origin_is_refused_and_changes_nothing(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        await web.login("alice", PASSWORD)
        form = {"title": "Aanval", "body": "tekst", "action": "publish"}
        assert (await web.submit("/posts/new", "/posts/new", form, token=False)).status_code == 403
        assert (await web.submit("/posts/new", "/posts/new", {**form, "csrf": "0" * 64})).status_code == 403
        assert (await web.submit("/posts/new", "/posts/new", form, origin=None)).status_code == 403
        assert (await web.submit("/posts/new", "/posts/new", form, origin="https://evil.example")).status_code == 403
        referer_only = await web.client.post(
            "/posts/new", data={**form, "csrf": csrf_of((await web.get("/posts/new")).text)},
            headers={"Referer": f"{server.base_url}/posts/new"},
        )  # fmt: skip
        assert referer_only.status_code == 303  # a Referer of this site stands in for a missing Origin
        assert await posts.count_live(server.rt.db) == 1
        r = await web.submit("/", "/logout", {}, token=False)
        assert r.status_code == 403
        assert await server.rt.db.fetchval("SELECT COUNT(*) FROM sessions") == 1


async def test_a_token_of_another_session_is_refused(server: LiveServer) -> None:
    await member_with_password(server, "bob", "Bob", PASSWORD)
    async with WebUser(server.base_url) as alice, WebUser(server.base_url) as bob:
        await alice.login("alice", PASSWORD)
        await bob.login("bob", PASSWORD)
        bobs_token = csrf_of((await bob.get("/posts/new")).text)
        r = await alice.client.post(
            "/posts/new", data={"title": "T", "body": "b", "action": "publish", "csrf": bobs_token},
            headers={"Origin": server.base_url},
        )  # fmt: skip
        assert r.status_code == 403
        assert await posts.count_live(server.rt.db) == 0


async def test_wrong_passwords_are_throttled_and_unknown_users_look_the_same(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        unknown = await web.login("nobody", "whatever it is")
        wrong = await web.login("alice", "whatever it is")
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.text.split("<main")[1].replace("nobody", "alice") == wrong.text.split("<main")[1]
        for _ in range(9):  # with the one above: ten for alice
            assert (await web.login("alice", "nope nope nope")).status_code == 401
        throttled = await web.login("alice", PASSWORD)  # even the right password now waits
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
        assert "a2_session" not in web.client.cookies


# Failures from one address across accounts (and that others' failures never lock a member out
# at a shared address): tests/web/test_seams_round2.py, family 2.


async def test_every_html_page_sends_the_security_headers(server: LiveServer) -> None:
    url = last_line(cli(server.config_path, "post", "alice", "--title", "T", "--body", "b"))
    async with WebUser(server.base_url) as web:
        for path in ("/", "/login", "/join", url.removeprefix(server.base_url), "/users/alice", "/nowhere"):
            r = await web.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"
            assert "onclick" not in r.text and "<script" not in r.text and "style=" not in r.text
        api = await web.get("/.well-known/nodeinfo")
        assert api.headers["x-content-type-options"] == "nosniff"


async def test_https_instances_use_secure_host_prefixed_cookies(tmp_path: Path) -> None:
    rt = await Runtime.open(load_config(write_config(tmp_path, "https://a2.example")))
    try:
        await member_with_password(LiveServer(rt, None, "https://a2.example", tmp_path), "alice", "Alice", PASSWORD)
        app = create_app(rt, run_workers=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="https://a2.example", headers=BROWSER) as client:
            page = await client.get("/login")
            token = csrf_of(page.text)
            visitor = next(v for k, v in page.headers.multi_items() if k == "set-cookie")
            assert visitor.startswith("__Host-a2_visitor=") and "Secure" in visitor and "Path=/" in visitor
            r = await client.post(
                "/login", data={"username": "alice", "password": PASSWORD, "csrf": token},
                headers={"Origin": "https://a2.example"},
            )  # fmt: skip
            assert r.status_code == 303, r.text
            cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "a2_session" in v)
            assert cookie.startswith("__Host-a2_session=") and "Secure" in cookie and "HttpOnly" in cookie
            assert "Domain" not in cookie
    finally:
        await rt.close()


async def test_invite_link_works_once_within_seven_days(server: LiveServer) -> None:
    await server.rt.db.execute("UPDATE members SET password_hash = NULL")
    link = last_line(cli(server.config_path, "member", "invite", "alice"))
    path = link.removeprefix(server.base_url)
    async with WebUser(server.base_url) as web:
        assert (await web.login("alice", PASSWORD)).status_code == 401  # no password yet
        r = await web.submit(
            path, path, {"password": "mijn eigen wachtwoord", "password_again": "mijn eigen wachtwoord"}
        )
        assert r.status_code == 303 and "a2_session" in web.client.cookies
        again = await web.get(path)
        assert again.status_code == 404 and "niet (meer) geldig" in again.text
    async with WebUser(server.base_url) as web:
        assert (await web.login("alice", "mijn eigen wachtwoord")).status_code == 303
    late = last_line(cli(server.config_path, "member", "invite", "alice"))
    await server.rt.db.execute("UPDATE invites SET expires_at = ? WHERE used_at IS NULL", (time.time() - 1,))
    async with WebUser(server.base_url) as web:
        assert (await web.get(late.removeprefix(server.base_url))).status_code == 404


async def test_disabled_and_suspended_members_cannot_sign_in(server: LiveServer) -> None:
    async with WebUser(server.base_url) as web:
        await web.login("alice", PASSWORD)
        cli(server.config_path, "member", "disable", "alice")
        assert (await web.get("/settings/profile")).status_code == 303  # the session ended
        assert (await web.login("alice", PASSWORD)).status_code == 401
        cli(server.config_path, "member", "enable", "alice")
        assert (await web.login("alice", PASSWORD)).status_code == 303


async def test_visitor_asks_to_join_and_an_admin_approves(server: LiveServer) -> None:
    cli(server.config_path, "member", "role", "alice", "admin")
    await member_with_password(server, "bob", "Bob", PASSWORD)
    async with WebUser(server.base_url) as visitor:
        page = await visitor.get("/join")
        for field in ("name", "email", "organisation", "motivation"):
            assert f'name="{field}"' in page.text and f'for="{field}"' in page.text
        bad = await visitor.submit("/join", "/join", {"name": "Noor", "email": "geen-adres"})
        assert bad.status_code == 400 and "e-mailadres" in bad.text
        r = await visitor.submit(
            "/join", "/join",
            {"name": "Noor Bakker", "email": "noor@gemeente.example", "organisation": "Gemeente",
             "motivation": "Samen"},
        )  # fmt: skip
        assert r.status_code == 200 and "ontvangen" in r.text
    listing = cli(server.config_path, "member", "requests").stdout
    assert "Noor Bakker" in listing and "noor@gemeente.example" in listing
    async with WebUser(server.base_url) as bob:
        await bob.login("bob", PASSWORD)
        assert (await bob.get("/admin/requests")).status_code == 403
    async with WebUser(server.base_url) as admin:
        await admin.login("alice", PASSWORD)
        page = await admin.get("/admin/requests")
        assert "Noor Bakker" in page.text
        request_id = await server.rt.db.fetchval("SELECT id FROM membership_requests")
        r = await admin.submit(
            "/admin/requests",
            "/admin/requests",
            {"request": str(request_id), "decision": "approve", "username": "noor"},
        )
        assert r.status_code == 200 and "/invite/" in r.text
    noor = await members.by_username(server.rt.db, "noor")
    assert noor is not None and noor.name == "Noor Bakker" and noor.email == "noor@gemeente.example"
    assert "no open membership requests" in cli(server.config_path, "member", "requests").stdout
    async with httpx.AsyncClient() as client:
        actor = await client.get(f"{server.base_url}/users/noor", headers={"Accept": "application/activity+json"})
    assert actor.status_code == 200 and "noor@gemeente.example" not in actor.text  # the e-mail is never published


async def test_visitors_see_the_old_platforms_notice_instead_of_the_form(server: LiveServer) -> None:
    url = last_line(cli(server.config_path, "post", "alice", "--title", "T", "--body", "b"))
    async with WebUser(server.base_url) as web:
        page = (await web.get(url)).text
        assert "Je moet lid zijn van Test A2 om reacties te kunnen toevoegen!" in page
        assert 'href="/join">Word lid van Test A2</a>' in page and "/login?next=" in page
        assert 'name="body"' not in page
        english = (await web.get(url + "?lang=en")).text
        assert "You must be a member of Test A2 to add comments!" in english and "Join Test A2" in english
        await web.login("alice", PASSWORD)
        page = (await web.get(url)).text
        assert 'name="body"' in page and "Je moet lid zijn" not in page
