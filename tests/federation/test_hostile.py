"""Safe federation: hostile remotes against the REAL inbox route, one test per numbered case.

Every refusal is checked twice: the HTTP status (a clear 4xx, never a 5xx) and that nothing
was stored (no inbox_items row, no comment, no follower...). The world (an instance, a fake
Mastodon, hand-made signatures) is in hostile.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fake_mastodon import PUBLIC, running
from fediverse_a2.httpclient import FetchSettings, StaticResolver, create_http_client
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from helpers import cli, live_server, raw_server, write_config
from hostile import (
    AP,
    Fake,
    World,
    assert_4xx,
    cavage,
    dumps,
    http_date,
    key_id,
    like,
    make_world,
    one_line_error,
    pem_of,
    post_raw,
    rsa_key,
    sha256_digest,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path / "a2") as w:
        yield w


# == 1. missing or unusable signature ========================================================


async def test_01_unsigned_or_incomplete_signature_is_401(world: World) -> None:
    fake = world.fake
    activity = world.reply("carol")
    body = dumps(activity)
    key, kid = rsa_key("carol"), key_id(fake, "carol")
    variants = {
        "unsigned": {"Content-Type": AP, "Date": http_date(), "Digest": sha256_digest(body)},
        "keyId missing": cavage(key, kid, world.inbox, body, drop_params=["keyId"]),
        "signature missing": cavage(key, kid, world.inbox, body, drop_params=["signature"]),
        "unknown algorithm": cavage(key, kid, world.inbox, body, algorithm="rsa-md5"),
        "hmac algorithm": cavage(key, kid, world.inbox, body, algorithm="hmac-sha256"),
    }
    for what, headers in variants.items():
        assert_4xx(await post_raw(world.inbox, body, headers), 401, what)
    # Each of these is refused before any key is fetched.
    assert fake.gets() == []
    await world.nothing_stored()
    # Control: the same activity, properly signed, is taken.
    assert (await world.send("carol", activity)).status_code == 202


# == 2. what the signature covers, and the Digest ==========================================


async def test_02_signature_must_cover_target_host_date_digest_and_digest_must_match(world: World) -> None:
    fake = world.fake
    activity = world.reply("carol")
    body = dumps(activity)
    key, kid = rsa_key("carol"), key_id(fake, "carol")
    full = ["(request-target)", "host", "date", "digest"]
    for missing in full:
        headers = cavage(key, kid, world.inbox, body, covered=[h for h in full if h != missing])
        r = await post_raw(world.inbox, body, headers)
        assert_4xx(r, 401, f"signature without {missing}")
        assert missing in r.json()["error"]
    md5 = "MD5=" + base64.b64encode(hashlib.md5(body).digest()).decode()
    variants = {
        "Digest header missing": cavage(key, kid, world.inbox, body, drop_headers=["Digest"]),
        "Digest neither SHA-256 nor SHA-512": cavage(key, kid, world.inbox, body, digest=md5),
        "Digest of another body": cavage(key, kid, world.inbox, body, digest=sha256_digest(body + b" ")),
    }
    for what, headers in variants.items():
        r = await post_raw(world.inbox, body, headers)
        assert_4xx(r, 401, what)
        assert "Digest" in r.json()["error"], what
    # A correct Digest over a body that was changed in transit.
    headers = cavage(key, kid, world.inbox, body)
    tampered = body.replace(b"Eens", b"Oneens")
    assert_4xx(await post_raw(world.inbox, tampered, headers), 401, "body changed after signing")
    assert fake.gets() == []  # all of it refused before a key was fetched
    await world.nothing_stored()


# == 3. Date window and replays ==============================================================


async def test_03_date_window_and_replay(world: World) -> None:
    fake = world.fake
    activity = world.reply("carol")
    body = dumps(activity)
    key, kid = rsa_key("carol"), key_id(fake, "carol")
    variants = {
        "Date 61 minutes ago": cavage(key, kid, world.inbox, body, date=http_date(-3660)),
        "Date 61 minutes ahead": cavage(key, kid, world.inbox, body, date=http_date(3660)),
        "Date unparseable": cavage(key, kid, world.inbox, body, date="gisteren om vijf uur"),
        # A request captured two hours ago, signed with that Date.
        "captured 2 h ago": cavage(key, kid, world.inbox, body, date=http_date(-7200)),
    }
    for what, headers in variants.items():
        r = await post_raw(world.inbox, body, headers)
        assert_4xx(r, 401, what)
        assert "Date" in r.json()["error"], what
    await world.nothing_stored()

    # A captured request replayed inside the window: accepted, but it creates nothing new.
    captured = fake.signed_headers("carol", "POST", world.inbox, body)
    for _ in range(3):
        assert (await post_raw(world.inbox, body, captured)).status_code == 202
    assert await world.count("inbox_items") == 1
    await world.drain()
    assert (await post_raw(world.inbox, body, captured)).status_code == 202
    await world.drain()
    assert await world.count("inbox_items") == 1
    assert await world.count("comments") == 1

    # A request signed for another server (its Host) replayed here: the signed host is not us.
    other_activity = world.reply("carol")
    other_body = dumps(other_activity)
    other = cavage(key, kid, world.inbox, other_body, host="mastodon.example")
    assert_4xx(await post_raw(world.inbox, other_body, other), 401, "signed for another host")
    assert await world.count("inbox_items") == 1


# == 4. who signed, and with which key =====================================================


async def test_04_key_owner_key_document_and_inline_keys(world: World) -> None:
    fake = world.fake
    carol_key = rsa_key("carol")

    # carol signs an activity that claims dave as its actor.
    forged = {**like(fake, "dave", world.post_url)}
    r = await world.send_signed(carol_key, key_id(fake, "carol"), forged)
    assert_4xx(r, 401, "carol's key, dave's activity")
    assert "owner" in r.json()["error"]

    # The actor document's key has another id than the keyId that was used.
    fake.add_user("erin", "Erin")
    fake.actor_extra["erin"] = {
        "publicKey": {
            "id": f"{fake.uri('erin')}#other-key",
            "owner": fake.uri("erin"),
            "publicKeyPem": pem_of(rsa_key("erin")),
        },
    }
    r = await world.send_signed(rsa_key("erin"), key_id(fake, "erin"), like(fake, "erin", world.post_url))
    assert_4xx(r, 401, "actor document lists another key id")

    # A standalone key document whose id is not the keyId (it says k2 at k1, and serves k2 too).
    k1, k2 = f"{fake.base}/x/keys/k1", f"{fake.base}/x/keys/k2"
    key_doc = {
        "@context": "https://w3id.org/security/v1",
        "id": k2,
        "type": "CryptographicKey",
        "owner": fake.uri("carol"),
        "publicKeyPem": pem_of(carol_key),
    }
    fake.serve_json("/x/keys/k1", key_doc)
    fake.serve_json("/x/keys/k2", key_doc)
    r = await world.send_signed(carol_key, k1, like(fake, "carol", world.post_url))
    assert_4xx(r, 401, "key document id is not the keyId")
    await world.nothing_stored()

    # An actor document that lists someone else's key id (on another host) with its own key:
    # that key id must not become mallory's, in the cache or for a signature.
    other_key_id = "http://127.0.0.2:9/users/erin#main-key"
    fake.add_user("mallory", "Mallory")
    fake.actor_extra["mallory"] = {
        "publicKey": [
            {"id": key_id(fake, "mallory"), "owner": fake.uri("mallory"), "publicKeyPem": pem_of(rsa_key("mallory"))},
            {"id": other_key_id, "owner": fake.uri("mallory"), "publicKeyPem": pem_of(rsa_key("mallory"))},
        ]
    }
    assert (await world.send("mallory", like(fake, "mallory", world.post_url))).status_code == 202
    assert await world.count("actor_keys", "key_id = ?", (other_key_id,)) == 0
    r = await world.send_signed(rsa_key("mallory"), other_key_id, like(fake, "mallory", world.post_url))
    assert_4xx(r, 401, "a keyId on another host than its owner")
    await world.a2.rt.db.execute("DELETE FROM inbox_items")

    # An inline, forged publicKey in the activity: never trusted.
    mallory = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    inline_actor = {
        "id": fake.uri("dave"),
        "type": "Person",
        "inbox": f"{fake.uri('dave')}/inbox",
        "publicKey": {"id": key_id(fake, "dave"), "owner": fake.uri("dave"), "publicKeyPem": pem_of(mallory)},
    }
    activity = {**like(fake, "dave", world.post_url), "actor": inline_actor}
    r = await world.send_signed(mallory, key_id(fake, "dave"), activity)
    assert_4xx(r, 401, "signed with the inline forged key")
    await world.nothing_stored()
    # The origin's key is the one used: dave's real signature on the same document is taken,
    # and the key stored for dave is his real one.
    assert (await world.send_signed(rsa_key("dave"), key_id(fake, "dave"), activity)).status_code == 202
    stored = await world.a2.rt.db.fetchval("SELECT pem FROM actor_keys WHERE key_id = ?", (key_id(fake, "dave"),))
    assert stored == pem_of(rsa_key("dave"))


# == 5. object origin (CVE-2024-23832) =====================================================


async def test_05_object_origin_and_attribution(world: World) -> None:
    fake = world.fake

    def create(note: dict[str, Any], **extra: Any) -> dict[str, Any]:
        base = fake.create("carol", note or fake.note("carol", "x", world.post_url))
        return {**base, "id": fake.new_id("activities"), **extra}

    foreign_id = "http://127.0.0.9:1/statuses/1"
    refused = {
        "object.id on another host": create({**fake.note("carol", "x", world.post_url), "id": foreign_id}),
        "object id (not embedded) on another host": create({}, object=foreign_id),
        "attributedTo another remote actor": create(
            fake.note("carol", "x", world.post_url, attributedTo=fake.uri("dave"))
        ),
        "attributedTo a local member": create(fake.note("carol", "x", world.post_url, attributedTo=world.alice)),
        # The same, dressed up in the other forms AS2 allows: a list, a JSON-LD type array.
        "object in a list, on another host": create(
            {}, object=[{**fake.note("carol", "x", world.post_url), "id": foreign_id}]
        ),
        "type as a list": create({**fake.note("carol", "x", world.post_url), "id": foreign_id}, type=["Create"]),
        "object under a prefixed JSON-LD key": {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": fake.new_id("activities"),
            "type": "Create",
            "actor": fake.uri("carol"),
            "as:object": {**fake.note("carol", "x", world.post_url), "id": foreign_id},
        },
        "attributedTo list with a stranger": create(
            fake.note("carol", "x", world.post_url, attributedTo=[fake.uri("carol"), world.alice])
        ),
    }
    for what, activity in refused.items():
        r = await world.send("carol", activity)
        assert_4xx(r, 403, what)
    await world.nothing_stored()

    # A url on another host than the actor: the comment is stored, without that url.
    note = fake.note("carol", "<p>Kijk hier</p>", world.post_url)
    note["url"] = "https://phishing.example/login"
    assert (await world.send("carol", fake.create("carol", note))).status_code == 202
    await world.drain()
    row = await world.a2.rt.db.fetchone("SELECT ap_id, url FROM comments")
    assert row["ap_id"] == note["id"] and row["url"] is None


# == 6. only the owner may change or undo ==================================================


async def test_06_update_delete_undo_only_by_owner(world: World) -> None:
    fake = world.fake
    db = world.a2.rt.db
    # carol's comment, dave's follow of alice.
    note = fake.note("carol", "<p>Van carol</p>", world.post_url)
    assert (await world.send("carol", fake.create("carol", note))).status_code == 202
    follow = {"id": f"{fake.base}/follows/dave-1", "type": "Follow", "actor": fake.uri("dave"), "object": world.alice}
    assert (await world.send("dave", follow)).status_code == 202
    await world.drain()
    assert await world.count("comments") == 1 and await world.count("followers") == 1
    before = await world.count("inbox_items")

    edited = {**note, "content": "<p>Overgenomen</p>", "updated": "2026-11-28T12:00:00Z"}
    our_post = {
        "id": world.post_url,
        "type": "Note",
        "attributedTo": fake.uri("carol"),
        "content": "gekaapt",
        "updated": "2026-11-28T12:00:00Z",
    }
    refused: dict[str, tuple[str, dict[str, Any]]] = {
        "dave updates carol's comment": (
            "dave",
            {
                "id": fake.new_id("u"),
                "type": "Update",
                "actor": fake.uri("dave"),
                "object": {**edited, "attributedTo": fake.uri("dave")},
            },
        ),
        "dave deletes carol's comment": (
            "dave",
            {"id": fake.new_id("d"), "type": "Delete", "actor": fake.uri("dave"), "object": note["id"]},
        ),
        "dave deletes carol's comment (Tombstone)": (
            "dave",
            {
                "id": fake.new_id("d"),
                "type": "Delete",
                "actor": fake.uri("dave"),
                "object": {"id": note["id"], "type": "Tombstone"},
            },
        ),
        "carol updates our post": (
            "carol",
            {"id": fake.new_id("u"), "type": "Update", "actor": fake.uri("carol"), "object": our_post},
        ),
        "carol deletes our post": (
            "carol",
            {"id": fake.new_id("d"), "type": "Delete", "actor": fake.uri("carol"), "object": world.post_url},
        ),
        "carol undoes dave's follow": (
            "carol",
            {"id": fake.new_id("undo"), "type": "Undo", "actor": fake.uri("carol"), "object": follow},
        ),
        "carol undoes dave's follow by id": (
            "carol",
            {"id": fake.new_id("undo"), "type": "Undo", "actor": fake.uri("carol"), "object": follow["id"]},
        ),
    }
    for what, (name, activity) in refused.items():
        assert_4xx(await world.send(name, activity), 403, what)
    assert await world.count("inbox_items") == before
    await world.drain()
    row = await db.fetchone("SELECT content_html FROM comments")
    assert "Van carol" in row["content_html"]
    assert await world.count("followers") == 1
    assert await world.count("posts", "deleted_at IS NULL") == 1


# == 7. documents fetched while verifying ====================================================


async def test_07_fetched_key_documents_are_checked(world: World) -> None:
    fake = world.fake
    carol_key = rsa_key("carol")

    # Not an ActivityPub content type (CVE-2024-25623): an upload or a page is never a key.
    for name, media in (("htmlpage", "text/html"), ("plainjson", "application/json"), ("text", "text/plain")):
        fake.add_user(name, name)
        fake.actor_media[name] = media
        r = await world.send(name, like(fake, name, world.post_url))
        assert_4xx(r, 401, f"actor served as {media}")
        assert "not an ActivityPub document" in r.json()["error"]

    # An id that is not the URL it came from: refetched once by its own id, else dropped.
    fake.add_user("mallory", "Mallory")
    fake.actor_extra["mallory"] = {"id": fake.uri("nobody")}
    r = await world.send("mallory", like(fake, "mallory", world.post_url))
    assert_4xx(r, 401, "actor document with another id")
    assert "/users/nobody" in fake.gets()  # the one refetch, by its own id

    # A redirect to another site, and more than three redirects on the same site.
    other = Fake("127.0.0.2")
    other.add_user("carol", "Carol elders")
    async with running(other):
        fake.serve_redirect("/x/cross", other.uri("carol"))
        actor = f"{fake.base}/x/cross"
        r = await world.send_signed(
            carol_key, f"{actor}#main-key", {**like(fake, "carol", world.post_url), "actor": actor}
        )
        assert_4xx(r, 401, "cross-site redirect")
        assert "cross-site redirect" in r.json()["error"]
        assert other.gets() == []
    for i in range(4):
        fake.serve_redirect(f"/x/hop{i}", f"{fake.base}/x/hop{i + 1}")
    fake.serve_json("/x/hop4", {**fake.actor_doc("carol"), "id": f"{fake.base}/x/hop4"})
    actor = f"{fake.base}/x/hop0"
    r = await world.send_signed(carol_key, f"{actor}#main-key", {**like(fake, "carol", world.post_url), "actor": actor})
    assert_4xx(r, 401, "four redirects")
    assert "more than 3 redirects" in r.json()["error"]
    assert "/x/hop4" not in fake.gets()
    await world.nothing_stored()
    assert await world.count("actors") == 0


# == 8. SSRF ==================================================================================

FORBIDDEN = [
    "127.0.0.1",
    "127.9.8.7",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
]
PUBLIC_IP = "93.184.216.34"  # looks public; the test dialer pins it to a fake on 127.0.0.1


class RecordingResolver(StaticResolver):
    """A StaticResolver that remembers what it was asked."""

    def __init__(self, table: dict[str, Any]) -> None:
        super().__init__(table)
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return await super().resolve(host, port)


class Dialer(httpcore.AsyncNetworkBackend):
    """The network under the guard: records every dial, connects only pinned IPs, to 127.0.0.1."""

    def __init__(self, pin: dict[str, int]) -> None:
        self.calls: list[tuple[str, int]] = []
        self.pin = pin
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.calls.append((host, port))
        if host not in self.pin:
            raise httpcore.ConnectError(f"test dialer: {host} is not pinned, never dialled")
        return await self.real.connect_tcp("127.0.0.1", self.pin[host], timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_08_ssrf_guard_refuses_before_connecting(tmp_path: Path) -> None:
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    trap_port = int(trap.getsockname()[1])
    good = Fake("127.0.0.1")
    good.base = f"http://good.test:{good.port}"
    good.add_user("carol", "Carol")
    table: dict[str, Any] = {f"evil{i}.test": ip for i, ip in enumerate(FORBIDDEN)}
    table |= {
        "trap.test": "127.0.0.1",
        "mixed.test": [PUBLIC_IP, "10.0.0.1"],
        "good.test": PUBLIC_IP,
        "inbox.test": "10.0.0.5",
    }
    resolver = RecordingResolver(table)
    # A broken guard would reach the trap (127.0.0.1) or the fake, and the dialer would see it.
    dialer = Dialer({PUBLIC_IP: good.port, "127.0.0.1": trap_port})
    mallory = rsa_key("mallory")
    try:
        async with live_server(tmp_path / "a2", federation={"allow_private_network": False}) as a2:
            await add_member(a2.rt, "alice", "Alice")
            post_url = await publish_post(a2.rt, "alice", "Post", "Tekst")
            # Before the first outbound request: our resolver, and a dialer under the guard.
            a2.rt._http = create_http_client(FetchSettings(), resolver, network_backend=dialer)
            assert a2.rt.http.fetch_settings.allow_private_network is False  # type: ignore[attr-defined]
            inbox = f"{a2.base_url}/inbox"

            async def attempt(actor: str, kid: str | None = None) -> httpx.Response:
                activity = {
                    "id": f"{actor}#likes/{uuid.uuid4().hex}",
                    "type": "Like",
                    "actor": actor,
                    "object": post_url,
                }
                body = dumps(activity)
                return await post_raw(inbox, body, cavage(mallory, kid or f"{actor}#main-key", inbox, body))

            actors = [f"http://evil{i}.test/users/x" for i in range(len(FORBIDDEN))]
            actors += [f"http://trap.test:{trap_port}/users/x", "http://mixed.test/users/x"]
            actors += [
                "http://10.0.0.1/users/x",
                "http://169.254.169.254/users/x",
                "http://[::1]/users/x",
                "http://[::ffff:127.0.0.1]/users/x",
                "http://[fe80::1]/users/x",
                f"http://127.0.0.1:{trap_port}/x",
            ]
            for actor in actors:
                r = await attempt(actor)
                assert r.status_code in (401, 403), (actor, r.status_code, r.text)
                assert "refused" in r.json()["error"], (actor, r.text)
            # Numeric spellings of loopback are not even valid hosts here.
            for actor in (
                "http://2130706433/users/x",
                "http://0x7f000001/users/x",
                "http://127.1/users/x",
                "http://good.test@10.0.0.1/users/x",
            ):
                r = await attempt(actor)
                assert 400 <= r.status_code < 500, (actor, r.status_code, r.text)
            # Schemes other than http(s), for the keyId and for the actor.
            for actor, kid in (
                (good.uri("carol"), "file:///etc/passwd"),
                (good.uri("carol"), "gopher://evil0.test:70/_GET%20/"),
                ("gopher://evil0.test:70/users/x", None),
                ("file:///etc/passwd", None),
            ):
                r = await attempt(actor, kid)
                assert 400 <= r.status_code < 500, (actor, kid, r.status_code, r.text)
            assert dialer.calls == []
            with pytest.raises(BlockingIOError):
                trap.accept()
            assert {f"evil{i}.test" for i in range(len(FORBIDDEN))} <= set(resolver.lookups)
            assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items") == 0

            # An actor on a public host whose inbox and avatar point at private addresses:
            # it may follow (its key is fetched from the public host), but nothing is sent there.
            good.actor_extra["carol"] = {
                "inbox": "http://inbox.test/users/carol/inbox",
                "endpoints": {"sharedInbox": "http://inbox.test/inbox"},
                "icon": {"type": "Image", "url": "http://169.254.169.254/latest/meta-data/iam.png"},
            }
            async with running(good):
                follow = {
                    "id": f"{good.base}/follows/1",
                    "type": "Follow",
                    "actor": good.uri("carol"),
                    "object": f"{a2.base_url}/users/alice",
                }
                assert (await good.send("carol", f"{a2.base_url}/users/alice/inbox", follow)).status_code == 202
                while await a2.workers.inbox.run_once():
                    pass
                assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM followers") == 1
                await a2.workers.deliverer.run_once()
            row = await a2.rt.db.fetchone("SELECT state, last_error, inbox FROM deliveries")
            assert row["inbox"] == "http://inbox.test/users/carol/inbox"
            assert row["state"] != "sent" and "refused" in row["last_error"], dict(row)
            assert {host for host, _ in dialer.calls} == {PUBLIC_IP}  # only the public actor fetch
    finally:
        trap.close()

    # The CLI on a non-private instance: one line, non-zero exit, and nothing dialled.
    config = write_config(tmp_path / "cli", "http://127.0.0.1:9", federation={"allow_private_network": False})
    cli(config, "member", "add", "alice", "--name", "Alice")
    for target in ("http://10.0.0.1/users/x", "@x@10.0.0.1"):
        line = one_line_error(cli(config, "follow", "alice", target, check=False))
        assert "refused" in line, line


# == 9. slow, huge and lying remotes =========================================================


def response_head(**headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {AP}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_09_huge_lying_and_dripping_key_fetches_are_aborted(tmp_path: Path) -> None:
    assert (FetchSettings().connect_timeout, FetchSettings().total_timeout) == (5.0, 30.0)
    assert FetchSettings().max_bytes == 1_000_000
    mallory = rsa_key("mallory")
    filler = b'{"id": "x", "type": "Person", "name": "' + b"a" * 1_100_000 + b'"}'

    async def huge(w: asyncio.StreamWriter) -> None:
        w.write(response_head(Content_Length=str(len(filler))) + filler)
        await w.drain()

    async def huge_chunked(w: asyncio.StreamWriter) -> None:
        w.write(response_head(Transfer_Encoding="chunked"))
        for start in range(0, len(filler), 65536):
            chunk = filler[start : start + 65536]
            w.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await w.drain()
        w.write(b"0\r\n\r\n")

    async def short_length(w: asyncio.StreamWriter) -> None:  # says 12 bytes, sends 1 MB+
        w.write(response_head(Content_Length="12") + filler)
        await w.drain()

    async def long_length(w: asyncio.StreamWriter) -> None:  # says 500 kB, sends 40 bytes and hangs up
        w.write(response_head(Content_Length="500000") + filler[:40])
        await w.drain()

    dripped: set[str] = set()  # the drips that got to their end before we gave up

    async def drip_body(w: asyncio.StreamWriter) -> None:
        w.write(response_head(Content_Length="1000"))
        for _ in range(10):
            w.write(b" ")
            await w.drain()
            await asyncio.sleep(1.0)
        dripped.add("/drip_body")

    async def drip_head(w: asyncio.StreamWriter) -> None:
        for byte in response_head(Content_Length="2"):
            w.write(bytes([byte]))
            await w.drain()
            await asyncio.sleep(1.0)
        dripped.add("/drip_head")

    routes = {f"/{f.__name__}": f for f in (huge, huge_chunked, short_length, long_length, drip_body, drip_head)}
    async with raw_server(routes) as port, live_server(tmp_path / "a2") as a2:
        await add_member(a2.rt, "alice", "Alice")
        post_url = await publish_post(a2.rt, "alice", "Post", "Tekst")
        a2.rt.fetch_settings = FetchSettings(allow_private_network=True, connect_timeout=1.0, total_timeout=1.5)
        inbox = f"{a2.base_url}/inbox"
        for path in routes:
            actor = f"http://127.0.0.1:{port}{path}"
            activity = {"id": f"{actor}#like", "type": "Like", "actor": actor, "object": post_url}
            body = dumps(activity)
            r = await post_raw(inbox, body, cavage(mallory, f"{actor}#main-key", inbox, body))
            assert_4xx(r, 401, path)
            if path.startswith("/drip"):
                assert "timed out" in r.json()["error"], r.text
                assert path not in dripped  # the fetch's deadline ended it, not the server
            if path.startswith("/huge"):
                assert "larger than" in r.json()["error"], r.text
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items") == 0
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM actors") == 0


# == 10. the inbox request itself ==============================================================


async def test_10_body_size_content_type_and_json(tmp_path: Path) -> None:
    async with make_world(tmp_path / "a2") as world:
        key, kid = rsa_key("carol"), key_id(world.fake, "carol")

        def signed(body: bytes, content_type: str | None = AP) -> dict[str, str]:
            return cavage(key, kid, world.inbox, body, content_type=content_type)

        big = b'{"a": "' + b"x" * 1_000_000 + b'"}'
        assert_4xx(await post_raw(world.inbox, big, signed(big)), 413, "over the default 1 MB")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        assert_4xx(await post_raw(world.inbox, chunks(), signed(big)), 413, "over 1 MB, chunked, no Content-Length")
        note = dumps(world.reply("carol"))
        for what, content_type in (
            ("text/plain", "text/plain"),
            ("form", "application/x-www-form-urlencoded"),
            ("no content type", None),
        ):
            assert_4xx(await post_raw(world.inbox, note, signed(note, content_type)), 415, what)
        deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        for what, body in (
            ("malformed JSON", b'{"type": "Create", "actor": '),
            ("trailing garbage", note + b" {}"),
            ("nested 100,000 deep", deep),
            ("not an object", b'["Create"]'),
            ("invalid UTF-8", b'{"type": "\xff\xfe"}'),
        ):
            assert_4xx(await post_raw(world.inbox, body, signed(body)), 400, what)
        await world.nothing_stored()
        assert world.fake.gets() == []

    async with make_world(tmp_path / "small", federation={"max_inbox_bytes": 4096}) as world:
        key, kid = rsa_key("carol"), key_id(world.fake, "carol")
        padded = world.reply("carol", "<p>" + "lang " * 1000 + "</p>")
        body = dumps(padded)
        assert len(body) > 4096
        assert_4xx(await post_raw(world.inbox, body, cavage(key, kid, world.inbox, body)), 413, "over max_inbox_bytes")
        await world.nothing_stored()
        assert (await world.send("carol", world.reply("carol"))).status_code == 202


# == 11. remote HTML ===========================================================================

HOSTILE_HTML = (
    '<p>Hallo <b>wereld</b><script>alert("XSS1")</script><img src=x onerror="alert(\'XSS2\')">'
    '<a href="https://safe.example/page" onclick="alert(\'XSS3\')" class="evilclass mention" '
    'style="position:fixed;top:0">veilige link</a>'
    '<iframe src="https://evil.example/frame"></iframe>'
    '<a href="javascript:alert(\'XSS5\')">js-link</a> <a href=" JaVaScRiPt:alert(1)">js2</a>'
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data-link</a>'
    '<span class="h-card evilspan" onmouseover="alert(\'XSS7\')" style="color:red">tekst</span>'
    '<svg><script>alert("XSS8")</script></svg><form action="https://evil.example"><input name=x></form>'
    "<style>body{display:none}</style></p>"
)
HTML_MARKERS = (
    "<script",
    "alert(",
    "onerror",
    "onmouseover",
    "evilclass",
    "evilspan",
    "<iframe",
    "javascript:",
    "JaVaScRiPt",
    "data:text",
    "position:fixed",
    "color:red",
    "<svg",
    "<form",
    "evil.example",
    "display:none",
)


async def test_11_remote_html_is_sanitised(world: World) -> None:
    assert (await world.send("carol", world.reply("carol", HOSTILE_HTML))).status_code == 202
    await world.drain()
    html = await world.a2.rt.db.fetchval("SELECT content_html FROM comments")
    for marker in (*HTML_MARKERS, "onclick", "style=", "<input", "<img"):
        assert marker not in html, (marker, html)
    for kept in (
        "Hallo",
        "<b>wereld</b>",
        "veilige link",
        "tekst",
        'href="https://safe.example/page"',
        'class="mention"',
        'class="h-card"',
    ):
        assert kept in html, (kept, html)
    assert html.count('rel="nofollow noopener noreferrer"') == html.count("<a ")
    page = (await world.page()).split('<main id="main"', 1)[1]  # the site's own header has a search form
    assert "veilige link" in page
    for marker in HTML_MARKERS:
        assert marker not in page, marker


# == 12. the same activity twice, at once ======================================================


async def test_12_concurrent_duplicate_delivery_stores_one_comment(world: World) -> None:
    fake = world.fake
    create = world.reply("carol")
    body = dumps(create)
    personal = f"{world.alice}/inbox"
    requests = [
        post_raw(url, body, fake.signed_headers("carol", "POST", url, body))
        for url in (world.inbox, personal, world.inbox, personal)
    ]
    results = await asyncio.gather(*requests)  # carol's key is fetched during these, too
    assert [r.status_code for r in results] == [202] * 4
    # The same note again under another activity id.
    again = {**create, "id": fake.new_id("activities")}
    results = await asyncio.gather(world.send("carol", again), world.send("carol", again, personal))
    assert [r.status_code for r in results] == [202, 202]
    await world.drain()
    assert await world.count("inbox_items") == 2
    assert await world.count("comments") == 1
    assert await world.count("actors") == 1


# == 13. Delete before Create ===================================================================


async def test_13_delete_before_create_keeps_it_deleted(world: World) -> None:
    fake = world.fake
    note = fake.note("carol", "<p>Te laat</p>", world.post_url)
    delete = {
        "id": f"{note['id']}#delete",
        "type": "Delete",
        "actor": fake.uri("carol"),
        "object": {"id": note["id"], "type": "Tombstone"},
    }
    assert (await world.send("carol", delete)).status_code == 202
    await world.drain()
    assert (await world.send("carol", fake.create("carol", note))).status_code == 202
    await world.drain()
    assert await world.count("comments") == 0
    assert await world.count("tombstones", "ap_id = ?", (note["id"],)) == 1
    assert "Te laat" not in await world.page()


# == 14. Delete of an actor we never saw ========================================================


async def test_14_delete_of_unknown_actor_fetches_nothing(world: World) -> None:
    fake = world.fake
    fake.add_user("ghost", "Ghost")
    delete = {
        "id": f"{fake.uri('ghost')}#delete",
        "type": "Delete",
        "actor": fake.uri("ghost"),
        "object": fake.uri("ghost"),
        "to": [PUBLIC],
    }
    assert (await world.send("ghost", delete)).status_code == 202
    assert (await world.send("ghost", delete, f"{world.alice}/inbox")).status_code == 202
    assert fake.gets() == []
    await world.nothing_stored()
    assert await world.count("actors") == 0


# == 15. absurd sizes ===========================================================================


async def test_15_absurd_sizes_are_cut_before_storing(world: World) -> None:
    fake = world.fake
    tags = [{"type": "Hashtag", "href": f"{fake.base}/tags/t{i}", "name": f"#t{i}"} for i in range(10_000)]
    many_tags = fake.note("carol", "<p>Veel tags</p>", world.post_url, tag=tags)
    recipients = [f"https://r{i}.example/u" for i in range(10_000)]  # the Create repeats them: keep < 1 MB
    many_recipients = fake.note("carol", "<p>Veel ontvangers</p>", world.post_url, to=[PUBLIC, *recipients])
    fake.add_user("huge", "N" * 900_000)
    fake.actor_extra["huge"] = {"preferredUsername": "huge", "summary": "<p>" + "s" * 50_000 + "</p>"}
    for name, note in (
        ("carol", many_tags),
        ("carol", many_recipients),
        ("huge", fake.note("huge", "<p>Hoi</p>", world.post_url)),
    ):
        r = await world.send(name, fake.create(name, note))
        assert r.status_code == 202, r.text
    await world.drain()
    assert await world.count("comments") == 3
    rows = await world.a2.rt.db.fetchall("SELECT name, handle, summary FROM actors")
    assert len(rows) == 2
    for row in rows:
        assert len(row["name"]) <= 100 and len(row["handle"]) <= 200 and len(row["summary"]) <= 10_000
    assert {row["name"] for row in rows} == {"Carol", "N" * 100}
    longest = await world.a2.rt.db.fetchval("SELECT MAX(LENGTH(content_html)) FROM comments")
    assert longest < 1000
    page = await world.page()
    assert "N" * 101 not in page and len(page) < 50_000


# == 16. floods =================================================================================


async def test_16_inbox_rate_limit_per_remote_domain(tmp_path: Path) -> None:
    async with make_world(tmp_path / "limited", federation={"inbox_rate_limit": 5}) as world:
        fake = world.fake
        for i in range(5):
            assert (await world.send("carol", like(fake, "carol", world.post_url))).status_code == 202, i
        r = await world.send("carol", like(fake, "carol", world.post_url))
        assert_4xx(r, 429, "sixth request within a minute")
        assert int(r.headers["Retry-After"]) >= 1
        # Another domain is still served, and so are people.
        other = Fake("127.0.0.2")
        other.add_user("erin", "Erin")
        async with running(other):
            assert (await other.send("erin", world.inbox, like(other, "erin", world.post_url))).status_code == 202
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(world.a2.base_url + "/")).status_code == 200
        assert await world.count("inbox_items") == 6
        assert await world.count("inbox_items", "actor_uri = ?", (fake.uri("carol"),)) == 5

    # The default (3000 a minute) takes a burst of 200 from one domain.
    async with make_world(tmp_path / "default") as world:
        assert world.a2.rt.config.federation.inbox_rate_limit == 3000
        gate = asyncio.Semaphore(20)

        async def one() -> int:
            async with gate:  # signed here with `cryptography`: httpsig takes ~50 ms a signature
                activity = like(world.fake, "carol", world.post_url)
                return (await world.send_signed(rsa_key("carol"), key_id(world.fake, "carol"), activity)).status_code

        statuses = await asyncio.gather(*(one() for _ in range(200)))
        assert statuses == [202] * 200


# == 17. Unicode tricks in names ================================================================

TRICKS = ("\u202e", "\u200d", "\u200b", "\u2066", "\u2069", "\u200f", "\ufeff")


async def test_17_unicode_tricks_in_names_are_inert(world: World) -> None:
    fake = world.fake
    fake.add_user("trick", "Bob\u202e\u2066gnp.exe\u2069\u200d\u200b Admin\ufeff")
    note = fake.note("trick", "<p>Hallo</p>", world.post_url, summary="Let\u202eop\u200b")
    assert (await world.send("trick", fake.create("trick", note))).status_code == 202
    await world.drain()
    name = await world.a2.rt.db.fetchval("SELECT name FROM actors WHERE uri = ?", (fake.uri("trick"),))
    assert name == "Bobgnp.exe Admin"
    page = await world.page()
    assert "Bobgnp.exe Admin" in page and "Letop" in page
    for char in TRICKS:
        assert char not in page, f"U+{ord(char):04X} on the page"


# == 18. hostile CLI and config input ===========================================================


def test_18_hostile_cli_and_config_input(tmp_path: Path) -> None:
    config = write_config(tmp_path / "a2", "http://127.0.0.1:9")
    cli(config, "member", "add", "alice", "--name", "Alice")
    for args in (
        ("domain", "block", "../etc"),
        ("domain", "block", "exa mple.org"),
        ("member", "add", "../../etc/passwd", "--name", "X"),
        ("post", "../alice", "--title", "T", "--body", "B"),
    ):
        line = one_line_error(cli(config, *args, check=False))
        assert line.startswith("fediverse-a2: "), line
    assert sorted(p.name for p in tmp_path.rglob("*.pem")) == ["alice.pem", "instance-actor.pem"]
    db = sqlite3.connect(tmp_path / "a2" / "data" / "db.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM domain_rules").fetchone() == (0,)
        assert db.execute("SELECT username FROM members").fetchall() == [("alice",)]
    finally:
        db.close()

    bad = write_config(tmp_path / "bad", "http://127.0.0.1:9", federation={"block": ["ok.example", "exa mple.org"]})
    proc = cli(bad, "serve", check=False)
    line = one_line_error(proc)
    assert proc.returncode == 2
    assert "federation.block" in line and "exa mple.org" in line
