"""The admin pages through real HTTP: members (role, disable), the federation policy (rules, CSV upload)
and the delivery queue; who may open them, CSRF, and the audit log (CLI changes included)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import audit, deliveries, domain_rules, follows, members
from helpers import LiveServer, cli, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
ADMIN_PAGES = ("/admin/members", "/admin/federation", "/admin/queue", "/admin/requests")
CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,false,false,Spam,false\n"
    "loud.example,silence,false,false,,false\n"
)


@pytest.fixture
async def a2(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    rules = {"block": ["config.example"]}
    async with live_server(tmp_path / "a2", run_workers=True, database=database_url, federation=rules) as server:
        await member_with_password(server, "ria", "Ria Beheer", PASSWORD, role="admin")
        await member_with_password(server, "bob", "Bob Lid", PASSWORD)
        await member_with_password(server, "mod", "Mo Derator", PASSWORD, role="moderator")
        yield server


async def signed_in(a2: LiveServer, username: str, password: str = PASSWORD) -> WebUser:
    web = WebUser(a2.base_url)
    r = await web.login(username, password)
    assert r.status_code == 303, r.text
    return web


async def entries(a2: LiveServer) -> list[tuple[str, str, str, str]]:
    return [(e.actor, e.action, e.target, e.detail) for e in await audit.recent(a2.rt.db)]


async def test_admin_pages_refuse_members_moderators_and_visitors(a2: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=a2.base_url) as visitor:
        for path in ADMIN_PAGES:
            r = await visitor.get(path)
            assert r.status_code == 303 and r.headers["location"].endswith(f"/login?next={path}"), path
    for username in ("bob", "mod"):
        async with await signed_in(a2, username) as web:
            for path in ADMIN_PAGES:
                assert (await web.get(path)).status_code == 403, (username, path)
            r = await web.client.post(
                "/admin/members", data={"username": "bob", "action": "role", "role": "admin"},
                headers={"Origin": a2.base_url},
            )  # fmt: skip
            assert r.status_code == 403
    bob = await members.by_username(a2.rt.db, "bob")
    assert bob is not None and bob.role == "member"
    async with await signed_in(a2, "ria") as web:
        for path in ADMIN_PAGES:
            page = await web.get(path)
            assert page.status_code == 200, path
            for link in ADMIN_PAGES:  # the admin nav links them to each other
                assert f'href="{link}"' in page.text


async def test_role_change_and_disable_through_admin_members(a2: LiveServer) -> None:
    async with await signed_in(a2, "ria") as admin, await signed_in(a2, "bob") as bob:
        assert (await bob.get("/moderation/reports")).status_code == 403
        r = await admin.submit(
            "/admin/members", "/admin/members", {"username": "bob", "action": "role", "role": "moderator"}
        )
        assert r.status_code == 303
        assert (await bob.get("/moderation/reports")).status_code == 200
        page = (await admin.get("/admin/members")).text
        assert '<option value="moderator" selected>' in page

        bad = await admin.submit(
            "/admin/members", "/admin/members", {"username": "bob", "action": "role", "role": "owner"}
        )
        assert bad.status_code == 400
        self_demote = {"username": "ria", "action": "role", "role": "member"}
        assert (await admin.submit("/admin/members", "/admin/members", self_demote)).status_code == 400

        r = await admin.submit("/admin/members", "/admin/members", {"username": "bob", "action": "disable"})
        assert r.status_code == 303
        r = await bob.get("/moderation")
        assert r.status_code == 303 and "/login" in r.headers["location"]  # the session ended
        async with WebUser(a2.base_url) as again:
            assert (await again.login("bob", PASSWORD)).status_code != 303
        assert "uitgeschakeld" in (await admin.get("/admin/members")).text

        r = await admin.submit("/admin/members", "/admin/members", {"username": "bob", "action": "enable"})
        assert r.status_code == 303
    async with await signed_in(a2, "bob") as bob:
        assert (await bob.get("/moderation/log")).status_code == 200
    log = await entries(a2)
    assert ("ria", "member_role", "bob", "moderator") in log
    assert ("ria", "member_disable", "bob", "") in log and ("ria", "member_enable", "bob", "") in log
    assert not any(target == "ria" for _, _, target, _ in log)  # the refused self-demotion did nothing


async def test_federation_rules_and_csv_import(a2: LiveServer) -> None:
    async with await signed_in(a2, "ria") as admin:
        page = (await admin.get("/admin/federation")).text
        assert '<strong class="mode" data-mode="open">alle servers behalve de geblokkeerde</strong>' in page
        # a rule from config.toml, with its source in words
        assert re.search(r"<td[^>]*>config\.example</td><td[^>]*>configuratie \(config\.toml\)</td>", page)

        asked = await admin.get("/moderation/block", params={"kind": "domain", "target": "Bad.Example"})
        assert asked.status_code == 200 and "bad.example" in asked.text and not a2.rt.policy.is_blocked("bad.example")
        r = await admin.confirm("/moderation/block?kind=domain&target=Bad.Example")
        assert r.status_code == 303
        assert a2.rt.policy.is_blocked("sub.bad.example")
        rules = (await admin.get("/admin/federation")).text
        assert re.search(r"<td[^>]*>bad\.example</td><td[^>]*>beheerder</td>", rules)

        r = await admin.submit("/admin/federation", "/admin/federation", {"action": "unblock", "domain": "bad.example"})
        assert r.status_code == 303 and not a2.rt.policy.is_blocked("bad.example")
        r = await admin.submit(
            "/admin/federation", "/admin/federation", {"action": "unblock", "domain": "config.example"}
        )
        assert r.status_code == 400  # config.toml's rules are changed there

        files = {"csv": ("blocks.csv", CSV.encode(), "text/csv")}
        r = await admin.submit("/admin/federation", "/admin/federation", {"action": "import"}, files=files)
        assert r.status_code == 200 and "2 blokkade(s) toegevoegd" in r.text
        assert a2.rt.policy.is_blocked("spam.example")
        assert re.search(r"<td[^>]*>spam\.example</td><td[^>]*>beheerder</td><td[^>]*>volledig blokkeren</td>", r.text)
        broken = {"csv": ("blocks.csv", b"#domain,#severity\nnot a domain!,suspend\n", "text/csv")}
        r = await admin.submit("/admin/federation", "/admin/federation", {"action": "import"}, files=broken)
        assert r.status_code == 400 and 'role="alert"' in r.text
        assert "Regel 2: &#39;not a domain!&#39; is geen geldige domeinnaam." in r.text

    # the CLI's changes are in the same log, as "cli"
    await asyncio.to_thread(cli, a2.config_path, "domain", "block", "cli.example")
    log = await entries(a2)
    assert ("cli", "domain_block", "cli.example", "") in log
    assert ("ria", "domain_block", "bad.example", "") in log and ("ria", "domain_unblock", "bad.example", "") in log
    assert any(who == "ria" and what == "domain_import" for who, what, _, _ in log)
    async with await signed_in(a2, "mod") as mod:
        page = (await mod.get("/moderation/log")).text
        assert re.search(
            r'<td class="who"[^>]*>opdrachtregel</td><td class="what"[^>]*>server geblokkeerd</td>'
            r"<td[^>]*><code>cli\.example</code>",
            page,
        )


async def test_queue_page_shows_states_and_failures(a2: LiveServer) -> None:
    root = await members.by_username(a2.rt.db, "ria")
    assert root is not None
    # a follower on a port nobody listens on: its deliveries fail and are retried
    await follows.add_follower(
        a2.rt.db, root.id, "http://127.0.0.1:9/users/nobody", "http://127.0.0.1:9/users/nobody/inbox", None,
        "127.0.0.1:9", None,
    )  # fmt: skip
    await publish_post(a2.rt, "ria", "Over de wachtrij", "Tekst")
    await wait_for(lambda: deliveries.failures(a2.rt.db), what="a failed delivery")
    async with await signed_in(a2, "ria") as admin:
        page = (await admin.get("/admin/queue")).text
        assert "http://127.0.0.1:9/users/nobody/inbox" in page and re.search(r"<td[^>]*>Create</td>", page)
        assert '<td class="error-text"' in page and not re.search(r'<td class="error-text"[^>]*></td>', page)
        assert '<th scope="row">wacht</th>' in page


async def test_admin_posts_without_a_token_are_refused(a2: LiveServer) -> None:
    forms = [
        ("/admin/members", {"username": "bob", "action": "role", "role": "admin"}, None),
        ("/admin/members", {"username": "bob", "action": "disable"}, None),
        ("/admin/federation", {"action": "allow", "domain": "evil.example"}, None),
        ("/admin/federation", {"action": "import"}, {"csv": ("b.csv", CSV.encode(), "text/csv")}),
    ]
    async with await signed_in(a2, "ria") as admin:
        for path, fields, files in forms:
            r = await admin.submit(path, path, fields, files=files, token=False)
            assert r.status_code == 403, (path, fields)
            r = await admin.submit(path, path, {**fields, "csrf": "forged"}, files=files)
            assert r.status_code == 403, (path, fields)
            r = await admin.submit(path, path, fields, files=files, origin="http://evil.example")
            assert r.status_code == 403, (path, fields)
    bob = await members.by_username(a2.rt.db, "bob")
    assert bob is not None and bob.role == "member" and not bob.disabled
    assert [r.domain for r in await domain_rules.all_rules(a2.rt.db)] == []
    assert await entries(a2) == []
