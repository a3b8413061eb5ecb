"""Mastodon.py, a client we did not write, does what a member does in an app: it registers, goes
through the real authorisation, posts a status with an image and its description, reads the
home and public timelines, answers carol's comment, likes carol's post and reads its
notifications; and carol's Mastodon-shaped server receives the Create with the image, the
answer and the Like. Also: an Idempotency-Key replay, a read-only token refused on a write, a
revoked token refused, and an authorisation address with a redirect URI the app did not register
refused on the page."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonUnauthorizedError

from api_client import REDIRECT, authorize_code, code_from
from app_scene import PASSWORD, Scene, scene_world
from fake_mastodon import FakeMastodon, received_about
from fediverse_a2.store import members, posts
from helpers import LiveServer
from media_samples import photo
from webclient import WebUser


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Scene]]:
    async with scene_world(tmp_path) as world:
        yield world


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Mastodon.py is synchronous (requests): it runs in a thread while the server runs here."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def signed_in(a2: LiveServer, scopes: list[str]) -> Mastodon:
    client_id, secret = await sync(Mastodon.create_app, "Mastodon.py", scopes=scopes, redirect_uris=REDIRECT,
                                   api_base_url=a2.base_url)  # fmt: skip
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=a2.base_url, request_timeout=20)
    url = await sync(api.auth_request_url, redirect_uris=REDIRECT, scopes=scopes, allow_http=True)
    async with WebUser(a2.base_url) as web:
        consent = await authorize_code(web, url, "alice", PASSWORD)
    await sync(api.log_in, code=code_from(consent.location), redirect_uri=REDIRECT, scopes=scopes, allow_http=True)
    return api


async def test_mastodon_py_posts_reads_answers_likes_and_is_told(world: tuple[LiveServer, FakeMastodon, Scene]) -> None:
    a2, fake, scene = world
    api = await signed_in(a2, ["read", "write", "follow"])
    image = await sync(api.media_post, io.BytesIO(photo()), mime_type="image/jpeg", file_name="brug.jpg",
                       description="Een brug over de Amstel")  # fmt: skip
    assert image.description == "Een brug over de Amstel"
    status = await sync(api.status_post, "Op weg naar het werk #fiets", media_ids=[image.id],
                        idempotency_key="mastodon-py-1")  # fmt: skip
    replay = await sync(api.status_post, "Op weg naar het werk #fiets", media_ids=[image.id],
                        idempotency_key="mastodon-py-1")  # fmt: skip
    assert replay.id == status.id
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and await posts.count_live(a2.rt.db, alice.id) == 2  # the blog post and this one
    assert status.media_attachments[0].description == "Een brug over de Amstel"

    home = await sync(api.timeline_home)
    assert home[0].id == status.id
    assert scene.carols_post["id"] in [s.uri for s in home]
    public = await sync(api.timeline_public, local=True)
    assert status.id in [s.id for s in public]

    blog = next(s for s in await sync(api.account_statuses, alice.id) if s.url == scene.blog_url)
    assert blog.content.startswith("<p><strong>Thuiswerken</strong></p>")
    thread = await sync(api.status_context, blog.id)
    remark = next(s for s in thread.descendants if s.uri == scene.remark["id"])
    answer = await sync(api.status_reply, remark, "Een stoel en een raam")
    assert answer.in_reply_to_id == remark.id
    assert [s.id for s in (await sync(api.status_context, blog.id)).descendants] == [remark.id, answer.id]

    carols = next(s for s in home if s.uri == scene.carols_post["id"])
    liked = await sync(api.status_favourite, carols.id)
    assert liked.favourited

    told = await sync(api.notifications)
    assert {(n.type, n.account.acct) for n in told} >= {("mention", scene.carol_handle), ("follow", scene.carol_handle)}
    mention = next(n for n in told if n.type == "mention")
    assert mention.status.id == remark.id

    # what carol's server received
    note = (await received_about(fake, "Create", status.uri))["object"]
    assert note["attachment"][0]["name"] == "Een brug over de Amstel" and note["attachment"][0]["url"] == image.url
    reply = (await received_about(fake, "Create", answer.uri))["object"]
    assert reply["inReplyTo"] == scene.remark["id"]
    like = await received_about(fake, "Like", scene.carols_post["id"])
    assert like["actor"] == a2.rt.urls.actor("alice")


async def test_mastodon_py_with_a_read_only_token(world: tuple[LiveServer, FakeMastodon, Scene]) -> None:
    a2, _, _ = world
    api = await signed_in(a2, ["read"])
    assert (await sync(api.timeline_home)) is not None
    with pytest.raises(MastodonAPIError) as refused:
        await sync(api.status_post, "Mag niet")
    assert refused.value.args[1] == 403
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and await posts.count_live(a2.rt.db, alice.id) == 1  # only the blog post


async def test_mastodon_py_revoked_and_unregistered_redirect(world: tuple[LiveServer, FakeMastodon, Scene]) -> None:
    a2, _, _ = world
    api = await signed_in(a2, ["read"])
    assert (await sync(api.account_verify_credentials))["username"] == "alice"
    # the app ends its own token (and forgets it); the same token sent again is refused
    token = api.access_token
    await sync(api.revoke_access_token, allow_http=True)
    api.access_token = token
    with pytest.raises(MastodonUnauthorizedError):
        await sync(api.timeline_home)
    # an address carrying a redirect URI the app did not register is refused on the page, and
    # the browser is sent nowhere
    url = await sync(
        api.auth_request_url, redirect_uris="https://elsewhere.invalid/cb", scopes=["read"], allow_http=True
    )
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        page = await web.get(url.removeprefix(a2.base_url))
    assert page.status_code == 400 and "location" not in page.headers
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM oauth_codes") == 0
