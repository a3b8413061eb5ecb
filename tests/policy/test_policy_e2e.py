"""The federation policy end to end: a real `fediverse-a2 serve` process, changed through the CLI.

Remotes are Mastodon-shaped fakes on loopback aliases, one per domain: 127.0.0.2 and
127.0.0.3 (the instance itself is on 127.0.0.1). A domain rule names an IP literal, and a
port is never part of the match. Changes made with the CLI while the server runs must be in
force within a second (the test config polls every 0.1 s).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from fake_mastodon import running
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from helpers import AP, ServiceProcess, wait_for
from hostile import TLS, Fake, cavage, dumps, like, one_line_error, post_raw, rsa_key

CSV_HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"


async def send(fake: Fake, name: str, url: str, activity: dict[str, Any]) -> httpx.Response:
    """POST signed by `name` on `fake` (draft-cavage, as Mastodon signs)."""
    body = dumps(activity)
    return await post_raw(url, body, cavage(rsa_key(name), f"{fake.uri(name)}#main-key", url, body))


async def get(url: str, accept: str = AP) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10, verify=TLS) as client:
        return await client.get(url, headers={"Accept": accept})


@contextlib.asynccontextmanager
async def fakes() -> AsyncIterator[tuple[Fake, Fake]]:
    """carol and dave on 127.0.0.2, erin on 127.0.0.3."""
    two, three = Fake("127.0.0.2"), Fake("127.0.0.3")
    two.add_user("carol", "Carol Twee")
    two.add_user("dave", "Dave Twee")
    three.add_user("erin", "Erin Drie")
    async with running(two), running(three):
        yield two, three


class Instance:
    """A running `fediverse-a2 serve` with member alice and one post."""

    def __init__(self, server: ServiceProcess, post_url: str) -> None:
        self.server = server
        self.post_url = post_url
        self.base = server.base_url
        self.inbox = f"{server.base_url}/inbox"
        self.alice = f"{server.base_url}/users/alice"

    def cli(self, *args: str, check: bool = True) -> Any:
        return self.server.cli(*args, check=check)

    async def page(self) -> str:
        r = await get(self.post_url, "text/html")
        assert r.status_code == 200
        return r.text

    async def followers(self) -> list[str]:
        return list((await get(f"{self.alice}/followers?page=1")).json()["orderedItems"])

    async def status(self, fake: Fake, name: str) -> int:
        """What a fresh Like from `name` gets."""
        return (await send(fake, name, self.inbox, like(fake, name, self.post_url))).status_code

    async def becomes(self, fake: Fake, name: str, status: int, timeout: float = 1.0) -> None:
        async def check() -> bool:
            return await self.status(fake, name) == status

        await wait_for(check, timeout=timeout, what=f"{name}@{fake.base} to get {status}")

    async def shows(self, text: str, present: bool = True, timeout: float = 5.0) -> None:
        async def check() -> bool:
            return (text in await self.page()) == present

        await wait_for(check, timeout=timeout, what=f"{text!r} {'on' if present else 'off'} the post page")


@contextlib.asynccontextmanager
async def instance(folder: Path, **sections: dict[str, Any]) -> AsyncIterator[Instance]:
    server = ServiceProcess(folder, **sections)
    # Seeded in-process (faster than two CLI runs); the server is a real subprocess.
    rt = await Runtime.open(server.config())
    try:
        await add_member(rt, "alice", "Alice")
        post_url = await publish_post(rt, "alice", "Beleid", "Tekst")
    finally:
        await rt.close()
    try:
        await server.start()
        yield Instance(server, post_url)
    finally:
        server.stop()


def follow_of(fake: Fake, name: str, target: str) -> dict[str, Any]:
    return {"id": fake.new_id("follows"), "type": "Follow", "actor": fake.uri(name), "object": target}


def reply_of(fake: Fake, name: str, post_url: str, text: str) -> dict[str, Any]:
    return fake.create(name, fake.note(name, f"<p>{text}</p>", post_url))


# -- open mode: a domain block while the server runs --------------------------------------------


async def test_open_mode_domain_block_and_unblock_while_running(tmp_path: Path) -> None:
    async with fakes() as (two, three), instance(tmp_path / "a2") as a2:
        assert (await send(two, "carol", f"{a2.alice}/inbox", follow_of(two, "carol", a2.alice))).status_code == 202
        assert (await send(two, "carol", a2.inbox, reply_of(two, "carol", a2.post_url, "Van twee"))).status_code == 202
        assert (
            await send(three, "erin", a2.inbox, reply_of(three, "erin", a2.post_url, "Van drie"))
        ).status_code == 202
        await a2.shows("Reactie van Carol Twee")
        await a2.shows("Reactie van Erin Drie")
        assert two.uri("carol") in await a2.followers()

        # The rule names a port that is not the fake's: a port is never part of the match.
        out = a2.cli("domain", "block", "127.0.0.2:1").stdout
        assert "block: 127.0.0.2" in out and "removed 1 follower" in out
        await a2.becomes(two, "carol", 403)
        # A fresh actor there is refused before its key is fetched: the fake sees no GET.
        assert await a2.status(two, "dave") == 403
        assert not [path for path in two.gets() if path.startswith("/users/dave")]
        assert await a2.status(three, "erin") == 202
        assert two.uri("carol") not in await a2.followers()
        await a2.shows("Reactie van Carol Twee", present=False, timeout=1.0)
        assert "Reactie van Erin Drie" in await a2.page()

        a2.cli("domain", "unblock", "127.0.0.2")
        await a2.shows("Reactie van Carol Twee", timeout=1.0)
        await a2.becomes(two, "carol", 202)


# -- allowlist mode ----------------------------------------------------------------------------


async def test_allowlist_mode(tmp_path: Path) -> None:
    federation = {"mode": "allowlist", "allow": ["127.0.0.3"]}
    async with fakes() as (two, three), instance(tmp_path / "a2", federation=federation) as a2:
        assert await a2.status(two, "carol") == 403
        assert two.gets() == []
        assert await a2.status(three, "erin") == 202
        a2.cli("domain", "allow", "127.0.0.2")
        await a2.becomes(two, "carol", 202)
        # A block on an allowed domain (allowed in config.toml, even) wins.
        a2.cli("domain", "block", "127.0.0.3")
        await a2.becomes(three, "erin", 403)
        listed = a2.cli("domain", "list").stdout
        assert "mode: allowlist" in listed
        assert "allow\t127.0.0.3\tconfig" in listed and "block\t127.0.0.3\tadmin" in listed


# -- nothing is delivered to a blocked domain ----------------------------------------------------


async def test_nothing_is_delivered_to_a_blocked_domain(tmp_path: Path) -> None:
    async with fakes() as (two, three), instance(tmp_path / "a2") as a2:
        for fake, name in ((two, "carol"), (three, "erin")):
            r = await send(fake, name, f"{a2.alice}/inbox", follow_of(fake, name, a2.alice))
            assert r.status_code == 202

        async def accepted() -> bool:
            return bool(two.received_of("Accept")) and bool(three.received_of("Accept"))

        await wait_for(accepted, what="both follows accepted")
        # A post queued while the server is down, then the block: the queued delivery to the
        # blocked domain must not go out when the server comes back.
        a2.server.stop()
        a2.cli("post", "alice", "--title", "Na de blokkade", "--body", "Niet voor twee")
        a2.cli("domain", "block", "127.0.0.2")
        await a2.server.start()

        async def created() -> bool:
            return bool(three.received_of("Create"))

        await wait_for(created, what="the Create at the allowed domain")

        async def skipped() -> bool:
            return "skipped  1" in a2.cli("queue").stdout

        await wait_for(skipped, what="the delivery to the blocked domain to be skipped")
        assert two.received_of("Create") == []


# -- import and export ---------------------------------------------------------------------------


def csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


async def test_domain_import_export_round_trip(tmp_path: Path) -> None:
    blocklist = tmp_path / "blocks.csv"
    blocklist.write_text(
        f"{CSV_HEADER}\n"
        "127.0.0.2,suspend,false,false,Spam,false\n"
        'Bad.Example.,silence,true,false,"Trolls, veel",false\n'
        "noop.example,noop,false,false,,false\n"
    )
    async with fakes() as (two, three), instance(tmp_path / "a2") as a2:
        assert "imported 2 domain blocks" in a2.cli("domain", "import", str(blocklist)).stdout
        await a2.becomes(two, "carol", 403)
        assert await a2.status(three, "erin") == 202
        exported = a2.cli("domain", "export").stdout
        rows = csv_rows(exported)
        assert rows[0] == CSV_HEADER.split(",")
        assert sorted(rows[1:]) == [
            ["127.0.0.2", "suspend", "false", "false", "Spam", "false"],
            ["bad.example", "silence", "false", "false", "Trolls, veel", "false"],
        ]
        # Round trip: the export, imported elsewhere, exports the same.
        again = ServiceProcess(tmp_path / "b")
        (tmp_path / "export.csv").write_text(exported)
        assert "imported 2" in again.cli("domain", "import", str(tmp_path / "export.csv")).stdout
        assert again.cli("domain", "export").stdout == exported

        # One bad line aborts the whole import.
        broken = tmp_path / "broken.csv"
        broken.write_text(
            f"{CSV_HEADER}\ngood.example,suspend,false,false,,false\nexa mple.org,suspend,false,false,,false\n"
        )
        line = one_line_error(a2.cli("domain", "import", str(broken), check=False))
        assert "line 3" in line and "exa mple.org" in line
        assert a2.cli("domain", "export").stdout == exported  # nothing of it was imported


# -- subscriptions -------------------------------------------------------------------------------


async def test_subscription_list_and_manual_blocks(tmp_path: Path) -> None:
    lists = Fake("127.0.0.1")
    served = {"text": f"{CSV_HEADER}\n127.0.0.2,suspend,false,false,,false\n127.0.0.3,suspend,false,false,,false\n"}

    async def blocklist(request: Request) -> Response:
        return Response(served["text"], media_type="text/csv")

    lists.pages["/x/list.csv"] = blocklist
    url = f"{lists.base}/x/list.csv"
    # Due again one second after a fetch; a restart runs the first check at once.
    federation = {"subscriptions": [url], "subscription_interval": 1}
    async with running(lists), fakes() as (two, three), instance(tmp_path / "a2", federation=federation) as a2:
        await a2.becomes(two, "carol", 403, timeout=10)
        await a2.becomes(three, "erin", 403)
        assert f"block\t127.0.0.3\t{url}" in a2.cli("domain", "list").stdout
        a2.cli("domain", "block", "127.0.0.2")  # the admin blocks it by hand, too
        # The list drops both; only the one the admin never blocked is unblocked.
        served["text"] = f"{CSV_HEADER}\nother.example,suspend,false,false,,false\n"
        fetches = lists.gets().count("/x/list.csv")
        a2.server.stop()
        await a2.server.start()

        async def refetched() -> bool:
            return lists.gets().count("/x/list.csv") > fetches

        await wait_for(refetched, what="the list to be fetched again")
        await a2.becomes(three, "erin", 202, timeout=5)
        assert await a2.status(two, "carol") == 403
        listed = a2.cli("domain", "list").stdout
        assert "block\t127.0.0.2\tadmin" in listed and f"block\tother.example\t{url}" in listed
        assert "127.0.0.3" not in listed


# -- one actor -------------------------------------------------------------------------------


async def test_block_and_unblock_one_actor(tmp_path: Path) -> None:
    async with fakes() as (two, _three), instance(tmp_path / "a2") as a2:
        assert (await send(two, "carol", f"{a2.alice}/inbox", follow_of(two, "carol", a2.alice))).status_code == 202
        assert (await send(two, "carol", a2.inbox, reply_of(two, "carol", a2.post_url, "Van carol"))).status_code == 202
        await a2.shows("Reactie van Carol Twee")
        assert two.uri("carol") in await a2.followers()

        handle = f"@carol@127.0.0.2:{two.port}"
        assert two.uri("carol") in a2.cli("block", handle).stdout
        assert await a2.status(two, "carol") == 403
        assert await a2.status(two, "dave") == 202  # only that actor, not the domain
        await a2.shows("Reactie van Carol Twee", present=False, timeout=1.0)
        assert two.uri("carol") not in await a2.followers()

        a2.cli("unblock", handle)
        await a2.shows("Reactie van Carol Twee", timeout=1.0)
        assert await a2.status(two, "carol") == 202


# -- reports -------------------------------------------------------------------------------------


async def test_flag_is_stored_and_listed(tmp_path: Path) -> None:
    async with fakes() as (two, _three), instance(tmp_path / "a2") as a2:
        flag = {
            "id": two.new_id("flags"),
            "type": "Flag",
            "actor": two.uri("carol"),
            "object": [a2.alice, a2.post_url],
            "content": "Spam\u202e, echt waar",
        }
        assert (await send(two, "carol", a2.inbox, flag)).status_code == 202

        async def listed() -> str | None:
            out = a2.cli("reports").stdout
            return out if "Spam, echt waar" in out else None

        out = await wait_for(listed, what="the report in `fediverse-a2 reports`")
        assert two.uri("carol") in out and a2.post_url in out


# -- an inbox on a blocked domain ----------------------------------------------------------------


async def _follow_and_wait(a2: Instance, three: Fake, names: tuple[str, ...]) -> None:
    for name in names:
        r = await send(three, name, f"{a2.alice}/inbox", follow_of(three, name, a2.alice))
        assert r.status_code == 202

    async def followed() -> bool:
        return {three.uri(n) for n in names} <= set(await a2.followers())

    await wait_for(followed, what="the follows")


async def test_no_delivery_to_a_shared_inbox_on_a_blocked_domain(tmp_path: Path) -> None:
    async with fakes() as (two, three), instance(tmp_path / "a2") as a2:
        # erin and frank live on an allowed domain but name a shared inbox on 127.0.0.2.
        three.add_user("frank", "Frank Drie")
        for name in ("erin", "frank"):
            three.actor_extra[name] = {"endpoints": {"sharedInbox": f"{two.base}/inbox"}}
        a2.cli("domain", "block", "127.0.0.2")
        await a2.becomes(two, "carol", 403)
        await _follow_and_wait(a2, three, ("erin",))  # followed after the block
        three.add_user("gert", "Gert Drie")
        three.actor_extra["gert"] = {"endpoints": {"sharedInbox": f"{two.base}/inbox"}}
        a2.cli("domain", "unblock", "127.0.0.2")
        await a2.becomes(two, "carol", 202)
        await _follow_and_wait(a2, three, ("gert",))  # followed before the next block
        a2.cli("domain", "block", "127.0.0.2")
        await a2.becomes(two, "carol", 403)
        a2.cli("post", "alice", "--title", "Nieuw", "--body", "Niet voor twee")

        async def created() -> bool:
            return len(three.received_of("Create")) == 2  # each at its personal inbox

        await wait_for(created, what="the Creates at the allowed domain")
        assert set(await a2.followers()) == {three.uri("erin"), three.uri("gert")}
        assert two.received == []


async def test_queued_delivery_to_an_inbox_on_a_newly_blocked_domain_is_skipped(tmp_path: Path) -> None:
    async with fakes() as (two, three), instance(tmp_path / "a2") as a2:
        three.actor_extra["erin"] = {"endpoints": {"sharedInbox": f"{two.base}/inbox"}}
        await _follow_and_wait(a2, three, ("erin",))
        a2.server.stop()
        a2.cli("post", "alice", "--title", "Na de blokkade", "--body", "Niet voor twee")  # queued
        a2.cli("domain", "block", "127.0.0.2")
        await a2.server.start()

        async def done() -> bool:
            return bool(two.received_of("Create")) or "skipped" in a2.cli("queue").stdout

        await wait_for(done, what="the queued delivery to be skipped (or sent)")
        assert two.received_of("Create") == []
