"""The timeline through real HTTP: a member follows a Mastodon-shaped account, sees its posts (with
content warnings and images), and replies, likes and boosts from there, and takes that back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_mastodon import PUBLIC, FakeMastodon, received, running
from fediverse_a2.activitypub.note_images import images_of
from fediverse_a2.activitypub.reactions import announce, like, undo_reaction
from fediverse_a2.services.social import follow
from fediverse_a2.store import relays, remote_posts
from helpers import LiveServer, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    a2: LiveServer
    fake: FakeMastodon  # carol, whom alice follows
    other: FakeMastodon  # dave, who follows alice
    notes: dict[str, dict[str, Any]]

    @property
    def alice(self) -> str:
        return f"{self.a2.base_url}/users/alice"


async def _stored(a2: LiveServer, count: int) -> bool:
    return int(await a2.rt.db.fetchval("SELECT COUNT(*) FROM remote_posts")) >= count


async def _activities(a2: LiveServer) -> int:
    return int(await a2.rt.db.fetchval("SELECT COUNT(*) FROM activities"))


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[World]:
    async with live_server(tmp_path / "a2", run_workers=True, database=database_url) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        fake, other = FakeMastodon(), FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        other.add_user("dave", "Dave Elders")
        async with running(fake), running(other):
            # dave follows alice: her boosts reach him.
            dave_follow = {"id": f"{other.base}/follows/1", "type": "Follow", "actor": other.uri("dave"),
                           "object": f"{a2.base_url}/users/alice"}  # fmt: skip
            assert (await other.send("dave", f"{a2.base_url}/users/alice/inbox", dave_follow)).status_code == 202
            await received(other, "Accept")
            # alice follows carol, and carol's server accepts.
            await follow(a2.rt, a2.workers.directory, "alice", fake.uri("carol"))
            (sent,) = await received(fake, "Follow")
            accept = {"id": f"{fake.base}/accepts/1", "type": "Accept", "actor": fake.uri("carol"), "object": sent}
            assert (await fake.send("carol", f"{a2.base_url}/users/alice/inbox", accept)).status_code == 202

            async def accepted() -> bool:
                state = await a2.rt.db.fetchval("SELECT state FROM following WHERE follow_id = ?", (sent["id"],))
                return bool(state == "accepted")

            await wait_for(accepted, what="the follow accepted")
            image = {"type": "Document", "mediaType": "image/png", "url": f"{fake.base}/media/tulpen.png",
                     "name": "Een veld met rode tulpen", "width": 640, "height": 480}  # fmt: skip
            hostile = {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)", "name": "x"}
            notes = {
                "plain": fake.note("carol", "<p>Goedemorgen allemaal</p>", None, published="2026-11-28T09:00:00Z"),
                "cw": fake.note("carol", "<p>Het verhaal achter de waarschuwing</p>", None,
                                summary="Politiek", sensitive=True, published="2026-11-28T10:00:00Z"),
                "image": fake.note("carol", "<p>Kijk eens</p>", None, attachment=[image, hostile],
                                   published="2026-11-28T11:00:00Z"),
                "followers": fake.note("carol", "<p>Alleen voor volgers</p>", None, cc=[],
                                       to=[f"{fake.uri('carol')}/followers"], published="2026-11-28T08:00:00Z"),
            }  # fmt: skip
            for note in notes.values():
                response = await fake.send("carol", f"{a2.base_url}/users/alice/inbox", fake.create("carol", note))
                assert response.status_code == 202
            await wait_for(lambda: _stored(a2, 4), what="carol's posts stored")
            yield World(a2, fake, other, notes)


async def test_timeline_shows_followed_posts_with_warning_and_image(world: World) -> None:
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        home = await web.get("/")
        assert 'href="/timeline"' in home.text and "Tijdlijn" in home.text
        page = (await web.get("/timeline")).text
    plain, cw, image = (page.index(world.notes[k]["content"]) for k in ("plain", "cw", "image"))
    assert image < cw < plain  # newest first
    assert "Carol Mastodon" in page and "@carol@" in page and f'href="{world.fake.base}/@carol"' in page
    assert '<time datetime="2026-11-28T10:00:00Z">' in page
    assert '<details class="cw">' in page and "<summary>Let op: Politiek</summary>" in page
    details = page[page.index('<details class="cw">') :]
    details = details[: details.index("</details>")]
    assert "Het verhaal achter de waarschuwing" in details  # the content sits behind the warning
    # The image comes through the media proxy: the reader's browser never asks the remote host.
    assert 'alt="Een veld met rode tulpen"' in page and f'src="{world.fake.base}/media/tulpen.png"' not in page
    assert f'src="{world.a2.base_url}/media/proxy/image/' in page
    assert 'width="640" height="480" loading="lazy"' in page
    assert "javascript:" not in page
    assert page.count("/timeline/reply?to=") == 4
    # A followers-only post can be liked and answered, never boosted (that would publish it).
    private = page[page.index(world.notes["followers"]["content"]) :]
    private = private[: private.index("</article>")]
    assert 'value="Like"' in private and 'value="Announce"' not in private
    assert page.count('value="Announce"') == 3


async def test_like_and_undo_reach_the_author(world: World) -> None:
    note_id = world.notes["plain"]["id"]
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.submit("/timeline", "/timeline/react", {"kind": "Like", "object": note_id, "page": "1"})
        assert r.status_code == 303 and "/timeline#post-" in r.headers["location"]
        (liked,) = await received(world.fake, "Like")
        assert liked["object"] == note_id and liked["actor"] == world.alice
        page = (await web.get("/timeline")).text
        assert "Leuk ongedaan maken" in page and 'aria-pressed="true"' in page
        # A second Like of the same post sends nothing new.
        again = await web.submit("/timeline", "/timeline/react", {"kind": "Like", "object": note_id})
        assert again.status_code == 303
        r = await web.submit("/timeline", "/timeline/react", {"kind": "Like", "object": note_id, "undo": "1"})
        assert r.status_code == 303
        (undo,) = await received(world.fake, "Undo")
        assert undo["object"]["type"] == "Like" and undo["object"]["id"] == liked["id"]
        assert undo["object"]["object"] == note_id and undo["actor"] == world.alice
        assert "Leuk ongedaan maken" not in (await web.get("/timeline")).text
    assert len(world.fake.received_of("Like")) == 1


async def test_boost_is_public_reaches_author_and_followers_and_undo(world: World) -> None:
    note_id = world.notes["image"]["id"]
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.submit("/timeline?lang=en", "/timeline/react", {"kind": "Announce", "object": note_id})
        assert r.status_code == 303
        (boost,) = await received(world.fake, "Announce")
        assert boost["object"] == note_id and boost["to"] == [PUBLIC]
        assert boost["cc"] == [world.fake.uri("carol"), f"{world.alice}/followers"]
        (at_follower,) = await received(world.other, "Announce")
        assert at_follower["id"] == boost["id"]
        assert "Undo boost" in (await web.get("/timeline")).text
        r = await web.submit("/timeline", "/timeline/react", {"kind": "Announce", "object": note_id, "undo": "1"})
        assert r.status_code == 303
        for server in (world.fake, world.other):
            (undo,) = await received(server, "Undo")
            assert undo["object"]["type"] == "Announce" and undo["object"]["id"] == boost["id"]
            assert undo["to"] == [PUBLIC]


async def test_reply_from_the_timeline_reaches_the_author(world: World) -> None:
    note_id = world.notes["cw"]["id"]
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        form = await web.get("/timeline/reply", params={"to": note_id})
        assert form.status_code == 200 and "Het verhaal achter de waarschuwing" in form.text
        r = await web.submit(
            f"/timeline/reply?to={note_id}", "/timeline/reply", {"to": note_id, "body": "Goed gezegd, Carol!"}
        )
        assert r.status_code == 303 and "/timeline#post-" in r.headers["location"]
        assert (await web.get("/timeline/reply", params={"to": "https://elsewhere.example/x"})).status_code == 404
    (create,) = await received(world.fake, "Create")
    reply = create["object"]
    assert reply["inReplyTo"] == note_id and "Goed gezegd, Carol!" in reply["content"]
    assert reply["attributedTo"] == world.alice and world.fake.uri("carol") in reply["cc"]


async def test_forms_without_token_are_refused_and_send_nothing(world: World) -> None:
    note_id = world.notes["plain"]["id"]
    before = await _activities(world.a2)
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        for action, data in (
            ("/timeline/react", {"kind": "Like", "object": note_id}),
            ("/timeline/react", {"kind": "Announce", "object": note_id}),
            ("/timeline/reply", {"to": note_id, "body": "zonder token"}),
        ):
            r = await web.submit("/timeline", action, data, token=False)
            assert r.status_code == 403, action
        # A reaction to something that is not on the timeline is refused too.
        r = await web.submit("/timeline", "/timeline/react", {"kind": "Like", "object": "https://elsewhere.example/1"})
        assert r.status_code == 400
        followers_only = world.notes["followers"]["id"]
        r = await web.submit("/timeline", "/timeline/react", {"kind": "Announce", "object": followers_only})
        assert r.status_code == 400 and "Alleen openbare berichten" in r.text
    assert await _activities(world.a2) == before
    assert await world.a2.rt.db.fetchval("SELECT COUNT(*) FROM member_reactions") == 0
    assert not world.fake.received_of("Like") and not world.fake.received_of("Announce")


async def test_timeline_is_paged(world: World) -> None:
    carol = world.fake.uri("carol")
    async with world.a2.rt.db.transaction() as tx:
        for n in range(20):
            await remote_posts.add(
                tx, ap_id=f"{world.fake.base}/statuses/old{n}", actor_uri=carol, content_html=f"<p>Oud bericht {n}</p>",
                summary=None, url=None, in_reply_to=None, published=1_000_000.0 + n, public=True,
            )  # fmt: skip
    async with WebUser(world.a2.base_url) as web:
        await web.login("alice", PASSWORD)
        first = (await web.get("/timeline")).text
        second = (await web.get("/timeline", params={"page": "2"})).text
    assert first.count("<article") == 20 and f'rel="next" href="{world.a2.base_url}/timeline?page=2"' in first
    assert "Kijk eens" in first and "Oud bericht 19" in first and "Oud bericht 3" not in first
    assert second.count("<article") == 4 and "Oud bericht 0" in second and 'rel="prev"' in second
    assert 'rel="next"' not in second


async def test_visitor_is_sent_to_login(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.a2.base_url, headers={"Accept": "text/html"}) as visitor:
        r = await visitor.get("/timeline")
        assert r.status_code == 303 and r.headers["location"].endswith("/login?next=/timeline")
        assert (await visitor.post("/timeline/react", data={"kind": "Like", "object": "x"})).status_code == 303


# -- the pure parts ---------------------------------------------------------------------------


def test_images_of_keeps_http_images_only_and_at_most_four() -> None:
    items: list[Any] = [
        {
            "type": "Document",
            "mediaType": "image/jpeg",
            "url": f"https://m.example/{n}.jpg",
            "name": f"foto {n}",
            "width": 10,
            "height": True,
        }
        for n in range(6)
    ]
    items[0:0] = [
        {"type": "Document", "mediaType": "video/mp4", "url": "https://m.example/v.mp4"},
        {"type": "Image", "url": "data:image/png;base64,AAAA"},
        {"type": "Image", "url": "ftp://m.example/a.png"},
        "https://m.example/bare.png",
        {"type": "Image", "url": [{"type": "Link", "href": "https://m.example/link.png", "mediaType": "image/png"}]},
    ]
    images = images_of({"attachment": items})
    assert [i["url"] for i in images] == [
        "https://m.example/link.png", "https://m.example/0.jpg", "https://m.example/1.jpg", "https://m.example/2.jpg",
    ]  # fmt: skip
    assert images[1] == {"url": "https://m.example/0.jpg", "mediaType": "image/jpeg", "name": "foto 0",
                         "width": 10, "height": None}  # fmt: skip
    assert images_of({"attachment": {"type": "Image", "url": "https://m.example/one.png"}})[0]["name"] is None
    assert images_of({}) == []


def test_reaction_documents() -> None:
    me, note, author = "https://a2.example/users/alice", "https://m.example/statuses/1", "https://m.example/users/c"
    liked = like(f"{me}#likes/1", me, note, author)
    assert (liked["type"], liked["object"], liked["to"]) == ("Like", note, [author])
    boost = announce(f"{me}#announces/1", me, note, 0.0, author, f"{me}/followers")
    assert boost["to"] == [PUBLIC] and boost["cc"] == [author, f"{me}/followers"]
    assert boost["published"].startswith("1970-01-01T00:00:00")
    undo = undo_reaction(f"{me}#undo/1", me, boost)
    assert undo["type"] == "Undo" and undo["object"]["id"] == boost["id"] and "@context" not in undo["object"]
    assert undo["to"] == boost["to"] and undo["cc"] == boost["cc"]


async def test_network_timeline_shows_what_relays_brought(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        relayed = "http://127.0.0.1:9/statuses/1"
        await remote_posts.add(
            a2.rt.db, ap_id=relayed, actor_uri="http://127.0.0.1:9/users/erik", content_html="<p>Via de relay</p>",
            summary=None, url=None, in_reply_to=None, published=1_700_000_000.0, public=True,
        )  # fmt: skip
        await remote_posts.add(
            a2.rt.db, ap_id="http://127.0.0.1:9/statuses/2", actor_uri="http://127.0.0.1:9/users/erik",
            content_html="<p>Niet via een relay</p>", summary=None, url=None, in_reply_to=None,
            published=1_700_000_100.0, public=True,
        )  # fmt: skip
        await relays.mark_post(a2.rt.db, relayed, "http://127.0.0.1:9/actor")
        async with WebUser(a2.base_url) as visitor:
            r = await visitor.get("/network")
            assert r.status_code == 303 and "/login" in r.headers["location"]
        async with WebUser(a2.base_url) as web:
            await web.login("alice", PASSWORD)
            page = (await web.get("/network")).text
        assert "Via de relay" in page and "Niet via een relay" not in page
        assert "/timeline/react" not in page  # read only: not a followed account's post
