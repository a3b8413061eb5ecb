"""The account endpoints over HTTP with a member's real token: profiles, statuses with their filters
and paging, followers and following, relationships, follow requests, search, the instance and the
member's markers and preferences."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client import token_for
from fake_mastodon import FakeMastodon
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.services.social import comment
from fediverse_a2.services.uploads import store_image
from fediverse_a2.store import follow_requests, members, posts
from helpers import LiveServer, wait_for
from media_samples import photo
from worlds import PASSWORD, mastodon_world


class Api:
    """httpx with a bearer token."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.client = server.client(headers={"Authorization": f"Bearer {token}"})

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, **kw)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Api]]:
    async with mastodon_world(tmp_path, remote=(("carol", "Carol"), ("dave", "Dave"))) as (a2, fake):
        api = Api(a2, await token_for(a2.base_url, "alice", PASSWORD))
        try:
            yield a2, fake, api
        finally:
            await api.client.aclose()


async def alice(a2: LiveServer) -> Any:
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    return member


async def test_statuses_of_an_account_with_filters_and_paging(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, _, api = world
    member = await alice(a2)
    me = str(member.id)
    image = await store_image(a2.rt, member, photo(), "Een grachtenpand")
    urls = []
    for i in range(5):
        media_ids = [image.id] if i == 2 else []
        post = await save_post(a2.rt, member, Draft(f"Titel {i}", f"Tekst {i}", tags="overheid", media_ids=media_ids),
                               publish=True)  # fmt: skip
        urls.append(a2.rt.urls.post(post.id))
    reply = await comment(a2.rt, a2.workers.directory, "alice", urls[4], "Een reactie")

    everything = await api.get(f"/api/v1/accounts/{me}/statuses")
    assert everything.status_code == 200
    statuses = everything.json()
    assert [s["uri"] for s in statuses] == [reply, *reversed(urls)]
    assert [int(s["id"]) for s in statuses] == sorted((int(s["id"]) for s in statuses), reverse=True)
    newest_post = statuses[1]
    assert newest_post["content"].startswith("<p><strong>Titel 4</strong></p>") and newest_post["url"] == urls[4]
    assert newest_post["tags"] == [{"name": "overheid", "url": a2.rt.urls.tag("overheid")}]
    assert newest_post["replies_count"] == 1 and newest_post["account"]["username"] == "alice"
    assert statuses[0]["in_reply_to_id"] == newest_post["id"]
    assert statuses[0]["in_reply_to_account_id"] == newest_post["account"]["id"] == me

    no_replies = (await api.get(f"/api/v1/accounts/{me}/statuses", exclude_replies="true")).json()
    assert [s["uri"] for s in no_replies] == list(reversed(urls))
    media = (await api.get(f"/api/v1/accounts/{me}/statuses", only_media="1")).json()
    assert [s["uri"] for s in media] == [urls[2]]
    attachment = media[0]["media_attachments"][0]
    assert attachment["type"] == "image" and attachment["description"] == "Een grachtenpand"
    assert (await api.get(f"/api/v1/accounts/{me}/statuses", pinned="true")).json() == []

    first = await api.get(f"/api/v1/accounts/{me}/statuses", limit=2, exclude_replies="true")
    assert [s["uri"] for s in first.json()] == [urls[4], urls[3]]
    link = first.headers["link"]
    assert 'rel="next"' in link and 'rel="prev"' in link and "exclude_replies=true" in link
    next_url = link.split('>; rel="next"')[0].lstrip("<")
    second = await api.client.get(next_url)
    assert [s["uri"] for s in second.json()] == [urls[2], urls[1]]
    newer = await api.get(f"/api/v1/accounts/{me}/statuses", min_id=second.json()[0]["id"], exclude_replies="true")
    assert [s["uri"] for s in newer.json()] == [urls[4], urls[3]]
    since = await api.get(f"/api/v1/accounts/{me}/statuses", since_id=first.json()[1]["id"], exclude_replies="true")
    assert [s["uri"] for s in since.json()] == [urls[4]]
    # min_id pages up from an id: the statuses right after it, not the newest ones
    oldest = statuses[-1]["id"]
    right_after = await api.get(f"/api/v1/accounts/{me}/statuses", min_id=oldest, limit=2, exclude_replies="true")
    assert [s["uri"] for s in right_after.json()] == [urls[2], urls[1]]
    since_oldest = await api.get(f"/api/v1/accounts/{me}/statuses", since_id=oldest, limit=2, exclude_replies="1")
    assert [s["uri"] for s in since_oldest.json()] == [urls[4], urls[3]]
    # the same answers without a token: accounts and their statuses are public
    async with a2.client() as anonymous:
        assert (await anonymous.get(f"/api/v1/accounts/{me}/statuses")).json() == statuses


async def test_followers_following_relationships_and_requests(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, fake, api = world
    member = await alice(a2)
    me = str(member.id)
    for name in ("carol", "dave"):
        follow = {"id": f"{fake.base}/follows/{name}", "type": "Follow", "actor": fake.uri(name),
                  "object": a2.rt.urls.actor("alice")}  # fmt: skip
        assert (await fake.send(name, a2.rt.urls.inbox("alice"), follow)).status_code == 202

    async def two_followers() -> Any:
        r = await api.get(f"/api/v1/accounts/{me}/followers")
        return r.json() if len(r.json()) == 2 else None

    followers = await wait_for(two_followers, what="two followers")
    assert [f["acct"] for f in followers] == [f"dave@{fake.base[7:]}", f"carol@{fake.base[7:]}"]
    carol = followers[1]
    assert int(carol["id"]) > 10**12 and carol["url"] == f"{fake.base}/@carol"
    assert carol["display_name"] == "Carol" and carol["note"] == "<p>Ambtenaar</p>"
    page = await api.get(f"/api/v1/accounts/{me}/followers", limit=1)
    assert [f["acct"] for f in page.json()] == [followers[0]["acct"]] and 'rel="next"' in page.headers["link"]
    # the same id every time, and by id the account is found
    assert (await api.get(f"/api/v1/accounts/{carol['id']}")).json()["acct"] == carol["acct"]

    rels = (await api.get("/api/v1/accounts/relationships", **{"id[]": [carol["id"], me, "999999"]})).json()
    assert [r["id"] for r in rels] == [carol["id"], me]
    assert rels[0]["followed_by"] and not rels[0]["following"] and not rels[0]["requested"]

    # a locked account: requests wait, then are authorised or rejected through the API
    r = await api.client.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    assert r.status_code == 200 and r.json()["locked"] is True
    fake.add_user("erin", "Erin")
    fake.add_user("frank", "Frank")
    for name in ("erin", "frank"):
        follow = {"id": f"{fake.base}/follows/{name}", "type": "Follow", "actor": fake.uri(name),
                  "object": a2.rt.urls.actor("alice")}  # fmt: skip
        assert (await fake.send(name, a2.rt.urls.inbox("alice"), follow)).status_code == 202

    async def two_requests() -> Any:
        return len(await follow_requests.for_member(a2.rt.db, member.id)) == 2

    await wait_for(two_requests, what="two follow requests")
    waiting = (await api.get("/api/v1/follow_requests")).json()
    assert sorted(a["display_name"] for a in waiting) == ["Erin", "Frank"]
    erin = next(a for a in waiting if a["display_name"] == "Erin")
    frank = next(a for a in waiting if a["display_name"] == "Frank")
    assert (await api.get("/api/v1/accounts/verify_credentials")).json()["source"]["follow_requests_count"] == 2
    authorised = await api.post(f"/api/v1/follow_requests/{erin['id']}/authorize")
    assert authorised.status_code == 200 and authorised.json()["followed_by"] is True
    rejected = await api.post(f"/api/v1/follow_requests/{frank['id']}/reject")
    assert rejected.status_code == 200 and rejected.json()["followed_by"] is False
    assert (await api.post(f"/api/v1/follow_requests/{frank['id']}/reject")).status_code == 404
    assert (await api.get("/api/v1/follow_requests")).json() == []

    async def answered() -> bool:
        accepted = {a["object"]["actor"] for a in fake.received_of("Accept")}
        rejected = {a["object"]["actor"] for a in fake.received_of("Reject")}
        return fake.uri("erin") in accepted and rejected == {fake.uri("frank")}

    await wait_for(answered, what="Accept of erin and Reject of frank at the fake")

    # members follow remote accounts only
    own = await api.post(f"/api/v1/accounts/{me}/follow")
    assert own.status_code == 422 and "error" in own.json()


async def test_lookup_search_and_profile_changes(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, fake, api = world
    host = a2.rt.config.instance.host
    me = str((await alice(a2)).id)
    assert (await api.get("/api/v1/accounts/lookup", acct="alice")).json()["id"] == me
    assert (await api.get("/api/v1/accounts/lookup", acct=f"alice@{host}")).json()["id"] == me
    assert (await api.get("/api/v1/accounts/lookup", acct="nobody")).status_code == 404
    remote = f"carol@{fake.base[7:]}"
    assert (await api.get("/api/v1/accounts/lookup", acct=remote)).status_code == 404  # lookup fetches nothing
    found = (await api.get("/api/v1/accounts/search", q=remote, resolve="true")).json()
    assert [a["acct"] for a in found] == [remote]
    assert (await api.get("/api/v1/accounts/lookup", acct=remote)).json()["id"] == found[0]["id"]
    assert [a["acct"] for a in (await api.get("/api/v1/accounts/search", q="ali")).json()] == ["alice"]
    assert [a["acct"] for a in (await api.get("/api/v1/accounts/search", q="caro")).json()] == [remote]

    r = await api.client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice", "note": "Regel één\n\nRegel twee <b>", "fields_attributes[0][name]": "Rol",
              "fields_attributes[0][value]": "Adviseur"},
        files={"avatar": ("me.jpg", photo((600, 600)), "image/jpeg")},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    data = r.json()
    # the summary is one line of plain text (as /settings/profile keeps it), escaped in the note
    assert data["display_name"] == "Alice" and data["note"] == "<p>Regel één Regel twee &lt;b&gt;</p>"
    assert data["source"]["note"] == "Regel één Regel twee <b>"
    assert data["fields"] == [{"name": "Rol", "value": "Adviseur", "verified_at": None}]
    assert data["avatar"].startswith(f"{a2.base_url}/media/")
    avatar = await api.client.get(data["avatar"])
    assert avatar.status_code == 200 and avatar.headers["content-type"].startswith("image/")

    async def updated() -> bool:
        return any(a["type"] == "Update" for a in fake.received)

    # nobody follows alice here, so nothing is delivered: the profile change is stored all the same
    assert (await members.by_username(a2.rt.db, "alice")).name == "Alice"  # type: ignore[union-attr]
    assert not await updated()
    too_many = {f"fields_attributes[{i}][name]": f"n{i}" for i in range(5)}
    assert (await api.client.patch("/api/v1/accounts/update_credentials", data=too_many)).status_code == 422
    empty_name = await api.client.patch("/api/v1/accounts/update_credentials", json={"display_name": " "})
    assert empty_name.status_code in (200, 422)


async def test_instance_preferences_markers_and_empty_lists(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    _, _, api = world
    v2 = (await api.get("/api/v2/instance")).json()
    assert v2["version"].startswith("4.3.0 (compatible; fediverse-a2 ") and v2["api_versions"] == {"mastodon": 2}
    assert v2["configuration"]["statuses"]["max_characters"] > 500
    v1 = (await api.get("/api/v1/instance")).json()
    assert v1["stats"]["user_count"] == 1 and v1["title"] == "Test A2"
    prefs = (await api.get("/api/v1/preferences")).json()
    assert prefs["posting:default:visibility"] == "public" and prefs["posting:default:language"] == "nl"

    assert (await api.get("/api/v1/markers", **{"timeline[]": ["home", "notifications"]})).json() == {}
    saved = await api.post("/api/v1/markers", json={"home": {"last_read_id": "123"}})
    assert saved.status_code == 200 and saved.json()["home"]["last_read_id"] == "123"
    again = await api.post("/api/v1/markers", data={"home[last_read_id]": "456", "notifications[last_read_id]": "7"})
    assert again.json()["home"]["version"] == 2 and again.json()["notifications"]["version"] == 1
    read = (await api.get("/api/v1/markers", **{"timeline[]": ["home", "notifications"]})).json()
    assert read["home"]["last_read_id"] == "456" and read["notifications"]["last_read_id"] == "7"
    assert (await api.post("/api/v1/markers", json={"home": {"last_read_id": "x'"}})).status_code == 422

    for path in ("/api/v1/custom_emojis", "/api/v1/announcements", "/api/v1/lists", "/api/v2/filters",
                 "/api/v1/followed_tags", "/api/v1/conversations"):  # fmt: skip
        r = await api.get(path)
        assert r.status_code == 200 and r.json() == [], path


async def test_min_id_pages_up_from_far_below(world: tuple[LiveServer, FakeMastodon, Api]) -> None:
    a2, _, api = world
    member = await alice(a2)
    now = time.time()
    ids = [await posts.create(a2.rt.db, member.id, f"T{i}", "b", "<p>b</p>", now - 1000 + 10 * i) for i in range(30)]
    everything = (await api.get(f"/api/v1/accounts/{member.id}/statuses", limit=40)).json()
    assert len(everything) == 30
    oldest = everything[-1]["id"]
    up = await api.get(f"/api/v1/accounts/{member.id}/statuses", min_id=oldest, limit=2)
    assert [s["uri"] for s in up.json()] == [a2.rt.urls.post(ids[2]), a2.rt.urls.post(ids[1])]
    prev = up.headers["link"].split(", ")[1]
    assert f"min_id={up.json()[0]['id']}" in prev and 'rel="prev"' in prev
