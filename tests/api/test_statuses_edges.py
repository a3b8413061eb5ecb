"""Statuses, media and notifications given odd, hostile or foreign input over HTTP: every refusal is a
clear 4xx with `{"error": …}` and changes nothing; and timelines page by their Link headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api_client import Api, token_for
from fediverse_a2.api.ids import StatusKind, status_id
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.services.uploads import store_image
from fediverse_a2.store import members, posts
from helpers import LiveServer, live_server
from media_samples import photo
from webclient import member_with_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, Api, Api]]:
    async with live_server(tmp_path / "a2") as a2:
        await member_with_password(a2, "alice", "Alice", PASSWORD)
        await member_with_password(a2, "bob", "Bob", PASSWORD)
        alice = Api(a2, await token_for(a2.base_url, "alice", PASSWORD))
        bob = Api(a2, await token_for(a2.base_url, "bob", PASSWORD))
        try:
            yield a2, alice, bob
        finally:
            await alice.client.aclose()
            await bob.client.aclose()


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert isinstance(response.json().get("error"), str)


async def test_odd_ids_and_foreign_statuses(world: tuple[LiveServer, Api, Api]) -> None:
    a2, alice, bob = world
    mine = (await alice.post("/api/v1/statuses", data={"status": "Van mij"})).json()
    for bad in ("abc", "0", "-1", "9" * 25, "1e5", " 1", "%FF"):
        refused(await alice.get(f"/api/v1/statuses/{bad}"), 404)
    assert (await alice.get("/api/v1/statuses/%00")).status_code == 400  # NUL is refused before any route
    # a real row with another publication second is not an id of it
    post_id = int(mine["uri"].rsplit("/", 1)[1])
    refused(await alice.get(f"/api/v1/statuses/{status_id(StatusKind.POST, post_id, 1_000_000)}"), 404)
    refused(await alice.get(f"/api/v1/statuses/{status_id(StatusKind.NOTE, 1, 1_000_000)}"), 404)
    # another member's status is not bob's to change or delete
    refused(await bob.client.put(f"/api/v1/statuses/{mine['id']}", data={"status": "Van bob"}), 404)
    refused(await bob.client.delete(f"/api/v1/statuses/{mine['id']}"), 404)
    refused(await bob.get(f"/api/v1/statuses/{mine['id']}/source"), 404)
    assert (await alice.get(f"/api/v1/statuses/{mine['id']}")).json()["content"].startswith("<p>Van mij</p>")
    # a draft is nobody's status
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    draft = await save_post(a2.rt, member, Draft("Concept", "Nog niet af"), publish=False)
    draft_id = status_id(StatusKind.POST, draft.id, draft.published)
    refused(await alice.get(f"/api/v1/statuses/{draft_id}"), 404)
    refused(await bob.post(f"/api/v1/statuses/{draft_id}/favourite"), 404)
    refused(await bob.post("/api/v1/statuses", data={"status": "Hoi", "in_reply_to_id": draft_id}), 404)
    # a trailing slash answers as without
    assert (await alice.get("/api/v1/timelines/home/")).status_code == 200
    assert (await alice.get(f"/api/v1/statuses/{mine['id']}/")).json()["id"] == mine["id"]


async def test_what_cannot_be_posted(world: tuple[LiveServer, Api, Api]) -> None:
    a2, alice, _ = world
    member = await members.by_username(a2.rt.db, "alice")
    bobs = await members.by_username(a2.rt.db, "bob")
    assert member is not None and bobs is not None
    image = await store_image(a2.rt, bobs, photo(), "Van bob")
    refused(await alice.post("/api/v1/statuses", data={"status": "x" * 20_001}), 422)
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "spoiler_text": "y" * 501}), 422)
    refused(await alice.post("/api/v1/statuses", json={"status": "x", "poll": {"options": ["a", "b"]}}), 422)
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "scheduled_at": "2030-01-01T00:00:00Z"}), 422)
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "media_ids[]": str(image.id)}), 422)  # bob's
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "media_ids[]": "1; DROP"}), 422)
    refused(await alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [str(i) for i in range(5)]}), 422)
    refused(await alice.post("/api/v1/statuses", json={"status": ["x"]}), 422)
    refused(await alice.post("/api/v1/statuses", content=b"{not json", headers={"Content-Type": "application/json"}),
            400)  # fmt: skip
    refused(await alice.post("/api/v1/statuses", data={"status": "x"}, headers={"Idempotency-Key": "k" * 256}), 422)
    refused(await alice.post("/api/v1/statuses", data={"status": "x"}, headers={"Idempotency-Key": ""}), 422)
    blog = (await alice.post("/api/v1/statuses", data={"status": "Een bericht"})).json()
    own = (await alice.post("/api/v2/media", files={"file": ("a.jpg", photo(), "image/jpeg")})).json()
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "in_reply_to_id": blog["id"],
                                                        "media_ids[]": own["id"]}), 422)  # fmt: skip
    refused(await alice.post("/api/v1/statuses", data={"status": "x", "visibility": "private",
                                                        "media_ids[]": own["id"]}), 422)  # fmt: skip
    # a failed request leaves its Idempotency-Key free for the retry
    refused(await alice.post("/api/v1/statuses", data={"status": ""}, headers={"Idempotency-Key": "retry"}), 422)
    retried = await alice.post("/api/v1/statuses", data={"status": "Nu wel"}, headers={"Idempotency-Key": "retry"})
    assert retried.status_code == 200
    assert await posts.count_live(a2.rt.db, member.id) == 2  # "Een bericht" and "Nu wel"


async def test_media_and_notifications_of_others(world: tuple[LiveServer, Api, Api]) -> None:
    _, alice, bob = world
    image = (await alice.post("/api/v2/media", files={"file": ("a.jpg", photo(), "image/jpeg")})).json()
    refused(await bob.get(f"/api/v1/media/{image['id']}"), 404)
    refused(await bob.client.put(f"/api/v1/media/{image['id']}", data={"description": "van bob"}), 404)
    refused(await alice.client.put(f"/api/v1/media/{image['id']}", data={"description": "x" * 1501}), 422)
    refused(await alice.get("/api/v1/media/abc"), 404)
    refused(await alice.post("/api/v2/media", data={"description": "geen bestand"}), 422)
    refused(await alice.post("/api/v2/media", files={"file": ("a.jpg", b"", "image/jpeg")}), 422)
    refused(await alice.post("/api/v2/media", files={"file": ("a.jpg", b"\0" * 11_000_000, "image/jpeg")}), 413)
    assert (await alice.get(f"/api/v1/media/{image['id']}")).json()["description"] is None
    for bad in ("abc", "0", "9" * 30):
        refused(await alice.get(f"/api/v1/notifications/{bad}"), 404)
        refused(await alice.post(f"/api/v1/notifications/{bad}/dismiss"), 404)


async def test_timelines_page_by_their_links(world: tuple[LiveServer, Api, Api]) -> None:
    _, alice, _ = world
    made = [(await alice.post("/api/v1/statuses", data={"status": f"Nummer {i}"})).json()["id"] for i in range(5)]
    first = await alice.get("/api/v1/timelines/home", limit=2)
    assert [s["id"] for s in first.json()] == [made[4], made[3]]
    links = first.headers["link"]
    after = await alice.client.get(links.split('>; rel="next"')[0].lstrip("<"))
    assert [s["id"] for s in after.json()] == [made[2], made[1]]
    back = after.headers["link"].split(", ")[1].split('>; rel="prev"')[0].lstrip("<")
    assert [s["id"] for s in (await alice.client.get(back)).json()] == [made[4], made[3]]
    since = await alice.get("/api/v1/timelines/home", since_id=made[2])
    assert [s["id"] for s in since.json()] == [made[4], made[3]]
    public = await alice.get("/api/v1/timelines/public", local="true", limit=1, max_id=made[1])
    assert [s["id"] for s in public.json()] == [made[0]]
