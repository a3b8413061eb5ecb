"""Safe at the seams: the families of hostile input found in review, each through the real HTTP route.

Every refusal is checked for its status and for changing nothing. Signatures are made by
hand here with `cryptography` (as in hostile.py), never with the module under test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import os
import signal
import struct
import termios
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fediverse_a2.federation.jsonld_worker import JsonLdWorker
from fediverse_a2.hosts import parse_origin
from fediverse_a2.httpclient import FetchError
from helpers import live_server, wait_for
from hostile import AP, Fake, World, assert_4xx, cavage, dumps, key_id, make_world, post_raw, rsa_key


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    async with make_world(tmp_path / "a2") as w:
        yield w


def sf_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def rfc9421(
    key: rsa.RSAPrivateKey,
    kid: str,
    url: str,
    body: bytes,
    *,
    components: tuple[str, ...] = ("@method", "@target-uri", "content-digest"),
    signed_url: str | None = None,
    alg: str = "rsa-v1_5-sha256",
    label: str = "sig1",
) -> dict[str, str]:
    """Headers of a POST with one RFC 9421 signature, built by hand (signed_url: the URL the signer meant)."""
    target = httpx.URL(signed_url or url)
    values = {
        "@method": "POST",
        "@target-uri": str(target),
        "@authority": target.netloc.decode(),
        "@path": target.path,
        "@request-target": target.raw_path.decode(),
        "content-digest": sf_digest(body),
    }
    inner = "(" + " ".join(f'"{c}"' for c in components) + ")"
    params = f'{inner};created={int(time.time())};keyid="{kid}";alg="{alg}"'
    lines = [f'"{c}": {values[c]}' for c in components] + [f'"@signature-params": {params}']
    sig = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": AP,
        "Content-Digest": sf_digest(body),
        "Signature-Input": f"{label}={params}",
        "Signature": f"{label}=:{base64.b64encode(sig).decode()}:",
    }


async def assert_nothing(world: World) -> None:
    await world.nothing_stored()


# == 1. a signature made for another server is never accepted, on any route ==================


async def test_cavage_signed_for_another_host_is_refused_at_the_inbox(world: World) -> None:
    body = dumps(world.reply("carol"))
    key, kid = rsa_key("carol"), key_id(world.fake, "carol")
    headers = cavage(key, kid, world.inbox, body, host="other.example")
    # httpx would send its own Host header; the one we signed must be the one sent.
    r = await post_raw(world.inbox, body, headers)
    assert_4xx(r, 401, "cavage signed for other.example")
    assert "host" in r.json()["error"]
    await assert_nothing(world)


async def test_cavage_host_in_another_spelling_of_this_instance_is_accepted(world: World) -> None:
    port = parse_origin(world.a2.base_url).port
    body = dumps(world.reply("carol"))
    headers = cavage(rsa_key("carol"), key_id(world.fake, "carol"), world.inbox, body, host=f"127.0.0.1:{port}")
    assert (await post_raw(world.inbox, body, headers)).status_code == 202


async def test_rfc9421_with_only_request_target_is_refused(world: World) -> None:
    body = dumps(world.reply("carol"))
    headers = rfc9421(
        rsa_key("carol"), key_id(world.fake, "carol"), world.inbox, body,
        components=("@method", "@request-target", "content-digest"),
    )  # fmt: skip
    r = await post_raw(world.inbox, body, headers)
    assert_4xx(r, 401, "RFC 9421 covering @request-target only")
    await assert_nothing(world)


async def test_rfc9421_signed_for_another_authority_is_refused(world: World) -> None:
    body = dumps(world.reply("carol"))
    for components in (
        ("@method", "@target-uri", "content-digest"),
        ("@method", "@authority", "@path", "content-digest"),
    ):
        headers = rfc9421(
            rsa_key("carol"), key_id(world.fake, "carol"), world.inbox, body,
            components=components, signed_url="https://other.example/inbox",
        )  # fmt: skip
        r = await post_raw(world.inbox, body, headers)
        assert_4xx(r, 401, f"RFC 9421 {components} signed for other.example")
    await assert_nothing(world)
    control = rfc9421(rsa_key("carol"), key_id(world.fake, "carol"), world.inbox, body)
    assert (await post_raw(world.inbox, body, control)).status_code == 202


async def test_authorized_fetch_refuses_a_signature_made_for_another_server(tmp_path: Path) -> None:
    async with make_world(tmp_path / "a2", federation={"authorized_fetch": True}) as world:
        key, kid = rsa_key("carol"), key_id(world.fake, "carol")
        url = world.alice
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())

        def signed_get(host: str) -> dict[str, str]:
            path = httpx.URL(url).raw_path.decode()
            text = f"(request-target): get {path}\nhost: {host}\ndate: {date}"
            sig = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
            params = f'keyId="{kid}",algorithm="rsa-sha256",headers="(request-target) host date"'
            return {"Accept": AP, "Host": host, "Date": date, "Signature": f'{params},signature="{sig}"'}

        async with httpx.AsyncClient(timeout=10) as client:
            other = await client.get(url, headers=signed_get("other.example"))
            ours = await client.get(url, headers=signed_get(httpx.URL(url).netloc.decode()))
        assert other.status_code == 401, other.text
        assert ours.status_code == 200, ours.text


# == 2. ambiguous signature headers are refused ================================================


async def test_duplicate_signature_parameters_are_refused(world: World) -> None:
    body = dumps(world.reply("carol"))
    key, kid = rsa_key("carol"), key_id(world.fake, "carol")
    headers = cavage(key, kid, world.inbox, body)
    blocked_kid = "https://blocked.example/users/x#main-key"
    headers["Signature"] = f'keyId="{blocked_kid}",' + headers["Signature"]
    r = await post_raw(world.inbox, body, headers)
    assert_4xx(r, 401, "two keyIds")
    assert world.fake.gets() == []  # neither key was fetched
    await assert_nothing(world)


async def test_duplicate_rfc9421_labels_and_params_are_refused(world: World) -> None:
    body = dumps(world.reply("carol"))
    key, kid = rsa_key("carol"), key_id(world.fake, "carol")
    good = rfc9421(key, kid, world.inbox, body)
    twice = {**good, "Signature-Input": good["Signature-Input"] + ", " + good["Signature-Input"]}
    assert_4xx(await post_raw(world.inbox, body, twice), 401, "a label given twice")
    param_twice = {**good, "Signature-Input": good["Signature-Input"] + ';keyid="https://blocked.example/k"'}
    assert_4xx(await post_raw(world.inbox, body, param_twice), 401, "keyid given twice")
    await assert_nothing(world)


async def test_ambiguous_or_mismatching_digests_are_refused(world: World) -> None:
    body = dumps(world.reply("carol"))
    key, kid = rsa_key("carol"), key_id(world.fake, "carol")
    right = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    wrong = "SHA-256=" + base64.b64encode(hashlib.sha256(body + b"x").digest()).decode()
    wrong512 = "SHA-512=" + base64.b64encode(hashlib.sha512(body + b"x").digest()).decode()
    for what, digest in (
        ("two SHA-256 values", f"{right}, {wrong}"),
        ("SHA-512 does not match", f"{right},{wrong512}"),
    ):
        r = await post_raw(world.inbox, body, cavage(key, kid, world.inbox, body, digest=digest))
        assert_4xx(r, 401, what)
    good = rfc9421(key, kid, world.inbox, body)
    bad512 = ":" + base64.b64encode(hashlib.sha512(b"other").digest()).decode() + ":"
    mixed = {**good, "Content-Digest": good["Content-Digest"] + f", sha-512={bad512}"}
    assert_4xx(await post_raw(world.inbox, body, mixed), 401, "Content-Digest with a wrong sha-512")
    await assert_nothing(world)


# == 3. several signatures: each supported one is tried =======================================


async def test_unsupported_first_signature_is_skipped(world: World) -> None:
    body = dumps(world.reply("carol"))
    key, kid = rsa_key("carol"), key_id(world.fake, "carol")
    good = rfc9421(key, kid, world.inbox, body, label="good")
    hmac_input = '("@method" "@target-uri");created=1;keyid="k";alg="hmac-sha256"'
    headers = {
        **good,
        "Signature-Input": f"odd={hmac_input}, {good['Signature-Input']}",
        "Signature": f"odd=:AAAA:, {good['Signature']}",
    }
    r = await post_raw(world.inbox, body, headers)
    assert r.status_code == 202, r.text


# == 4. a Delete only ever affects its own actor's objects =====================================


async def test_delete_of_a_future_id_does_not_block_another_actors_object(world: World) -> None:
    fake = world.fake
    note_id = fake.new_id()
    delete = {
        "id": f"{fake.uri('carol')}#delete-{uuid.uuid4().hex}",
        "type": "Delete",
        "actor": fake.uri("carol"),
        "object": note_id,
    }
    assert (await world.send("carol", delete)).status_code == 202
    await world.drain()
    note = fake.note("dave", "<p>Van dave</p>", world.post_url, id=note_id)
    fake.notes[note_id] = note
    assert (await world.send("dave", fake.create("dave", note))).status_code == 202
    await world.drain()
    assert await world.count("comments", "ap_id = ?", (note_id,)) == 1
    # The tombstone still holds for carol herself.
    own = fake.note("carol", "<p>Van carol</p>", world.post_url, id=f"{note_id}-c")
    gone = {**delete, "id": f"{delete['id']}-2", "object": own["id"]}
    assert (await world.send("carol", gone)).status_code == 202
    await world.drain()
    assert (await world.send("carol", fake.create("carol", own))).status_code == 202
    await world.drain()
    assert await world.count("comments", "ap_id = ?", (own["id"],)) == 0


# == 6. expensive JSON-LD never stalls the server ==============================================


def expensive(fake: Fake, name: str, post_url: str) -> dict[str, Any]:
    """A Create whose JSON-LD takes pyld seconds: a context listed again and again (each listing is
    applied anew), at the top and in every tag. Small (about 100 kB, 3,000 nodes), so only time refuses it."""
    again = ["https://www.w3.org/ns/activitystreams"] * 50
    note = fake.note(name, "<p>duur</p>", post_url)
    note["tag"] = [{"@context": again, "type": "Hashtag", "name": f"#t{i}"} for i in range(50)]
    return {**fake.create(name, note), "@context": again[:40]}


def _unread_by(worker: JsonLdWorker) -> int:
    """Bytes sent to the JSON-LD worker process that it has not read yet (SIOCOUTQ on our end of its pipe)."""
    child = worker._child
    if child is None:
        return 0
    queued: int = struct.unpack("i", fcntl.ioctl(child.conn.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    return queued


async def test_expensive_json_ld_is_refused_and_others_are_still_served(world: World) -> None:
    # Signed beforehand: the fake signs in this process, on the event loop the server runs on.
    requests = []
    for _ in range(3):
        body = dumps(expensive(world.fake, "carol", world.post_url))
        requests.append((body, world.fake.signed_headers("carol", "POST", world.inbox, body)))
    await world.send("carol", world.reply("carol"))  # the key is fetched once, before the others
    worker: JsonLdWorker = world.a2.app.state.jsonld
    budget, pid = worker.time_budget, worker.pid
    assert pid is not None, "the JSON-LD process starts with the server"
    # No timing decides the order: the worker process is stopped (SIGSTOP) before the expensive
    # documents come, so the first one provably sits in it unanswered (its budget, raised for it,
    # cannot run out meanwhile) while the others wait their turn; other requests are answered
    # all the same. How long they wait under real load is a figure of bench/bench_jsonld.py.
    events: list[str] = []
    os.kill(pid, signal.SIGSTOP)
    try:
        worker.time_budget = 3600
        async with httpx.AsyncClient(timeout=120) as sender:
            sending = [asyncio.create_task(sender.post(world.inbox, content=b, headers=h)) for b, h in requests]
            for task in sending:
                task.add_done_callback(lambda _: events.append("refused"))

            async def in_the_worker() -> bool:
                return _unread_by(worker) > 0 or any(task.done() for task in sending)

            await wait_for(in_the_worker, timeout=60, what="an expensive document to reach the JSON-LD process")
            # The budget of the next documents is the configured one again (read as each is sent).
            worker.time_budget = budget
            async with httpx.AsyncClient(base_url=world.a2.base_url, timeout=30) as client:
                for _ in range(3):
                    r = await client.get("/.well-known/nodeinfo")
                    assert r.status_code == 200
                    events.append("served")
                assert events == ["served"] * 3, events  # served while no expensive document was answered
                assert worker.pid == pid
                # The first document's process dies mid-work (a crash); the next ones get fresh
                # processes and run out of the time budget.
                os.kill(pid, signal.SIGKILL)
                results = await asyncio.gather(*sending)
                assert (await client.get("/.well-known/nodeinfo")).status_code == 200
    finally:
        worker.time_budget = budget
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert events == ["served"] * 3 + ["refused"] * 3, events
    assert all(400 <= r.status_code < 500 for r in results), [(r.status_code, r.text) for r in results]
    errors = [r.json()["error"] for r in results]
    assert all("JSON-LD" in error for error in errors), errors
    assert sum("stopped while processing" in error for error in errors) == 1, errors
    assert sum(f"longer than {budget:g} s" in error for error in errors) == 2, errors
    assert await world.count("inbox_items") == 1  # only the ordinary reply


# == 7. forged requests cannot use up a domain's rate limit ====================================


async def test_forged_requests_do_not_use_up_the_domain_limit(tmp_path: Path) -> None:
    async with make_world(tmp_path / "a2", federation={"inbox_rate_limit": 5}) as world:
        body = dumps(world.reply("carol"))
        forged = cavage(rsa_key("mallory"), key_id(world.fake, "carol"), world.inbox, body)
        for _ in range(20):
            assert_4xx(await post_raw(world.inbox, body, forged), 401, "forged")
        assert (await world.send("carol", world.reply("carol"))).status_code == 202


async def test_failed_verifications_are_limited_per_source_address(world: World) -> None:
    body = dumps(world.reply("carol"))
    forged = cavage(rsa_key("mallory"), key_id(world.fake, "carol"), world.inbox, body)
    statuses = [(await post_raw(world.inbox, body, forged)).status_code for _ in range(70)]
    assert statuses[:60] == [401] * 60, statuses
    # The budget refills at one a second, so a few more may be verified (and fail) meanwhile.
    assert 429 in statuses[60:] and set(statuses) == {401, 429}, statuses
    r = await post_raw(world.inbox, body, forged)
    assert r.status_code in (401, 429)
    assert r.status_code == 401 or int(r.headers["Retry-After"]) >= 1
    await assert_nothing(world)


# == 8. the service never fetches itself =======================================================


async def test_the_service_never_fetches_any_spelling_of_itself(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as a2:
        port = parse_origin(a2.base_url).port
        spellings = [
            f"http://{h}:{port}/users/alice"
            for h in (
                "127.0.0.1",
                "127.1",
                "0x7f000001",
                "2130706433",
                "0177.0.0.1",
                "[::ffff:127.0.0.1]",
                "127.0.0.1.",
            )
        ]
        for url in spellings:
            assert a2.rt.urls.is_local(url), url
            with pytest.raises(FetchError, match="this instance"):
                await a2.workers.directory.fetch_document(url)
        assert not a2.rt.urls.is_local(f"http://127.0.0.1:{port + 1}/users/alice")
        # Through the inbox: a key on "another" spelling of us is never fetched.
        actor = f"http://127.1:{port}/users/alice"
        activity = {"id": f"{actor}#likes/1", "type": "Like", "actor": actor, "object": f"{a2.base_url}/posts/1"}
        body = dumps(activity)
        inbox = f"{a2.base_url}/inbox"
        r = await post_raw(
            inbox, body, cavage(rsa_key("mallory"), f"http://0x7f000001:{port}/users/alice#main-key", inbox, body)
        )
        assert 400 <= r.status_code < 500, r.text


# == 9. redirects and absolute URLs come from base_url, never from Host =========================


async def test_redirects_never_use_the_host_header(world: World) -> None:
    await world.send("carol", world.reply("carol"))
    await world.drain()
    async with httpx.AsyncClient(base_url=world.a2.base_url, timeout=10) as client:
        evil = {"Host": "evil.example", "Accept": "text/html"}
        for path in ("/users/alice/", "/posts/1/", "/static", "/feed.atom/"):
            r = await client.get(path, headers=evil)
            assert "evil.example" not in r.headers.get("location", ""), (path, r.status_code, r.headers)
            assert "evil.example" not in r.text, path
        r = await client.get("/feed.atom", headers=evil)
        assert "evil.example" not in r.text and world.a2.base_url in r.text


# == interop: what real servers send ===========================================================


async def test_actor_as_a_list_or_an_object_and_missing_attributed_to(world: World) -> None:
    fake = world.fake
    for shape in ([fake.uri("carol")], {"id": fake.uri("carol"), "type": "Person"}):
        note = fake.note("carol", f"<p>vorm {type(shape).__name__}</p>", world.post_url)
        del note["attributedTo"]
        activity = {**fake.create("carol", note), "actor": shape}
        r = await world.send("carol", activity)
        assert r.status_code == 202, r.text
    await world.drain()
    assert await world.count("comments", "author_uri = ?", (fake.uri("carol"),)) == 2


async def test_lemmy_context_reply_is_accepted(world: World) -> None:
    fake = world.fake
    note = fake.note("carol", "<p>Van Lemmy</p>", world.post_url)
    activity = {
        **fake.create("carol", note),
        "@context": ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"],
    }
    assert (await world.send("carol", activity)).status_code == 202
    unknown = fake.note("carol", "<p>Onbekende context</p>", world.post_url)
    other = {
        **fake.create("carol", unknown),
        "@context": ["https://www.w3.org/ns/activitystreams", "https://unknown.example/never-fetched.jsonld"],
    }
    assert (await world.send("carol", other)).status_code == 202
    await world.drain()
    assert await world.count("comments") == 2
    assert "unknown.example" not in str(world.fake.requests)


async def test_group_announce_of_a_create_is_unwrapped_and_fetched_from_origin(world: World) -> None:
    fake = world.fake
    group = fake.add_user("gemeenten", "Gemeenten")
    fake.actor_extra["gemeenten"] = {"type": "Group"}
    assert group is not None
    note = fake.note("carol", "<p>Echte tekst</p>", world.post_url)
    forged_copy = {**note, "content": "<p>Vervalst door de groep</p>"}
    announce = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{fake.uri('gemeenten')}/announces/{uuid.uuid4().hex}",
        "type": "Announce",
        "actor": fake.uri("gemeenten"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": fake.create("carol", forged_copy),
    }
    assert (await world.send("gemeenten", announce)).status_code == 202
    await world.drain()
    row = await world.a2.rt.db.fetchone("SELECT author_uri, content_html FROM comments WHERE ap_id = ?", (note["id"],))
    assert row is not None
    assert row["author_uri"] == fake.uri("carol")
    assert "Echte tekst" in row["content_html"] and "Vervalst" not in row["content_html"]
    # A group announcing something its author never wrote (its origin answers 404): nothing comes of it.
    ghost = fake.note("carol", "<p>Nooit geschreven</p>", world.post_url)
    del fake.notes[ghost["id"]]
    announce2 = {**announce, "id": f"{announce['id']}-2", "object": fake.create("carol", ghost)}
    assert (await world.send("gemeenten", announce2)).status_code == 202
    await world.drain()
    assert await world.count("comments", "ap_id = ?", (ghost["id"],)) == 0


async def test_activity_json_is_stored_once_normalised(world: World) -> None:
    """The worker reads what the inbox normalised; it never normalises again."""
    activity = world.reply("carol")
    assert (await world.send("carol", activity)).status_code == 202
    row = await world.a2.rt.db.fetchone("SELECT body, document FROM inbox_items")
    assert orjson.loads(row["body"])["id"] == activity["id"]
    assert row["document"] is None  # compact AS2: nothing to normalise, nothing stored twice
