"""Statuses over HTTP with a member's real token: a short post with an image (and what federates of
it), the Idempotency-Key, the thread of a blog post with its comments, replies from the app,
edits with their history, deletion, and what a read-only token may not do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api_client import Api, follows_member, token_for
from fake_mastodon import FakeMastodon, received_about
from fediverse_a2.services.events import add_event
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.store import members, posts
from helpers import LiveServer, wait_for
from media_samples import photo
from webclient import WebUser
from worlds import PASSWORD, mastodon_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Api]]:
    async with mastodon_world(tmp_path, remote=(("carol", "Carol"),)) as (a2, fake):
        api = Api(a2, await token_for(a2.base_url, "alice", PASSWORD))
        try:
            yield a2, fake, api
        finally:
            await api.client.aclose()


async def test_a_short_post_with_an_image_federates_once(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, fake, api = world
    await follows_member(a2, fake, "carol", "alice")
    upload = await api.post("/api/v2/media", files={"file": ("gracht.jpg", photo(), "image/jpeg")},
                            data={"description": "Een gracht in de zon"})  # fmt: skip
    assert upload.status_code == 200, upload.text
    image = upload.json()
    assert image["type"] == "image" and image["description"] == "Een gracht in de zon"
    assert image["url"].startswith(f"{a2.base_url}/media/")
    # until a status carries it, its description can be changed
    changed = await api.client.put(f"/api/v1/media/{image['id']}", data={"description": "Een gracht, zon"})
    assert changed.status_code == 200 and changed.json()["description"] == "Een gracht, zon"

    body = {"status": "Mooie dag aan de #gracht", "media_ids": [image["id"]], "language": "nl"}
    first = await api.post("/api/v1/statuses", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200, first.text
    again = await api.post("/api/v1/statuses", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    status = first.json()
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    assert await posts.count_live(a2.rt.db, member.id) == 1  # one post for the two requests
    # no title line (a short post); the #tag typed is linked in the text, and not repeated after it
    tag_link = f'<a href="{a2.rt.urls.tag("gracht")}" class="mention hashtag"'
    assert status["content"].startswith(f"<p>Mooie dag aan de {tag_link}")
    assert status["content"].count(tag_link) == 1
    assert status["tags"] == [{"name": "gracht", "url": a2.rt.urls.tag("gracht")}]
    assert status["media_attachments"][0]["description"] == "Een gracht, zon"
    assert status["visibility"] == "public" and status["language"] == "nl" and status["account"]["acct"] == "alice"
    # the post's own page, and no media edit once it is carried
    assert status["url"] == status["uri"] and (await api.client.get(f"/api/v1/media/{image['id']}")).status_code == 404
    # another key is another status
    other = await api.post("/api/v1/statuses", json={"status": "Nog een"}, headers={"Idempotency-Key": "k-2"})
    assert other.json()["id"] != status["id"]

    note = (await received_about(fake, "Create", status["uri"]))["object"]
    assert note["content"] == status["content"] and "<strong>" not in note["content"]
    assert note["attachment"][0]["name"] == "Een gracht, zon" and note["attachment"][0]["url"] == image["url"]
    assert note["tag"] == [{"type": "Hashtag", "href": a2.rt.urls.tag("gracht"), "name": "#gracht"}]

    # in the timelines, and on the web as a post without a title
    home = (await api.get("/api/v1/timelines/home")).json()
    assert [s["id"] for s in home][:2] == [other.json()["id"], status["id"]]
    async with a2.client() as anonymous:
        public = (await anonymous.get("/api/v1/timelines/public", params={"local": "true"})).json()
        assert status["id"] in [s["id"] for s in public]
        tagged = (await anonymous.get("/api/v1/timelines/tag/gracht")).json()
        assert [s["id"] for s in tagged] == [status["id"]]
        assert (await anonymous.get(f"/api/v1/statuses/{status['id']}")).json()["content"] == status["content"]
    async with WebUser(a2.base_url) as web:
        page = await web.get(status["url"].removeprefix(a2.base_url))
    assert page.status_code == 200 and "Mooie dag aan de #gracht" in page.text


async def test_a_blog_post_and_its_thread(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, fake, api = world
    await follows_member(a2, fake, "carol", "alice")
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    post = await save_post(a2.rt, member, Draft("Samen werken", "Over *samenwerken*."), publish=True)
    url = a2.rt.urls.post(post.id)
    remark = fake.note("carol", "<p>Mee eens!</p>", url)
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", remark))).status_code == 202

    async def thread() -> list[dict[str, Any]] | None:
        statuses = (await api.get(f"/api/v1/accounts/{member.id}/statuses")).json()
        return statuses if statuses else None

    blog = (await wait_for(thread, what="the post"))[0]
    assert blog["content"].startswith("<p><strong>Samen werken</strong></p>") and blog["url"] == url

    async def carols_comment() -> dict[str, Any] | None:
        found = (await api.get(f"/api/v1/statuses/{blog['id']}/context")).json()["descendants"]
        return found[0] if found else None

    comment = await wait_for(carols_comment, what="carol's comment in the thread")
    assert comment["in_reply_to_id"] == blog["id"] and comment["account"]["acct"].startswith("carol@")

    answer = await api.post("/api/v1/statuses", data={"status": "Dank je, Carol", "in_reply_to_id": comment["id"]})
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["in_reply_to_id"] == comment["id"] and reply["visibility"] == "public"
    context = (await api.get(f"/api/v1/statuses/{blog['id']}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [comment["id"], reply["id"]]
    around = (await api.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in around["ancestors"]] == [blog["id"], comment["id"]] and around["descendants"] == []

    sent = (await received_about(fake, "Create", reply["uri"]))["object"]
    assert sent["inReplyTo"] == remark["id"]
    assert {"type": "Mention", "href": fake.uri("carol"), "name": f"@carol@{fake.base.removeprefix('http://')}"} in (
        sent["tag"]
    )
    # the web shows the same thread
    async with WebUser(a2.base_url) as web:
        page = await web.get(url.removeprefix(a2.base_url))
    assert "Mee eens!" in page.text and "Dank je, Carol" in page.text

    # edits: Update federates, the history keeps what it said, the source is what was typed
    edited = await api.client.put(f"/api/v1/statuses/{reply['id']}", data={"status": "Dank je wel, Carol"})
    assert edited.status_code == 200 and edited.json()["content"].strip() == "<p>Dank je wel, Carol</p>"
    assert edited.json()["edited_at"] is not None
    history = (await api.get(f"/api/v1/statuses/{reply['id']}/history")).json()
    assert [h["content"].strip() for h in history] == ["<p>Dank je, Carol</p>", "<p>Dank je wel, Carol</p>"]
    source = (await api.get(f"/api/v1/statuses/{reply['id']}/source")).json()
    assert source == {"id": reply["id"], "text": "Dank je wel, Carol", "spoiler_text": ""}
    update = await received_about(fake, "Update", reply["uri"])
    assert update["object"]["content"].strip() == "<p>Dank je wel, Carol</p>"

    edited_post = await api.client.put(f"/api/v1/statuses/{blog['id']}", data={"status": "Over *samen* werken."})
    assert edited_post.json()["content"].startswith("<p><strong>Samen werken</strong></p><p>Over <em>samen</em>")
    assert len((await api.get(f"/api/v1/statuses/{blog['id']}/history")).json()) == 2

    # deleting answers the status with its text (delete and redraft), and sends Delete
    gone = await api.client.delete(f"/api/v1/statuses/{reply['id']}")
    assert gone.status_code == 200 and gone.json()["text"] == "Dank je wel, Carol"
    assert (await api.get(f"/api/v1/statuses/{reply['id']}")).status_code == 404
    await received_about(fake, "Delete", reply["uri"])


async def test_a_read_only_token_cannot_write(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, _, api = world
    reader = await token_for(a2.base_url, "alice", PASSWORD, scopes="read")
    async with a2.client(headers={"Authorization": f"Bearer {reader}"}) as client:
        refused = await client.post("/api/v1/statuses", data={"status": "Mag dit?"})
        assert refused.status_code == 403
        assert refused.json() == {"error": "This action is outside the authorized scopes"}
        assert (await client.post("/api/v2/media", files={"file": ("a.jpg", photo(), "image/jpeg")})).status_code == 403
        assert (await client.get("/api/v1/timelines/home")).status_code == 200
    async with a2.client() as anonymous:
        assert (await anonymous.post("/api/v1/statuses", data={"status": "Anoniem"})).status_code == 401
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None and await posts.count_live(a2.rt.db, member.id) == 0
    # bad input changes nothing either
    assert (await api.post("/api/v1/statuses", data={"status": ""})).status_code == 422
    assert (await api.post("/api/v1/statuses", data={"status": "x", "visibility": "secret"})).status_code == 422
    assert (await api.post("/api/v1/statuses", data={"status": "x", "in_reply_to_id": "123"})).status_code == 404
    assert (await api.post("/api/v1/statuses", data={"status": "x", "media_ids[]": "99"})).status_code == 422
    not_an_image = await api.post("/api/v2/media", files={"file": ("a.jpg", b"<svg/>", "image/jpeg")})
    assert not_an_image.status_code == 422 and "error" in not_an_image.json()
    assert await posts.count_live(a2.rt.db, member.id) == 0


async def test_an_event_and_its_comments(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, _, api = world
    url = await add_event(a2.rt, "alice", "Netwerkborrel", "2030-05-01 17:00", "2030-05-01 19:00", location="Utrecht")
    answer = await api.post("/api/v1/statuses", data={"status": "Ik kom ook", "in_reply_to_id": "0"})
    assert answer.status_code == 404
    found = (await api.get("/api/v2/search", q=url)).json()["statuses"]
    assert [s["url"] for s in found] == [url] and found[0]["content"].startswith("<p><strong>Netwerkborrel</strong>")
    event = found[0]
    reply = await api.post("/api/v1/statuses", data={"status": "Ik kom ook", "in_reply_to_id": event["id"]})
    assert reply.status_code == 200, reply.text
    assert [s["id"] for s in (await api.get(f"/api/v1/statuses/{event['id']}/context")).json()["descendants"]] == [
        reply.json()["id"]
    ]
    assert (await api.post(f"/api/v1/statuses/{event['id']}/favourite")).json()["favourites_count"] == 1
    # an event is changed and cancelled on its own page
    assert (await api.client.put(f"/api/v1/statuses/{event['id']}", data={"status": "x"})).status_code == 422
    assert (await api.client.delete(f"/api/v1/statuses/{event['id']}")).status_code == 422
