"""A forgotten password through the real HTTP routes, the link read from a REAL SMTP server (aiosmtpd):
/password/forgot mails a one-use link valid for an hour to /password/reset/{token}; the answer is the
same for any address; requests are throttled like sign-ins."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import httpx
from test_mail import Collector, mail_section, smtp_server, text_of

from fediverse_a2.accounts import throttle
from fediverse_a2.store import login_failures, outgoing_mail
from helpers import LiveServer, cli, live_server
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
NEW = "een heel nieuw wachtwoord"
_LINK = re.compile(r"(http://[^\s]+/password/reset/([A-Za-z0-9_-]+))")


async def _mails(a2: LiveServer) -> int:
    """Send what is queued (the worker, stepped) and say how much was sent."""
    return int(await a2.workers.mail.run_once())


def _link(smtp: Collector, to: str) -> tuple[str, str]:
    """The reset link of the newest mail to `to`, and its token."""
    found = _LINK.search(text_of(smtp.to(to)[-1]))
    assert found, "no reset link in the mail"
    return found.group(1), found.group(2)


async def _forgot(web: WebUser, email: str) -> httpx.Response:
    return await web.submit("/password/forgot", "/password/forgot", {"email": email})


def _main(r: httpx.Response) -> str:
    return r.text.split("<main", 1)[1]


async def _hash(a2: LiveServer, username: str) -> str:
    return str(await a2.rt.db.fetchval("SELECT password_hash FROM members WHERE username = ?", (username,)))


async def test_a_known_address_gets_a_link_that_works_once_and_ends_every_session(
    tmp_path: Path, database_url: str | None
) -> None:
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", mail=mail_section(port), database=database_url) as a2:
            await member_with_password(a2, "alice", "Alice de Vries", PASSWORD, email="alice@example.org")
            async with WebUser(a2.base_url) as laptop, WebUser(a2.base_url) as phone, WebUser(a2.base_url) as web:
                assert (await laptop.login("alice", PASSWORD)).status_code == 303
                assert (await phone.login("alice", PASSWORD)).status_code == 303
                login = await web.get("/login")
                assert 'href="/password/forgot"' in login.text and "Wachtwoord vergeten?" in login.text
                first = await _forgot(web, "Alice@Example.org")  # any case
                assert first.status_code == 200 and "link onderweg" in first.text
                assert await _mails(a2) == 1
                [received] = smtp.messages
                assert received.rcpt_tos == ["alice@example.org"]
                assert "nieuw wachtwoord" in received.message["Subject"]
                old_link, old_token = _link(smtp, "alice@example.org")
                assert (await _forgot(web, "alice@example.org")).status_code == 200
                assert await _mails(a2) == 1
                link, token = _link(smtp, "alice@example.org")
                assert token != old_token and link.startswith(f"{a2.base_url}/password/reset/")
                # Only hashes are stored, never a link's token.
                stored = {r["token_hash"] for r in await a2.rt.db.fetchall("SELECT token_hash FROM password_resets")}
                assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (old_token, token)}

                path = link.removeprefix(a2.base_url)
                page = await web.get(path)
                assert page.status_code == 200 and "@alice@" in page.text
                assert page.headers["Cache-Control"] == "no-store"
                before = await _hash(a2, "alice")
                differ = await web.submit(path, path, {"password": NEW, "password_again": NEW + "!"})
                short = await web.submit(path, path, {"password": "kort", "password_again": "kort"})
                assert differ.status_code == short.status_code == 400 and "10 tekens" in short.text
                assert await _hash(a2, "alice") == before  # nothing changed, the link still works
                done = await web.submit(path, path, {"password": NEW, "password_again": NEW})
                assert done.status_code == 200 and "gewijzigd" in done.text

                # The link works once, and the earlier link ended with it.
                for used in (path, old_link.removeprefix(a2.base_url)):
                    assert (await web.get(used)).status_code == 404
                again = await web.submit("/password/forgot", path, {"password": "nog een ander wachtwoord"})
                assert again.status_code == 404
                assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM password_resets") == 0
                # Every session ended; the new password signs in, the old one no longer does.
                assert (await laptop.get("/settings/profile")).status_code == 303
                assert (await phone.get("/settings/profile")).status_code == 303
            async with WebUser(a2.base_url) as web:
                assert (await web.login("alice", PASSWORD)).status_code == 401
                assert (await web.login("alice", NEW)).status_code == 303


async def test_unknown_disabled_suspended_and_erased_addresses_get_the_same_answer_and_no_mail(tmp_path: Path) -> None:
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", mail=mail_section(port)) as a2:
            await member_with_password(a2, "alice", "Alice", PASSWORD, email="alice@example.org")
            await member_with_password(a2, "bob", "Bob", PASSWORD, email="bob@example.org")
            await member_with_password(a2, "carol", "Carol", PASSWORD, email="carol@example.org")
            cli(a2.config_path, "member", "disable", "bob")
            await a2.rt.db.execute("UPDATE members SET state = 'suspended' WHERE username = 'carol'")
            await member_with_password(a2, "dewi", "Dewi", PASSWORD, email="dewi@example.org")
            async with WebUser(a2.base_url) as web:
                assert (await _forgot(web, "dewi@example.org")).status_code == 200
                await a2.rt.db.execute("DELETE FROM outgoing_mail")
                cli(a2.config_path, "member", "delete", "dewi")  # erased: the link dewi got ends with her
                assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM password_resets") == 0
                known = await _forgot(web, "alice@example.org")
                whom = ("nobody", "bob", "carol", "dewi")
                answers = [await _forgot(web, f"{who}@example.org") for who in whom]
            for r in answers:
                assert r.status_code == known.status_code == 200
                assert _main(r) == _main(known)
            assert await outgoing_mail.states(a2.rt.db) == {"pending": 1}  # alice's only
            assert await _mails(a2) == 1
            assert [r.rcpt_tos for r in smtp.messages] == [["alice@example.org"]]
            owners = await a2.rt.db.fetchall(
                "SELECT m.username FROM password_resets r JOIN members m ON m.id = r.member_id"
            )
            assert [r["username"] for r in owners] == ["alice"]


async def test_an_expired_or_forged_link_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", mail=mail_section(port)) as a2:
            await member_with_password(a2, "alice", "Alice", PASSWORD, email="alice@example.org")
            async with WebUser(a2.base_url) as web:
                await _forgot(web, "alice@example.org")
                await _mails(a2)
                link, token = _link(smtp, "alice@example.org")
                path = link.removeprefix(a2.base_url)
                form = {"password": NEW, "password_again": NEW}
                # No CSRF token, or another site's Origin: refused, the link still works.
                assert (await web.submit(path, path, form, token=False)).status_code == 403
                assert (await web.submit(path, path, form, origin="https://evil.example")).status_code == 403
                before = await _hash(a2, "alice")
                forged = [f"/password/reset/{token[:-2]}xx", "/password/reset/" + "a" * 300, "/password/reset/%00"]
                for bad in forged:
                    assert (await web.get(bad)).status_code in (400, 404), bad
                    r = await web.submit("/password/forgot", bad, form)
                    assert r.status_code in (400, 404), bad
                assert await _hash(a2, "alice") == before
                # An hour later (the expiry moved back in the store, not waited for) the link is refused.
                await a2.rt.db.execute("UPDATE password_resets SET expires_at = ?", (time.time() - 1,))
                assert (await web.get(path)).status_code == 404
                assert (await web.submit("/password/forgot", path, form)).status_code == 404
                assert await _hash(a2, "alice") == before
            async with WebUser(a2.base_url) as web:
                assert (await web.login("alice", PASSWORD)).status_code == 303
                # The request form refuses a missing token and what is not an address, and queues nothing.
                assert (await web.submit("/password/forgot", "/password/forgot", {"email": "alice@example.org"},
                                         token=False)).status_code == 403  # fmt: skip
                bad = await _forgot(web, "geen adres")
                assert bad.status_code == 400 and 'value="geen adres"' in bad.text
            assert await outgoing_mail.states(a2.rt.db) == {"sent": 1}


async def test_requests_are_throttled_per_address_asked_for_and_per_client(tmp_path: Path) -> None:
    with smtp_server() as (_smtp, port):
        async with live_server(tmp_path / "a2", mail=mail_section(port)) as a2:
            await member_with_password(a2, "alice", "Alice", PASSWORD, email="alice@example.org")
            async with WebUser(a2.base_url) as web:
                for _ in range(throttle.ACCOUNT_LIMIT):
                    assert (await _forgot(web, "alice@example.org")).status_code == 200
                    assert (await _forgot(web, "nobody@example.org")).status_code == 200
                known, unknown = await _forgot(web, "alice@example.org"), await _forgot(web, "nobody@example.org")
                assert known.status_code == unknown.status_code == 429
                assert int(known.headers["Retry-After"]) > 0 and "Te veel aanvragen" in known.text
                assert _main(known).replace("alice", "nobody") == _main(unknown)
                queued = await a2.rt.db.fetchval("SELECT COUNT(*) FROM outgoing_mail")
                assert queued == throttle.ACCOUNT_LIMIT  # nothing more for alice while throttled
                # Another address from this client is still answered; the sign-in is not held back.
                assert (await _forgot(web, "dewi@example.org")).status_code == 200
                assert (await web.login("alice", PASSWORD)).status_code == 303
            # Many addresses from one client: its own, far higher limit.
            now = time.time()
            for i in range(throttle.ADDRESS_LIMIT):
                await login_failures.record(a2.rt.db, f"reset:x{i}@example.org", "reset:127.0.0.1", now)
            async with WebUser(a2.base_url) as web:
                assert (await _forgot(web, "fresh@example.org")).status_code == 429
                assert (await web.login("alice", PASSWORD)).status_code == 303  # sign-in keeps its own count


async def test_without_mail_the_page_says_to_ask_an_admin_and_nothing_is_stored(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as a2:
        await member_with_password(a2, "alice", "Alice", PASSWORD, email="alice@example.org")
        async with WebUser(a2.base_url) as web:
            page = await web.get("/password/forgot")
            assert page.status_code == 200 and "beheerder" in page.text and 'name="email"' not in page.text
            english = await web.get("/password/forgot?lang=en")
            assert "administrator" in english.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', (await web.get("/login")).text)
            assert csrf
            r = await web.client.post(
                "/password/forgot", data={"email": "alice@example.org", "csrf": csrf.group(1)},
                headers={"Origin": a2.base_url},
            )  # fmt: skip
            assert r.status_code == 200
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM password_resets") == 0
        assert await outgoing_mail.states(a2.rt.db) == {}
