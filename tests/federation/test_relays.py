"""Relays: `relay add|remove|list`, delivery to relays and what they announce, against the real
ActivityRelay 0.3.5 (tests/relay_harness.py), plus `federation.ca_file`.

Each fediverse-a2 instance is a `serve` subprocess on 127.0.0.1 behind a TlsFront on
https://127.0.0.N (port 443), trusting the throw-away CA through `federation.ca_file`. The relay
tests skip without `.venv-relay` (tests/relay/install.sh), unless FEDIVERSE_A2_RELAY=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fediverse_a2.config import load_config
from fediverse_a2.i18n import translate
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import peers, remote_posts
from helpers import cli, free_port, write_config
from relay_harness import (  # the *_fixture imports register the harness fixtures in this module
    ACTIVITY_JSON,
    LoopbackCA,
    Relay,
    front_port,
    relay_ca_fixture,  # noqa: F401
    relay_fixture,  # noqa: F401
    reserve_https_address,
    wait_for,
)

NO_RELAYS = translate("en", "cli_no_relays")  # `relay list` with none (the CLI speaks English under C)

# --- federation.ca_file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "cannot read"), ("not a certificate\n", "holds no PEM certificate")]
)
def test_unusable_ca_file_is_one_line_config_error(tmp_path: Path, content: str | None, reason: str) -> None:
    if content is not None:
        (tmp_path / "ca.pem").write_text(content)
    config = write_config(tmp_path, "https://a2.example", federation={"ca_file": "ca.pem"})
    proc = cli(config, "relay", "list", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "config key federation.ca_file" in lines[0] and reason in lines[0]
    assert str(tmp_path / "ca.pem") in lines[0]


def test_ca_file_is_relative_to_the_config_file(tmp_path: Path, relay_ca: LoopbackCA) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(relay_ca.ca_file.read_bytes())
    config = load_config(write_config(tmp_path, "https://a2.example", federation={"ca_file": "certs/ca.pem"}))
    assert config.federation.ca_file == str(tmp_path / "certs" / "ca.pem")


def test_ca_file_is_trusted_by_the_shared_client(tmp_path: Path, relay_ca: LoopbackCA) -> None:
    """A server with a certificate from the extra CA is reachable; without ca_file it is refused."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with front_port(port, relay_ca) as party:

            async def get(ca_file: str | None) -> int:
                federation: dict[str, Any] = {"allow_private_network": True}
                if ca_file:
                    federation["ca_file"] = ca_file
                folder = tmp_path / ("with" if ca_file else "without")
                rt = await Runtime.open(load_config(write_config(folder, "https://a2.example", federation=federation)))
                try:
                    for _ in range(100):  # the http.server may still be starting
                        try:
                            return (await rt.http.get(party.url("/"))).status_code
                        except httpx.ConnectError as exc:
                            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                                raise
                            await asyncio.sleep(0.1)
                    raise AssertionError("http.server did not come up")
                finally:
                    await rt.close()

            assert asyncio.run(get(str(relay_ca.ca_file))) == 200
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                asyncio.run(get(None))
    finally:
        server.terminate()
        server.wait(10)


# --- against the real relay ---------------------------------------------------------------------


def _python_cli(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "fediverse_a2", "--config", str(config_path)]


class Instance:
    """`fediverse-a2 serve` as https://127.0.0.N (a TlsFront on 443), trusting the test CA."""

    def __init__(self, folder: Path, ca: LoopbackCA, sock: Any) -> None:
        self.address = sock.getsockname()[0]
        self.origin = f"https://{self.address}"
        self.port = free_port()
        self.folder = folder
        self.ca = ca
        self.config_path = write_config(
            folder, self.origin, federation={"ca_file": str(ca.ca_file), "allow_private_network": True}
        )
        self.log = folder / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*_python_cli(self.config_path), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
            try:
                with self.ca.client() as client:
                    return client.get(f"{self.origin}/.well-known/nodeinfo").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, f"{self.origin} to come up", timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cli(self.config_path, *args, check=check)

    def relay_list(self) -> list[str]:
        return [line for line in self.cli("relay", "list").stdout.splitlines() if line.strip()]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows from the running instance's database (WAL lets us read beside the server)."""

        async def run() -> list[Any]:
            rt = await Runtime.open(load_config(self.config_path))
            try:
                return [dict(r) for r in await rt.db.fetchall(sql, params)]
            finally:
                await rt.close()

        return asyncio.run(run())

    def network_posts(self) -> list[Any]:
        """The network timeline (what relays brought), with the relay each post came through."""

        async def run() -> list[Any]:
            rt = await Runtime.open(load_config(self.config_path))
            try:
                found = await remote_posts.network_page(rt.db, 100)
                via = {r["ap_id"]: r["relay_actor"] for r in await rt.db.fetchall("SELECT * FROM relay_posts")}
                return [{**dataclasses.asdict(p), "relay_actor": via[p.ap_id]} for p in found]
            finally:
                await rt.close()

        return asyncio.run(run())

    def schemes(self) -> dict[str, str]:
        async def run() -> dict[str, str]:
            rt = await Runtime.open(load_config(self.config_path))
            try:
                return await peers.schemes(rt.db)
            finally:
                await rt.close()

        return asyncio.run(run())

    def describe(self) -> str:
        rows = self.query("SELECT id, activity_id, state, last_error FROM inbox_items ORDER BY id")
        out = self.query(
            "SELECT d.inbox, d.state, d.last_status, d.last_error, a.type FROM deliveries d "
            "JOIN activities a ON a.id = d.activity_id ORDER BY d.id"
        )
        log = self.log.read_text(errors="replace")[-4000:]
        return f"--- {self.origin} inbox: {rows}\n--- deliveries: {out}\n--- serve log:\n{log}"


@pytest.fixture(name="instances")
def instances_fixture(tmp_path: Path, relay_ca: LoopbackCA) -> Iterator[Any]:
    """`make(name)` -> a started Instance; all stopped after the test."""
    with contextlib.ExitStack() as stack:

        def make(name: str) -> Instance:
            _, sock = reserve_https_address()
            instance = Instance(tmp_path / name, relay_ca, sock)
            stack.enter_context(front_port(instance.port, relay_ca, sock=sock))
            stack.callback(instance.stop)
            instance.start()
            return instance

        yield make


def _relay_followers(relay: Relay, ca: LoopbackCA) -> list[str]:
    with ca.client() as client:
        got = client.get(f"{relay.origin}/followers", headers={"Accept": ACTIVITY_JSON})
    got.raise_for_status()
    return list(got.json()["items"])


def _diag(relay: Relay, *instances: Instance) -> Any:
    return lambda: "\n".join([*(i.describe() for i in instances), relay.log_tail()])


def test_two_instances_share_posts_through_the_relay(relay: Relay, relay_ca: LoopbackCA, instances: Any) -> None:
    a = instances("a")
    b = instances("b")
    diag = _diag(relay, a, b)
    # A subscribes LitePub-style (the relay's actor), B Mastodon-style (the relay's inbox).
    assert "pending" in a.cli("relay", "add", relay.actor).stdout
    b.cli("relay", "add", relay.inbox)
    wait_for(lambda: a.relay_list() == [f"{relay.actor} accepted"], "A's subscription accepted", 30, diag)
    wait_for(lambda: b.relay_list() == [f"{relay.inbox} accepted"], "B's subscription accepted", 30, diag)
    assert sorted(_relay_followers(relay, relay_ca)) == sorted([f"{a.origin}/actor", f"{b.origin}/actor"])
    # The relay follows the instance actor back; the instance actor accepts.
    wait_for(
        lambda: a.query(
            "SELECT d.state FROM deliveries d JOIN activities x ON x.id = d.activity_id "
            "WHERE x.type = 'Accept' AND x.member_id IS NULL AND d.state = 'sent'"
        ),
        "A's Accept of the relay's follow-back",
        30,
        diag,
    )
    # The relay answers RFC 9421 with 400: the double knock fell back to draft-cavage and it stuck.
    assert a.schemes().get(relay.domain) == "cavage"

    a.cli("member", "add", "alice", "--name", "Alice")
    url = a.cli("post", "alice", "--title", "Over de relay", "--body", "Hallo netwerk").stdout.strip().split()[-1]
    assert url.startswith(f"{a.origin}/")
    posts = wait_for(lambda: b.network_posts(), "the post at B through the relay", 30, diag)
    assert [p["ap_id"] for p in posts] == [url]
    assert posts[0]["relay_actor"] == relay.actor
    assert posts[0]["actor_uri"] == f"{a.origin}/users/alice"
    assert "Hallo netwerk" in posts[0]["content_html"]
    # The relay does not send a post back where it came from.
    assert a.network_posts() == []

    # A relay on a blocked domain brings nothing: B blocks it, A posts again.
    b.cli("domain", "block", relay.domain)
    url2 = a.cli("post", "alice", "--title", "Tweede", "--body", "Niet voor B").stdout.strip().split()[-1]
    assert url2 != url
    # The relay's Announce is refused at B's inbox, as for any blocked domain (measured: 403).
    refused = f"HTTP Error when pushing to {b.origin}/inbox: 403"
    wait_for(lambda: refused in relay.log(), "the relay's Announce of the second post refused by B", 30, diag)
    assert [p["ap_id"] for p in b.network_posts()] == [url]
    b.cli("domain", "unblock", relay.domain)

    # relay remove: an Undo that embeds the original Follow (same id); no longer listed.
    follow = b.query("SELECT body FROM activities WHERE type = 'Follow' AND member_id IS NULL")
    follow_doc = json.loads(follow[0]["body"])
    assert follow_doc["object"] == "https://www.w3.org/ns/activitystreams#Public"
    assert follow_doc["actor"] == f"{b.origin}/actor"
    b.cli("relay", "remove", relay.inbox)
    assert b.relay_list() == [NO_RELAYS]
    undo = b.query("SELECT body FROM activities WHERE type = 'Undo' AND member_id IS NULL")
    undo_doc = json.loads(undo[0]["body"])
    assert undo_doc["object"]["id"] == follow_doc["id"]
    assert undo_doc["object"]["type"] == "Follow"
    wait_for(lambda: _relay_followers(relay, relay_ca) == [f"{a.origin}/actor"], "the relay to drop B", 30, diag)


def test_relay_add_refuses_a_blocked_domain(tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://a2.example", federation={"block": ["relay.example"]})
    proc = cli(config, "relay", "add", "https://relay.example/actor", check=False)
    assert proc.returncode == 1
    assert "relay.example is not a domain this instance federates with" in proc.stderr
    assert cli(config, "relay", "list").stdout == NO_RELAYS + "\n"
