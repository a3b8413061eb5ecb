"""Mastodon.py, a client we did not write, against a running instance: it registers an app, goes
through the real authorisation (the sign-in and consent forms driven over HTTP), reads and
changes the member's account, follows and unfollows a Mastodon-shaped remote account, and
reads the instance (v1 and v2) and the version it picks endpoints by."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon

from api_client import REDIRECT, authorize_code, code_from
from fake_mastodon import FakeMastodon
from helpers import LiveServer, wait_for
from webclient import WebUser
from worlds import PASSWORD, mastodon_world

SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with mastodon_world(tmp_path, remote=[("carol", "Carol")]) as world:
        yield world


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Mastodon.py is synchronous (requests): it runs in a thread while the server runs here."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def signed_in(a2: LiveServer) -> Mastodon:
    client_id, secret = await sync(
        Mastodon.create_app, "Mastodon.py test", scopes=SCOPES, redirect_uris=REDIRECT,
        website="https://app.invalid", api_base_url=a2.base_url,
    )  # fmt: skip
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=a2.base_url, request_timeout=20)
    url = await sync(api.auth_request_url, redirect_uris=REDIRECT, scopes=SCOPES, state="s-123", allow_http=True)
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, url, "alice", PASSWORD)
    assert "Mastodon.py test" in consent.page and "https://app.invalid" in consent.page
    assert consent.location.startswith(REDIRECT + "?") and "state=s-123" in consent.location
    await sync(api.log_in, code=code_from(consent.location), redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True)
    return api


async def test_mastodon_py_signs_in_and_manages_the_account(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    api = await signed_in(a2)
    me = await sync(api.account_verify_credentials)
    assert me.username == "alice" and me.acct == "alice" and me.display_name == "Alice de Vries"
    assert me.source.privacy == "public" and me.url == a2.rt.urls.actor("alice")

    changed = await sync(
        api.account_update_credentials, display_name="Alice", note="Beleidsmedewerker", fields=[("Organisatie", "BZK")]
    )
    assert changed.display_name == "Alice" and changed.source.note == "Beleidsmedewerker"
    assert [(f.name, f.value) for f in changed.fields] == [("Organisatie", "BZK")]
    again = await sync(api.account, me.id)
    assert again.display_name == "Alice" and again.note == "<p>Beleidsmedewerker</p>"
    # the web shows the same profile: it is one member
    async with WebUser(a2.base_url) as web:
        profile = await web.get("/users/alice")
    assert "Beleidsmedewerker" in profile.text

    assert (await sync(api.account_lookup, "alice")).id == me.id
    assert (await sync(api.app_verify_credentials)).name == "Mastodon.py test"


async def test_mastodon_py_follows_and_unfollows_a_remote_account(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    api = await signed_in(a2)
    handle = f"carol@{fake.base.removeprefix('http://')}"
    found = await sync(api.account_search, handle, resolve=True)
    assert [a.acct for a in found] == [handle]
    carol = found[0]

    relationship = await sync(api.account_follow, carol.id)
    assert relationship.requested and not relationship.following

    async def follow_arrived() -> list[dict[str, Any]]:
        return fake.received_of("Follow")

    follow = (await wait_for(follow_arrived, what="the Follow at the fake"))[0]
    assert follow["actor"] == a2.rt.urls.actor("alice") and follow["object"] == fake.uri("carol")
    accept = {"id": f"{fake.base}/accepts/1", "type": "Accept", "actor": fake.uri("carol"), "object": follow}
    assert (await fake.send("carol", a2.rt.urls.inbox("alice"), accept)).status_code == 202

    async def following() -> bool:
        rel = (await sync(api.account_relationships, [carol.id]))[0]
        return bool(rel.following)

    await wait_for(following, what="the follow to be accepted")
    me = await sync(api.account_verify_credentials)
    assert [a.id for a in await sync(api.account_following, me.id)] == [carol.id]

    # what carol posts reaches alice, and shows as carol's statuses (public ones only)
    image = {"type": "Document", "mediaType": "image/png", "url": f"{fake.base}/media/tulpen.png",
             "name": "Rode tulpen", "width": 640, "height": 480}  # fmt: skip
    public = fake.note("carol", "<p>Tulpen!</p>", None, attachment=[image], published="2026-11-28T11:00:00Z")
    private = fake.note("carol", "<p>Alleen voor volgers</p>", None, cc=[], to=[f"{fake.uri('carol')}/followers"],
                        published="2026-11-28T12:00:00Z")  # fmt: skip
    for note in (public, private):
        sent = await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", note))
        assert sent.status_code == 202

    async def stored() -> bool:
        return await a2.rt.db.fetchval("SELECT COUNT(*) FROM remote_posts") == 2

    await wait_for(stored, what="carol's posts stored")
    statuses = await sync(api.account_statuses, carol.id)
    assert [s.uri for s in statuses] == [public["id"]]
    assert statuses[0].account.id == carol.id and statuses[0].content == "<p>Tulpen!</p>"
    assert statuses[0].media_attachments[0].description == "Rode tulpen"

    relationship = await sync(api.account_unfollow, carol.id)
    assert not relationship.following and not relationship.requested

    async def undone() -> list[dict[str, Any]]:
        return fake.received_of("Undo")

    undo = (await wait_for(undone, what="the Undo at the fake"))[0]
    assert undo["object"]["id"] == follow["id"]


async def test_mastodon_py_reads_the_instance(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    api = await sync(Mastodon, api_base_url=a2.base_url, version_check_mode="created", request_timeout=20)
    # the version is parsed from "4.3.0 (compatible; fediverse-a2 …)"
    assert await sync(api.verify_minimum_version, "4.3.0", cached=True)
    v1 = await sync(api.instance_v1)
    assert v1.uri == a2.rt.config.instance.host and v1.version.startswith("4.3.0 (compatible; fediverse-a2 ")
    v2 = await sync(api.instance_v2)
    assert v2.domain == a2.rt.config.instance.host
    assert v2.configuration.statuses.max_media_attachments == 4
    assert "image/png" in v2.configuration.media_attachments.supported_mime_types
    info = await sync(api.oauth_authorization_server_info)
    assert "S256" in info.code_challenge_methods_supported
    assert set(info.grant_types_supported) == {"authorization_code", "client_credentials"}
