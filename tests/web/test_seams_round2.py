"""Safe at the seams, round two: the open families of hostile input, each through the real routes.

1. a reply that is not public is never shown publicly (post page, count, replies collection,
   search, timelines, the answer form), and reaches its addressee as a notification;
2. a shared address cannot lock members out of /login, and X-Forwarded-For counts only from
   `server.trusted_proxies`;
4. media belongs to its uploader (the editor, two members, the same bytes);
5. re-encoded images carry no metadata, from the editor and from the importer;
7. the service never fetches itself under another name (a keyId on `localhost`);
and the interop cases: an object repeating its activity's @context, `attributedTo: null`.
"""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fediverse_a2.accounts import throttle
from fediverse_a2.hosts import parse_origin
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.accounts import set_password
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import follows, members
from fediverse_a2.store import media as media_store
from helpers import AP, LiveServer, ServiceProcess, cli, live_server, write_config
from hostile import World, cavage, dumps, key_id, make_world, post_raw, rsa_key
from media_samples import PHONE, photo, reveals, tagged_images
from ning_archive_gen import generate_archive
from webclient import WebUser, csrf_of, member_with_password

PASSWORD = "correct horse battery"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[World]:
    async with make_world(tmp_path / "a2", database=database_url) as w:
        alice = await members.by_username(w.a2.rt.db, "alice")
        assert alice is not None
        await set_password(w.a2.rt, alice, PASSWORD)
        await member_with_password(w.a2, "bob", "Bob", PASSWORD)
        yield w


async def as_visitor(url: str, accept: str = "text/html") -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url, headers={"Accept": accept})


async def public_traces(world: World, word: str) -> list[str]:
    """Every public place where a comment containing `word` (or any comment at all) shows."""
    found = []
    page = (await as_visitor(world.post_url)).text
    if word in page:
        found.append("post page")
    count = re.search(r"<h2>Reacties \((\d+)\)</h2>", page)
    if count is None or count.group(1) != "0":
        found.append(f"comment count {count.group(1) if count else '?'}")
    note = (await as_visitor(world.post_url, AP)).json()
    if note["replies"]["totalItems"] or note["replies"].get("first", {}).get("items"):
        found.append("the Note's replies")
    replies = note["replies"]["id"]
    if (await as_visitor(replies, AP)).json()["totalItems"]:
        found.append("replies collection")
    if (await as_visitor(f"{replies}?page=1", AP)).json()["orderedItems"]:
        found.append("replies page")
    if "search-hit" in (await as_visitor(f"{world.a2.base_url}/search?q={word}")).text:
        found.append("search")
    return found


def private_reply(world: World, word: str, *, to: list[str], cc: list[str]) -> dict[str, Any]:
    """A reply to the post from carol, addressed as told (a Mastodon private mention names alice)."""
    note = world.fake.note(
        "carol", f"<p>{word}: bel me op {PHONE}</p>", world.post_url, mention=world.alice, to=to, cc=cc
    )
    return world.fake.create("carol", note)


# == 1. a reply that is not public is never shown publicly =====================================


async def test_a_private_mention_is_never_shown_publicly_and_reaches_only_its_addressee(world: World) -> None:
    word = "geheimpje"
    activity = private_reply(world, word, to=[world.alice], cc=[])
    assert (await world.send("carol", activity)).status_code == 202
    await world.drain()
    db = world.a2.rt.db
    assert await db.fetchval("SELECT visibility FROM comments WHERE ap_id = ?", (activity["object"]["id"],)) == "direct"
    assert await public_traces(world, word) == []
    # Not answerable in public, not even its existence shown on the answer form.
    async with WebUser(world.a2.base_url) as alice, WebUser(world.a2.base_url) as bob:
        await alice.login("alice", PASSWORD)
        await bob.login("bob", PASSWORD)
        reply_form = await alice.get(f"/reply?to={activity['object']['id']}")
        assert reply_form.status_code == 404 and word not in reply_form.text
        # Alice, whom it names, reads it in her notifications; Bob sees it nowhere.
        mine = (await alice.get("/notifications")).text
        assert word in mine and PHONE in mine and "Niet openbaar: alleen aan jou gericht" in mine
        for path in ("/notifications", "/timeline", "/moderation", world.post_url, "/users/alice"):
            assert word not in (await bob.get(path)).text, path
        assert word not in (await alice.get(world.post_url)).text  # not under the post, for her either


async def test_a_followers_only_reply_is_never_shown_publicly(world: World) -> None:
    word = "volgersalleen"
    followers = f"{world.fake.uri('carol')}/followers"
    activity = private_reply(world, word, to=[followers], cc=[world.alice])
    assert (await world.send("carol", activity)).status_code == 202
    await world.drain()
    visibility = await world.a2.rt.db.fetchval("SELECT visibility FROM comments")
    assert visibility == "followers"
    assert await public_traces(world, word) == []
    async with WebUser(world.a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        assert word in (await alice.get("/notifications")).text


async def test_an_unlisted_reply_stays_shown_under_the_post(world: World) -> None:
    word = "ongenoteerd"
    followers = f"{world.fake.uri('carol')}/followers"
    activity = private_reply(world, word, to=[followers], cc=[PUBLIC, world.alice])
    assert (await world.send("carol", activity)).status_code == 202
    await world.drain()
    assert await world.a2.rt.db.fetchval("SELECT visibility FROM comments") == "unlisted"
    traces = await public_traces(world, word)
    # Shown where the post is; like Mastodon's unlisted, left out of discovery (search).
    assert set(traces) == {"post page", "comment count 1", "the Note's replies", "replies collection", "replies page"}


async def test_an_object_without_addressing_takes_its_activitys(world: World) -> None:
    word = "zonderadres"
    activity = private_reply(world, word, to=[world.alice], cc=[])
    del activity["object"]["to"], activity["object"]["cc"]  # only the Create says who may read it
    assert (await world.send("carol", activity)).status_code == 202
    await world.drain()
    assert await world.a2.rt.db.fetchval("SELECT visibility FROM comments") == "direct"
    assert await public_traces(world, word) == []


async def test_a_public_answer_to_a_direct_reply_is_shown_without_it(world: World) -> None:
    secret = private_reply(world, "onderonsje", to=[world.alice], cc=[])
    assert (await world.send("carol", secret)).status_code == 202
    answer = world.fake.note("dave", "<p>openbaar antwoord</p>", secret["object"]["id"])
    assert (await world.send("dave", world.fake.create("dave", answer))).status_code == 202
    await world.drain()
    page = (await as_visitor(world.post_url)).text
    assert "openbaar antwoord" in page and "onderonsje" not in page
    assert "<h2>Reacties (1)</h2>" in page


async def test_a_direct_note_of_a_followed_account_stays_out_of_every_timeline(world: World) -> None:
    bob = await members.by_username(world.a2.rt.db, "bob")
    assert bob is not None
    await follows.add_following(world.a2.rt.db, bob.id, world.fake.uri("carol"), f"{world.a2.base_url}#follows/1")
    note = world.fake.note("carol", "<p>alleen voor alice</p>", None, mention=world.alice, to=[world.alice], cc=[])
    public = world.fake.note("carol", "<p>voor iedereen</p>", None)
    for item in (note, public):
        assert (await world.send("carol", world.fake.create("carol", item))).status_code == 202
    await world.drain()
    async with WebUser(world.a2.base_url) as web:
        await web.login("bob", PASSWORD)
        timeline = (await web.get("/timeline")).text
        assert "voor iedereen" in timeline and "alleen voor alice" not in timeline
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        assert "alleen voor alice" in (await web.get("/notifications")).text


# == 2. a shared address cannot lock members out ==============================================


async def sign_in(base_url: str, username: str, password: str, headers: dict[str, str] | None = None) -> int:
    """One POST to /login as a fresh browser would send it; the status."""
    async with WebUser(base_url) as web:
        token = csrf_of((await web.get("/login")).text)
        r = await web.client.post(
            "/login", data={"username": username, "password": password, "csrf": token},
            headers={"Origin": base_url, **(headers or {})},
        )  # fmt: skip
        return r.status_code


@pytest.fixture
async def office(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as a2:
        await member_with_password(a2, "alice", "Alice", PASSWORD)
        await member_with_password(a2, "bob", "Bob", PASSWORD)
        yield a2


async def test_ten_wrong_passwords_for_one_member_do_not_lock_out_another_at_that_address(office: LiveServer) -> None:
    for _ in range(throttle.ACCOUNT_LIMIT):
        assert await sign_in(office.base_url, "alice", "wrong password") == 401
    assert await sign_in(office.base_url, "alice", PASSWORD) == 429  # guessing alice stays throttled
    assert await sign_in(office.base_url, "bob", PASSWORD) == 303  # bob, same address, signs in


async def test_guessing_many_accounts_from_one_address_is_throttled(office: LiveServer) -> None:
    per_name = throttle.ACCOUNT_LIMIT - 1
    for i in range(throttle.ADDRESS_LIMIT):
        assert await sign_in(office.base_url, f"gok{i // per_name}", "wrong password") == 401, i
    assert await sign_in(office.base_url, "bob", PASSWORD) == 429
    assert await office.rt.db.fetchval("SELECT COUNT(*) FROM sessions") == 0


@contextlib.asynccontextmanager
async def serving(folder: Path, **server: Any) -> AsyncIterator[ServiceProcess]:
    """`fediverse-a2 serve` as deployed, with alice and bob able to sign in."""
    service = ServiceProcess(folder, server={"background": "inline", **server})
    rt = await Runtime.open(service.config())
    try:
        for name in ("alice", "bob"):
            await set_password(rt, await add_member(rt, name, name.title()), PASSWORD)
    finally:
        await rt.close()
    await service.start()
    try:
        yield service
    finally:
        service.stop()


async def failure_addresses(service: ServiceProcess) -> list[str]:
    rt = await Runtime.open(service.config())
    try:
        return [r["address"] for r in await rt.db.fetchall("SELECT DISTINCT address FROM login_failures")]
    finally:
        await rt.close()


async def test_forwarded_for_is_ignored_without_a_trusted_proxy(tmp_path: Path) -> None:
    async with serving(tmp_path / "a2") as service:
        for i in range(throttle.ACCOUNT_LIMIT - 1):
            spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
            assert await sign_in(service.base_url, f"gok{i}", "wrong password", spoofed) == 401
        assert await failure_addresses(service) == ["127.0.0.1"]


async def test_forwarded_for_is_honoured_behind_a_trusted_proxy(tmp_path: Path) -> None:
    async with serving(tmp_path / "a2", trusted_proxies=["127.0.0.0/8"]) as service:
        # What the client wrote (left of the proxy's own entry) is not believed.
        guesser = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
        per_name = throttle.ACCOUNT_LIMIT - 1
        for i in range(throttle.ADDRESS_LIMIT):
            assert await sign_in(service.base_url, f"gok{i // per_name}", "wrong password", guesser) == 401, i
        assert await failure_addresses(service) == ["203.0.113.7"]
        assert await sign_in(service.base_url, "bob", PASSWORD, guesser) == 429
        # Another visitor behind the same proxy signs in.
        assert await sign_in(service.base_url, "bob", PASSWORD, {"X-Forwarded-For": "203.0.113.8"}) == 303


async def test_the_inbox_charges_failed_signatures_to_the_sender_behind_the_proxy(tmp_path: Path) -> None:
    async with make_world(tmp_path / "a2", server={"trusted_proxies": ["127.0.0.1"]}) as world:
        body = dumps(world.reply("carol"))
        forged = cavage(rsa_key("mallory"), key_id(world.fake, "carol"), world.inbox, body)
        forger = {**forged, "X-Forwarded-For": "203.0.113.66"}
        statuses: list[int] = []
        while 429 not in statuses and len(statuses) < 300:  # the budget refills at one a second
            statuses.append((await post_raw(world.inbox, body, forger)).status_code)
        assert statuses[:60] == [401] * 60 and statuses[-1] == 429, statuses
        # Carol's server, behind the same proxy, is still heard.
        honest = {**world.fake.signed_headers("carol", "POST", world.inbox, body), "X-Forwarded-For": "198.51.100.2"}
        assert (await post_raw(world.inbox, body, honest)).status_code == 202
        assert await world.count("inbox_items") == 1


async def test_addresses_are_kept_only_for_the_throttling_window(office: LiveServer) -> None:
    assert await sign_in(office.base_url, "alice", "wrong password") == 401
    db = office.rt.db
    await db.execute("UPDATE login_failures SET at = at - ?", (throttle.WINDOW + 1,))
    assert await sign_in(office.base_url, "bob", PASSWORD) == 303  # any sign-in forgets the expired ones
    assert await db.fetchval("SELECT COUNT(*) FROM login_failures") == 0


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:8000", server={"trusted_proxies": ["proxy.example"]})
    proc = cli(config, "member", "list", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "server.trusted_proxies" in proc.stderr and "proxy.example" in proc.stderr


# == 4. media belongs to its uploader ==========================================================


def media_ids(page: str) -> list[int]:
    return [int(v) for v in re.findall(r'name="media" value="(\d+)"', page)]


async def test_the_same_bytes_uploaded_by_two_members_are_two_records(office: LiveServer) -> None:
    image = photo(secret="")
    async with WebUser(office.base_url) as alice, WebUser(office.base_url) as bob:
        await alice.login("alice", PASSWORD)
        await bob.login("bob", PASSWORD)
        draft = {"title": "Concept", "body": "Nog niet af", "alt_new_1": "Alices geheime beschrijving"}
        upload = {"image_1": ("a.jpg", image, "image/jpeg")}
        r = await alice.submit("/posts/new", "/posts/new", {**draft, "action": "draft"}, files=upload)
        assert r.status_code == 303, r.text
        (alices,) = await office.rt.db.fetchall("SELECT id, file_name FROM media")
        fields = {"title": "Van Bob", "body": "Tekst", "alt_new_1": "Bobs beschrijving", "action": "preview"}
        preview = await bob.submit("/posts/new", "/posts/new", fields, files=upload)
        assert preview.status_code == 200
        assert "Alices geheime beschrijving" not in preview.text
        (bobs_id,) = media_ids(preview.text)
        assert bobs_id != alices["id"]
        bobs = await media_store.by_id(office.rt.db, bobs_id)
        assert bobs is not None and bobs.alt == "Bobs beschrijving" and bobs.file_name == alices["file_name"]
        assert (await members.by_username(office.rt.db, "bob")).id == bobs.member_id  # type: ignore[union-attr]
        publish = {**fields, "media": str(bobs_id), f"alt_{bobs_id}": "Bobs beschrijving", "action": "publish"}
        published = await bob.submit("/posts/new", "/posts/new", publish)
        assert published.status_code == 303, published.text
        page = (await bob.get(published.headers["location"])).text
        assert 'alt="Bobs beschrijving"' in page and "Alices" not in page
        # Alice's upload is hers still (and her draft is untouched); one file on disk for both.
        alices_now = await media_store.by_id(office.rt.db, alices["id"])
        assert alices_now is not None and alices_now.alt == "Alices geheime beschrijving"
        assert [p.name for p in office.rt.config.media_path.iterdir()] == [alices["file_name"]]
        # Bob cannot take Alice's record by naming its id.
        steal = {"title": "Diefstal", "body": "x", "media": str(alices["id"]), "action": "publish"}
        taken = await bob.submit("/posts/new", "/posts/new", steal)
        assert taken.status_code == 303
        post_id = office.rt.urls.post_id(taken.headers["location"])
        assert await office.rt.db.fetchval("SELECT COUNT(*) FROM post_media WHERE post_id = ?", (post_id,)) == 0


# == 5. re-encoded images carry no metadata ====================================================


async def served(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url)
    assert r.status_code == 200, url
    return r.content


async def test_uploads_lose_every_kind_of_metadata(office: LiveServer) -> None:
    samples = tagged_images()
    assert all(reveals(data) for data in samples.values())  # each sample does carry the number
    names = list(samples)
    async with WebUser(office.base_url) as web:
        await web.login("alice", PASSWORD)
        for start in range(0, len(names), 4):
            batch = names[start : start + 4]
            files = {f"image_{i + 1}": (f"{name}.img", samples[name], "image/png") for i, name in enumerate(batch)}
            alts = {f"alt_new_{i + 1}": name for i, name in enumerate(batch)}
            r = await web.submit("/posts/new", "/posts/new", {"title": "T", "body": "b", "action": "preview", **alts},
                                 files=files)  # fmt: skip
            assert r.status_code == 200, r.text
            for media_id, name in zip(media_ids(r.text), batch, strict=True):
                record = await media_store.by_id(office.rt.db, media_id)
                assert record is not None and record.alt == name
                data = await served(office.rt.urls.media(record.file_name))
                assert not reveals(data), name
    # The avatar goes through the same re-encoding.
    async with WebUser(office.base_url) as web:
        await web.login("bob", PASSWORD)
        r = await web.submit("/settings/profile", "/settings/profile", {"name": "Bob"},
                             files={"avatar": ("a.jpg", samples["jpeg-comment"], "image/jpeg")})  # fmt: skip
        assert r.status_code == 200, r.text
        bob = await members.by_username(office.rt.db, "bob")
        assert bob is not None and bob.avatar is not None
        assert not reveals(await served(office.rt.urls.media(bob.avatar)))


async def test_imported_images_lose_every_kind_of_metadata(office: LiveServer, tmp_path: Path) -> None:
    archive = generate_archive(tmp_path / "export")
    samples = tagged_images()
    owner = next(iter(archive.members))
    (tmp_path / "export" / "members" / f"{owner}.jpg").write_bytes(samples["jpeg-comment"])
    for i in (1, 3):
        (tmp_path / "export" / "blogs" / f"foto{i}.jpg").write_bytes(samples["gif-comment" if i == 1 else "png-text"])
    cli(office.config_path, "import", "ning", str(archive.folder), timeout=120)
    # The avatar (cropped) and the two posts' pictures: three images, each served re-encoded.
    names = sorted(p.name for p in office.rt.config.media_path.iterdir() if p.is_file())
    assert len(names) == 3, names
    html_of_posts = "".join(r["content_html"] for r in await office.rt.db.fetchall("SELECT content_html FROM posts"))
    for name in names:
        assert not reveals(await served(office.rt.urls.media(name))), name
    assert sum(name in html_of_posts for name in names) == 2


# == 7. the service never fetches itself under any name =======================================


async def test_a_key_on_another_name_of_this_instance_is_never_fetched(tmp_path: Path) -> None:
    hosts_asked: list[str] = []

    def recording(app: Any) -> Any:
        async def wrapper(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                hosts_asked.append(dict(scope["headers"]).get(b"host", b"").decode())
            await app(scope, receive, send)

        return wrapper

    async with live_server(tmp_path / "a2", wrap=recording) as a2:
        await add_member(a2.rt, "alice", "Alice")
        post_url = await publish_post(a2.rt, "alice", "Post", "Tekst")
        port = parse_origin(a2.base_url).port
        other_name = f"localhost:{port}"
        # The recorder sees a request through that name (so a fetch would show).
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"http://{other_name}/.well-known/nodeinfo")).status_code == 200
        assert hosts_asked == [other_name]
        hosts_asked.clear()
        # Signed with alice's real key: had the key been fetched, the signature would verify.
        actor = f"http://{other_name}/users/alice"
        like = {"id": f"{actor}#likes/{uuid.uuid4().hex}", "type": "Like", "actor": actor, "object": post_url}
        body = dumps(like)
        inbox = f"{a2.base_url}/inbox"
        r = await post_raw(inbox, body, cavage(a2.rt.keys.load("alice"), f"{actor}#main-key", inbox, body))
        assert 400 <= r.status_code < 500, r.text
        assert other_name not in hosts_asked, hosts_asked
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items") == 0
        assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM actors") == 0


# == interop: what other servers send ==========================================================


async def test_an_object_repeating_its_activitys_context_is_accepted(world: World) -> None:
    context = [
        "https://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/credentials/v2",
        {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"},
    ]
    note = {"@context": context, **world.fake.note("carol", "<p>met herhaalde context</p>", world.post_url)}
    activity = {**world.fake.create("carol", note), "@context": context}
    r = await world.send("carol", activity)
    assert r.status_code == 202, r.text
    await world.drain()
    assert "met herhaalde context" in (await as_visitor(world.post_url)).text


async def test_attributed_to_null_is_the_signing_actor(world: World) -> None:
    note = world.fake.note("carol", "<p>zonder auteur</p>", world.post_url, attributedTo=None)
    assert (await world.send("carol", world.fake.create("carol", note))).status_code == 202
    await world.drain()
    author = await world.a2.rt.db.fetchval("SELECT author_uri FROM comments WHERE ap_id = ?", (note["id"],))
    assert author == world.fake.uri("carol")
    assert "zonder auteur" in html.unescape((await as_visitor(world.post_url)).text)
    # The origin checks still hold: an object of another host with attributedTo null is refused.
    forged = world.fake.note("dave", "<p>vervalst</p>", world.post_url, attributedTo=None)
    forged["id"] = f"https://elsewhere.example/statuses/{uuid.uuid4().int % 10**9}"
    create = {**world.fake.create("dave", forged), "id": f"{world.fake.uri('dave')}#creates/{uuid.uuid4().hex}"}
    r = await world.send("dave", create)
    assert r.status_code == 403, r.text
    assert await world.count("comments", "author_uri = ?", (world.fake.uri("dave"),)) == 0
    assert await world.count("inbox_items") == 1
