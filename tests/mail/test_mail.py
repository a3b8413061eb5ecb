"""Mail against a REAL SMTP server on 127.0.0.1 (aiosmtpd): a reply mailed at once, the daily digest,
"never", invitations, and STARTTLS with a login (a throw-away CA from trustme)."""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from fake_mastodon import FakeMastodon, running
from fediverse_a2.config import ConfigError, parse_config
from fediverse_a2.leases import current_owner
from fediverse_a2.mail.schedule import next_digest
from fediverse_a2.mail.worker import DIGEST_KEY
from fediverse_a2.services import membership, notifications
from fediverse_a2.services.accounts import invite_member
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import meta, outgoing_mail
from helpers import LiveServer, cli, free_port, live_server, wait_for
from queues import ended_pid

FROM = "noreply@a2.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(list(envelope.rcpt_tos), parsed, session.ssl is not None,
                                      bool(session.authenticated)))  # fmt: skip
        return "250 OK"

    def authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == ("a2", "s3cret wachtwoord"))

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.rcpt_tos]


@contextlib.contextmanager
def smtp_server(*, login: bool = False, **kwargs: Any) -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on a free loopback port, for the length of the block (`login`: AUTH required)."""
    collector = Collector()
    if login:
        kwargs.update(auth_required=True, authenticator=collector.authenticator)
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def mail_section(port: int, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "starttls": False, "from": FROM, "timeout": 5, **extra}


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


async def _count(collector: Collector, n: int) -> bool:
    return len(collector.messages) >= n


async def _triaged(a2: LiveServer) -> bool:
    return not await a2.rt.db.fetchval("SELECT COUNT(*) FROM notifications WHERE mail_state = 'new'")


async def _notifications(a2: LiveServer, n: int) -> bool:
    return int(await a2.rt.db.fetchval("SELECT COUNT(*) FROM notifications")) >= n


async def test_a_reply_is_mailed_at_once_with_safe_headers(tmp_path: Path) -> None:
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", run_workers=True, mail=mail_section(port)) as a2:
            alice = await add_member(a2.rt, "alice", "Alice de Vries", email="alice@example.org")
            modes = {"replies": "immediate", "mentions": "immediate", "likes": "digest", "boosts": "never",
                     "follows": "never"}  # fmt: skip
            await notifications.save_mail_settings(a2.rt, alice, modes, "en", None)
            post_url = await publish_post(a2.rt, "alice", "Open data", "Hallo allemaal")
            fake = FakeMastodon()
            # A remote display name that tries to add a header and a recipient.
            fake.add_user("carol", "Carol\r\nBcc: evil@example.org\r\nSubject: pwned")
            async with running(fake):
                inbox = f"{a2.base_url}/users/alice/inbox"
                reply = fake.note("carol", "<p>Mooi stuk!</p>", post_url)
                assert (await fake.send("carol", inbox, fake.create("carol", reply))).status_code == 202
                await wait_for(lambda: _count(smtp, 1), what="the reply's mail")
                like = {"id": f"{fake.base}/likes/1", "type": "Like", "actor": fake.uri("carol"), "object": post_url}
                assert (await fake.send("carol", inbox, like)).status_code == 202
                await wait_for(lambda: _notifications(a2, 2), what="the like")
                await wait_for(lambda: _triaged(a2), what="the like to be looked at")
            [received] = smtp.messages
            assert received.rcpt_tos == ["alice@example.org"]  # nobody else, whatever the name said
            msg = received.message
            assert msg["To"] == "alice@example.org" and FROM in msg["From"] and "Test A2" in msg["From"]
            assert msg["Bcc"] is None and len(msg.get_all("Subject") or []) == 1
            assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
            assert msg["Subject"].startswith("Test A2: Carol") and "commented on ‘Open data’" in msg["Subject"]
            assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
            comment_id = await a2.rt.db.fetchval("SELECT id FROM comments WHERE ap_id = ?", (reply["id"],))
            text = text_of(msg)
            assert f"{post_url}#comment-{comment_id}" in text and "commented on ‘Open data’" in text
            assert "“Mooi stuk!”" in text and "“Mooi stuk!”" in html_of(msg)  # what was said
            assert f"{a2.base_url}/settings/notifications" in text
            assert f'href="{post_url}#comment-{comment_id}"' in html_of(msg) and "<script" not in html_of(msg)
            # The like waits for the digest: no second mail.
            assert len(smtp.messages) == 1
            assert await a2.rt.db.fetchval("SELECT mail_state FROM notifications WHERE kind = 'like'") == "digest"
            assert await outgoing_mail.states(a2.rt.db) == {"sent": 1}


async def test_the_daily_digest_is_read_back_and_never_sends_nothing(tmp_path: Path, database_url: str | None) -> None:
    with smtp_server() as (smtp, port):
        section = mail_section(port, digest_hour=7)
        async with live_server(tmp_path / "a2", run_workers=True, mail=section, database=database_url) as a2:
            await add_member(a2.rt, "alice", "Alice de Vries", email="alice@example.org")  # the defaults
            bob = await add_member(a2.rt, "bob", "Bob Jansen", email="bob@example.org")
            never = {"replies": "never", "mentions": "never", "likes": "never", "boosts": "never", "follows": "never"}
            await notifications.save_mail_settings(a2.rt, bob, never, None, None)
            alice_post = await publish_post(a2.rt, "alice", "Open data", "Hallo allemaal")
            bob_post = await publish_post(a2.rt, "bob", "Gesloten data", "Hallo")
            fake = FakeMastodon()
            fake.add_user("carol", "Carol Mastodon")
            async with running(fake):
                carol = fake.uri("carol")
                shared = f"{a2.base_url}/inbox"
                for i, post in enumerate((alice_post, bob_post)):
                    like = {"id": f"{fake.base}/likes/{i}", "type": "Like", "actor": carol, "object": post}
                    boost = {"id": f"{fake.base}/boosts/{i}", "type": "Announce", "actor": carol, "object": post,
                             "to": [PUBLIC]}  # fmt: skip
                    assert (await fake.send("carol", shared, like)).status_code == 202
                    assert (await fake.send("carol", shared, boost)).status_code == 202
                reply = fake.note("carol", "<p>Reactie voor Bob</p>", bob_post)
                assert (await fake.send("carol", shared, fake.create("carol", reply))).status_code == 202
                await wait_for(lambda: _notifications(a2, 5), what="five notifications")
                await wait_for(lambda: _triaged(a2), what="them to be looked at")
            assert smtp.messages == []  # digest kinds for Alice, "never" for Bob
            # The last digest went out yesterday morning: the next one is due now.
            last = await meta.get(a2.rt.db, DIGEST_KEY)
            assert last is not None
            await meta.put(a2.rt.db, DIGEST_KEY, repr(time.time() - 2 * 86400))
            await wait_for(lambda: _count(smtp, 1), what="the digest")
            await wait_for(lambda: _sent(a2, 1), what="the digest to be recorded")
            [digest] = smtp.messages
            assert digest.rcpt_tos == ["alice@example.org"]
            assert digest.message["Subject"] == "Test A2: 2 nieuwe meldingen"
            text = text_of(digest.message)
            assert "Carol Mastodon markeerde ‘Open data’ als favoriet" in text
            assert "Carol Mastodon boostte ‘Open data’" in text and text.count(alice_post) == 2
            assert "Bob" not in text and bob_post not in text
            assert f"{a2.base_url}/notifications" in text
            assert not await a2.rt.db.fetchval("SELECT COUNT(*) FROM notifications WHERE mail_state = 'digest'")
            # Nothing more for anyone: not a second digest, nothing for Bob.
            assert await outgoing_mail.states(a2.rt.db) == {"sent": 1}
            assert smtp.to("bob@example.org") == []


async def _sent(a2: LiveServer, n: int) -> bool:
    return (await outgoing_mail.states(a2.rt.db)).get("sent", 0) >= n


async def test_invitations_are_mailed(tmp_path: Path, database_url: str | None) -> None:
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", run_workers=True, mail=mail_section(port), database=database_url) as a2:
            await add_member(a2.rt, "dora", "Dora Smit", email="dora@example.org")
            await add_member(a2.rt, "nomail", "Zonder Adres")
            link = cli(a2.config_path, "member", "invite", "dora").stdout.strip().splitlines()[-1]
            assert link.startswith(f"{a2.base_url}/invite/")
            await invite_member(a2.rt, "nomail")  # no address: nothing to send
            request_id = await membership.request_membership(a2.rt, "Eva de Boer", "eva@example.org", "Gemeente", "")
            _, eva_link = await membership.approve(a2.rt, request_id, None, "eva")
            await wait_for(lambda: _count(smtp, 2), what="two invitations")
            [dora] = smtp.to("dora@example.org")
            assert dora["Subject"] == "Je uitnodiging voor Test A2"
            assert "Hallo Dora Smit," in text_of(dora) and link in text_of(dora)
            [eva] = smtp.to("eva@example.org")
            assert eva_link in text_of(eva) and eva_link in html_of(eva)
            async with a2.client() as client:
                assert (await client.get(link.removeprefix(a2.base_url))).status_code == 200
            assert await outgoing_mail.states(a2.rt.db) == {"sent": 2}


async def test_starttls_and_login_with_the_password_file(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    folder = tmp_path / "a2"
    folder.mkdir()
    ca.cert_pem.write_to_path(str(folder / "smtp-ca.pem"))
    (folder / "smtp-password").write_text("s3cret wachtwoord\n")
    with smtp_server(login=True, tls_context=server_context, require_starttls=True) as (smtp, port):
        section = mail_section(port, starttls=True, user="a2", password_file="smtp-password", ca_file="smtp-ca.pem")
        async with live_server(folder, run_workers=True, mail=section) as a2:
            await add_member(a2.rt, "dora", "Dora Smit", email="dora@example.org")
            await invite_member(a2.rt, "dora")
            await wait_for(lambda: _count(smtp, 1), what="the invitation over STARTTLS")
            [received] = smtp.messages
            assert received.tls and received.authenticated
            assert received.rcpt_tos == ["dora@example.org"]
    assert smtp.logins == [("a2", "s3cret wachtwoord")]


async def test_a_server_without_starttls_gets_nothing_in_clear(tmp_path: Path) -> None:
    with smtp_server() as (smtp, port):
        section = mail_section(port, starttls=True)
        async with live_server(tmp_path / "a2", run_workers=False, mail=section) as a2:
            await add_member(a2.rt, "dora", "Dora Smit", email="dora@example.org")
            await invite_member(a2.rt, "dora")
            assert await a2.workers.mail.run_once() == 1
            row = await a2.rt.db.fetchone("SELECT state, attempts, last_error, next_attempt_at FROM outgoing_mail")
            assert row["state"] == "pending" and row["attempts"] == 1 and "STARTTLS" in row["last_error"]
            assert row["next_attempt_at"] > time.time() + 30  # retried later, with a backoff
    assert smtp.messages == []


def test_mail_config_keys_are_checked(tmp_path: Path) -> None:
    base = {"instance": {"base_url": "https://a2.example"}}
    config = parse_config({**base, "mail": {"host": "smtp.example", "from": "noreply@a2.example"}}, tmp_path)
    assert config.mail.enabled and config.mail.sender == "noreply@a2.example" and config.mail.port == 587
    assert not parse_config(base, tmp_path).mail.enabled
    with pytest.raises(ConfigError, match=r"unknown config key mail.sender"):
        parse_config({**base, "mail": {"sender": "x@y.z"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"mail.from"):
        parse_config({**base, "mail": {"host": "smtp.example"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"mail.starttls"):
        parse_config({**base, "mail": {"host": "h", "from": "a@b.c", "user": "u", "password_file": "p",
                                       "starttls": False}}, tmp_path)  # fmt: skip
    with pytest.raises(ConfigError, match=r"mail.password_file"):
        parse_config({**base, "mail": {"host": "h", "from": "a@b.c", "user": "u", "password_file": "nope"}}, tmp_path)
    (tmp_path / "pw").write_text("geheim\n")
    loaded = parse_config(
        {**base, "mail": {"host": "h", "from": "a@b.c", "user": "u", "password_file": "pw"}}, tmp_path
    )
    assert loaded.mail_password == "geheim" and "geheim" not in repr(loaded)


def test_the_digest_is_due_at_the_chosen_hour_in_the_instance_time_zone() -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    morning = datetime(2026, 3, 28, 6, 30, tzinfo=tz).timestamp()
    assert next_digest(morning, 8, 0, tz) == datetime(2026, 3, 28, 8, 0, tzinfo=tz).timestamp()
    after = datetime(2026, 3, 28, 9, 0, tzinfo=tz).timestamp()
    # Across the switch to summer time: still 08:00 on the wall clock.
    assert next_digest(after, 8, 0, tz) == datetime(2026, 3, 29, 8, 0, tzinfo=tz).timestamp()
    assert next_digest(100.0, 8, 60, tz) == 160.0


async def test_mail_leased_by_a_dead_worker_is_sent_at_once_and_a_live_ones_is_not(tmp_path: Path) -> None:
    # Mail is leased like deliveries and inbox items: a worker that died on this host (a pid
    # that ended) does not hold its mail until the hour-long lease runs out.
    me = current_owner()
    dead = dataclasses.replace(me, pid=ended_pid())
    with smtp_server() as (smtp, port):
        async with live_server(tmp_path / "a2", run_workers=False, mail=mail_section(port)) as a2:
            for name in ("dora", "erik"):
                await add_member(a2.rt, name, name.title(), email=f"{name}@example.org")
                await invite_member(a2.rt, name)
            held = await outgoing_mail.claim(a2.rt.db, time.time(), 3600, 1, str(me))  # this live process
            assert len(await outgoing_mail.claim(a2.rt.db, time.time(), 3600, 1, str(dead))) == 1
            assert await a2.workers.mail.send_due() == 1
            other = ({"dora@example.org", "erik@example.org"} - {held[0].to_addr}).pop()
            assert [r.rcpt_tos for r in smtp.messages] == [[other]]  # the dead worker's, not the live one's
            assert await outgoing_mail.states(a2.rt.db) == {"pending": 1, "sent": 1}
