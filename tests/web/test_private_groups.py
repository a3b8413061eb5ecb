"""Members-only groups, through the CLI and real HTTP: invisible to visitors and other members on every
listing and route, never federated, joined by asking its moderators."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_mastodon import FakeMastodon
from helpers import LiveServer, cli, live_server, wait_for
from html_check import check_html
from webclient import WebUser, member_with_password
from worlds import PASSWORD, mastodon_world

AP = "application/activity+json"
SECRET = "zwavelzuurplan"  # a word only the members-only post and its comment carry


@dataclass
class Scene:
    server: LiveServer
    post: str  # the members-only post's URL
    comment: str  # alice's comment under it
    public: str  # alice's public post, published after the private one
    fake: FakeMastodon
    event: str  # alice's event in the group


async def _publish(web: WebUser, fields: dict[str, str]) -> str:
    r = await web.submit("/posts/new", "/posts/new", {"action": "publish", **fields})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    """alice is in the members-only group `kring` (and moderates it), bob and carol are members of the
    network who are not; a remote follower of alice is on a Mastodon-shaped fake."""
    people = (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol", "moderator"))
    async with mastodon_world(tmp_path, members=people, remote=[("fan", "Fan")], followed_by="fan") as (server, fake):
        out = cli(server.config_path, "group", "add", "kring", "--name", "De Kring", "--visibility", "members").stdout
        assert "members-only" in out and out.strip().splitlines()[-1] == f"{server.base_url}/groups/kring"
        cli(server.config_path, "group", "moderator", "kring", "alice")
        assert "kring\tDe Kring\tfollowers\tmembers\t" in cli(server.config_path, "group", "list").stdout
        async with WebUser(server.base_url) as web:
            await web.login("alice", PASSWORD)
            post = await _publish(web, {"title": "Geheim plan", "body": f"Het {SECRET} van de kring.",
                                        "tags": "geheimpje", "group": "kring"})  # fmt: skip
            path = post.removeprefix(server.base_url)
            r = await web.submit(path, f"{path}/comments", {"body": f"Reactie over {SECRET}"})
            assert r.status_code == 303
            comment = f"{server.base_url}/comments/{r.headers['location'].rsplit('#comment-', 1)[1]}"
            r = await web.submit("/events/new", "/events/new", {
                "title": "Kringborrel", "start": "2031-06-14T17:00", "end": "2031-06-14T19:00",
                "location": "Het Geheime Café", "body": "Voor de kring", "group": "kring",
            })  # fmt: skip
            assert r.status_code == 303, r.text[:300]
            event = r.headers["location"]
            public = await _publish(web, {"title": "Open plan", "body": "Voor iedereen", "tags": "geheimpje"})
        # Deliveries go out in order: once the later public post reached the follower, the
        # members-only one would have too.
        await wait_for(lambda: _received(fake, "Create", public), what="the public post at the follower")
        yield Scene(server, post, comment, public, fake, event)


async def _received(fake: FakeMastodon, kind: str, object_id: str | None = None) -> bool:
    for activity in fake.received:
        obj = activity.get("object")
        oid = obj.get("id") if isinstance(obj, dict) else obj
        if activity["type"] == kind and (object_id is None or oid == object_id):
            return True
    return False


def _listings(scene: Scene) -> list[str]:
    month = datetime.fromtimestamp(time.time(), UTC)
    return [
        "/", "/feed.atom", "/users/alice", "/users/alice/feed.atom", "/tags/geheimpje", "/tags/geheimpje/feed.atom",
        f"/search?q={SECRET}", "/search?q=Geheim", "/archive", f"/archive/{month.year}/{month.month}",
        "/groups/netwerk", "/events", "/events.ics", "/search?q=Kringborrel", "/groups", "/members",
    ]  # fmt: skip


async def _nothing_of_it(client: httpx.AsyncClient, scene: Scene) -> None:
    """No listing or route shows the members-only post, its comment or the group to this client."""
    post_path = scene.post.removeprefix(scene.server.base_url)
    event_path = scene.event.removeprefix(scene.server.base_url)
    for path in _listings(scene):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert "Geheim plan" not in r.text and "van de kring" not in r.text and post_path not in r.text, path
        assert "Reactie over" not in r.text and "Het Geheime Café" not in r.text and event_path not in r.text, path
        assert "De Kring" not in r.text, path
    assert "Open plan" in (await client.get("/tags/geheimpje")).text  # the listing itself works
    ap = {"Accept": AP}
    assert (await client.get(f"{event_path}.ics")).status_code == 404
    for path in (post_path, f"{post_path}/replies", f"{post_path}/replies?page=1", scene.comment, event_path,
                 "/users/kring/outbox", "/users/kring/outbox?page=1", "/users/kring/followers"):  # fmt: skip
        r = await client.get(path, headers=ap)
        assert r.status_code == 404, path
    outbox = (await client.get("/users/alice/outbox?page=1", headers=ap)).text
    assert scene.public in outbox and post_path not in outbox and SECRET not in outbox
    # The group's actor: only what verifies its Reject of a Follow (no name, no summary, no page).
    actor = (await client.get("/users/kring", headers=ap)).json()
    assert set(actor) == {"@context", "id", "type", "preferredUsername", "inbox", "manuallyApprovesFollowers",
                          "discoverable", "indexable", "publicKey"}  # fmt: skip
    assert actor["discoverable"] is False and "Kring" not in str(actor)
    finger = await client.get(f"/.well-known/webfinger?resource=acct:kring@{scene.server.rt.urls.host}")
    assert finger.status_code == 404
    assert (await client.get("/users/kring/feed.atom")).status_code == 404
    # The client API: alice's statuses are her public post, not the members-only one nor her comment under it.
    alice = (await client.get("/api/v1/accounts/lookup?acct=alice")).json()
    statuses = (await client.get(f"/api/v1/accounts/{alice['id']}/statuses")).text
    assert "Open plan" in statuses and "van de kring" not in statuses and "Reactie over" not in statuses


async def test_a_visitor_sees_nothing_of_a_members_only_group(scene: Scene) -> None:
    async with scene.server.client() as visitor:
        await _nothing_of_it(visitor, scene)
        post_path = scene.post.removeprefix(scene.server.base_url)
        for path in (post_path, "/groups/kring", scene.event.removeprefix(scene.server.base_url)):
            r = await visitor.get(path)  # asked to sign in, and back here after
            assert r.status_code == 303 and r.headers["location"].endswith(f"/login?next={path}"), path
        r = await visitor.get(scene.comment)
        assert r.status_code == 303  # a comment's address leads to its post, which asks to sign in
        assert r.headers["location"].startswith(scene.post)
        assert (await visitor.get(r.headers["location"])).status_code == 303


async def test_other_members_see_nothing_of_it_until_the_moderators_let_them_in(scene: Scene) -> None:
    base = scene.server.base_url
    post_path = scene.post.removeprefix(base)
    async with WebUser(base) as bob, WebUser(base) as alice:
        await bob.login("bob", PASSWORD)
        await _nothing_of_it(bob.client, scene)
        assert (await bob.get(post_path)).status_code == 404
        event_path = scene.event.removeprefix(base)
        assert (await bob.get(event_path)).status_code == 404
        r = await bob.submit("/events/new", f"{event_path}/rsvp", {"status": "going"})
        assert r.status_code == 404
        assert (await bob.get(f"/reply?to={scene.comment}")).status_code == 404
        editor = (await bob.get("/posts/new")).text
        assert 'value="kring"' not in editor
        # Writing into it, or under its post, is refused too.
        r = await bob.submit(
            "/posts/new", "/posts/new", {"action": "publish", "title": "x", "body": "y", "group": "kring"}
        )
        assert r.status_code == 400 and "Geheim plan" not in r.text
        r = await bob.submit("/posts/new", f"{post_path}/comments", {"body": "ik ook"})
        assert r.status_code == 404
        # The group's page: its name and a way to ask to join, nothing of its content.
        page = await bob.get("/groups/kring")
        assert page.status_code == 200 and "De Kring" in page.text and "Geheim plan" not in page.text
        check_html(page.text)
        assert 'action="/groups/kring/join"' in page.text
        r = await bob.submit("/groups/kring", "/groups/kring/join", {"message": "Mag ik erbij?"})
        assert r.status_code == 303
        page = await bob.get("/groups/kring")
        assert "Geheim plan" not in page.text and 'action="/groups/kring/join"' not in page.text  # waiting
        # carol moderates the instance, not the group: she cannot see or decide its requests, nor
        # open its comments in the moderation pages.
        async with WebUser(base) as carol:
            await carol.login("carol", PASSWORD)
            assert (await carol.get("/groups/kring/requests")).status_code == 403
            comment_id = scene.comment.rsplit("/", 1)[1]
            assert (await carol.get(f"/moderation/comments/{comment_id}")).status_code == 404
            assert "Reactie over" not in (await carol.get("/moderation")).text
        await alice.login("alice", PASSWORD)
        requests = await alice.get("/groups/kring/requests")
        assert requests.status_code == 200 and "Bob" in requests.text and "Mag ik erbij?" in requests.text
        check_html(requests.text)
        request_id = requests.text.split('name="request" value="', 1)[1].split('"', 1)[0]
        r = await alice.submit(
            "/groups/kring/requests", "/groups/kring/requests", {"request": request_id, "decision": "approve"}
        )
        assert r.status_code == 303
        # bob is in: the post, its comment and the group's page are his to see, and to answer.
        post_page = await bob.get(post_path)
        assert post_page.status_code == 200 and SECRET in post_page.text and "Reactie over" in post_page.text
        group_page = (await bob.get("/groups/kring")).text
        assert "Geheim plan" in group_page and "Bob" in group_page
        check_html(group_page)
        r = await bob.submit(post_path, f"{post_path}/comments", {"body": "Dank je"})
        assert r.status_code == 303
        assert "Het Geheime Café" in (await bob.get(event_path)).text
        r = await bob.submit(event_path, f"{event_path}/rsvp", {"status": "going"})
        assert r.status_code == 303
        assert 'value="kring"' in (await bob.get("/posts/new")).text
        # Still nothing of it in any listing, for him either, but the list of groups: there it is his
        # to find (with its latest post), marked members-only and without a handle to follow it by.
        for path in _listings(scene):
            text = (await bob.get(path)).text
            if path == "/groups":
                assert "De Kring" in text and "Kringborrel" in text and "Alleen voor leden van de groep" in text
                assert "@kring@" not in text
                check_html(text)
            else:
                assert "Geheim plan" not in text, path


async def test_nothing_of_it_is_federated_and_its_actor_refuses_follows(scene: Scene) -> None:
    server, fake = scene.server, scene.fake
    assert not any(scene.post in str(a) or SECRET in str(a) or "Kringborrel" in str(a) for a in fake.received)
    bodies = [str(r[0]) for r in await server.rt.db.fetchall("SELECT body FROM activities")]
    assert not any(SECRET in b or scene.post in b or scene.event in b for b in bodies)  # not even in an outbox
    kring = f"{server.base_url}/users/kring"
    follow = {"id": fake.new_id("follows"), "type": "Follow", "actor": fake.uri("fan"), "object": kring}
    assert (await fake.send("fan", f"{kring}/inbox", follow)).status_code == 202

    async def rejected() -> dict[str, Any] | None:
        return next((a for a in fake.received if a["type"] == "Reject" and a["actor"] == kring), None)

    answer = await wait_for(rejected, what="the group's Reject{Follow}")
    assert answer["object"]["id"] == follow["id"]
    followers = await server.rt.db.fetchval(
        "SELECT COUNT(*) FROM followers f JOIN members m ON m.id = f.member_id WHERE m.username = 'kring'"
    )
    assert followers == 0
    assert not await _received(fake, "Accept", follow["id"])
    # A remote reply naming the members-only post (or its comment) lands nowhere; one to the public
    # post, sent after them to the same inbox, is stored: by then the others were processed.
    inbox = f"{server.base_url}/users/alice/inbox"
    for target in (scene.post, scene.comment):
        note = fake.note("fan", "Ik weet er toch van", target)
        assert (await fake.send("fan", inbox, fake.create("fan", note))).status_code == 202
    note = fake.note("fan", "Een open antwoord", scene.public)
    assert (await fake.send("fan", inbox, fake.create("fan", note))).status_code == 202

    async def stored() -> bool:
        return bool(await server.rt.db.fetchval("SELECT COUNT(*) FROM comments WHERE ap_id = ?", (note["id"],)))

    await wait_for(stored, what="the reply to the public post")
    found = await server.rt.db.fetchval("SELECT COUNT(*) FROM comments WHERE content_html LIKE '%toch van%'")
    assert found == 0


async def test_group_member_and_bad_calls_on_the_cli(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "dora", "Dora", PASSWORD)
        config = server.config_path
        cli(config, "group", "add", "club", "--name", "Club", "--visibility", "members")
        assert "dora is now a member of group club" in cli(config, "group", "member", "club", "dora").stdout
        assert "dora was already a member" in cli(config, "group", "member", "club", "dora").stdout
        for args, message in (
            (["group", "member", "club", "nobody"], "no member named 'nobody'"),
            (["group", "member", "nogroup", "dora"], "no group named 'nogroup'"),
            (["group", "add", "x", "--name", "X", "--visibility", "secret"], "invalid choice"),
        ):
            proc = cli(config, *args, check=False)
            assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1
        async with WebUser(server.base_url) as dora:
            await dora.login("dora", PASSWORD)
            page = await dora.get("/groups/club")
            assert page.status_code == 200 and 'action="/groups/club/join"' not in page.text
            assert (await dora.get("/groups/club/requests")).status_code == 403  # a member, not a moderator
