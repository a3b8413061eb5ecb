"""Short posts (written in an app, without a title) on the web: their page, the lists that name them,
the feed, the editor, and their Note, which carries the text alone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.activitypub import build
from fediverse_a2.errors import UserError
from fediverse_a2.services.posts import Draft, note_of, save_post
from fediverse_a2.services.uploads import store_image
from fediverse_a2.store import members, posts
from helpers import AP, LiveServer, live_server
from html_check import check_html
from media_samples import photo
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
TEXT = "Vandaag de hele dag over de Omgevingswet gepraat met collega's uit drie gemeenten, heel leerzaam."


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        yield server


async def test_a_short_post_reads_well_everywhere(a2: LiveServer) -> None:
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    post = await save_post(a2.rt, member, Draft("", TEXT, short=True), publish=True)
    assert post.title == ""
    assert post.heading == "Vandaag de hele dag over de Omgevingswet gepraat met collega's uit drie …"
    # the Note carries the text alone, no empty bold title line
    note = await note_of(a2.rt, a2.rt.db, post)
    assert note["content"] == post.content_html and "<strong>" not in note["content"]
    assert build.post_content("", "<p>x</p>") == "<p>x</p>"
    path = a2.rt.urls.post(post.id).removeprefix(a2.base_url)
    async with WebUser(a2.base_url) as web:
        page = (await web.get(path)).text
        check_html(page)
        assert re.search(r"<title>Vandaag de hele dag .*…", page)
        assert '<h1 class="short-post">Bericht van Alice de Vries</h1>' in page and TEXT in page
        assert '<meta property="og:title" content="Vandaag de hele dag over de Omgevingswet' in page
        home = (await web.get("/")).text
        check_html(home)
        assert f'<a href="{a2.rt.urls.post(post.id)}">Vandaag de hele dag' in home
        profile = (await web.get("/users/alice")).text
        assert f'<a href="{a2.rt.urls.post(post.id)}">Vandaag de hele dag' in profile
        feed = (await web.get("/feed.atom")).text
        assert "<title>Vandaag de hele dag over de Omgevingswet" in feed
        as_json = (await web.get(path, headers={"Accept": AP})).json()
        assert as_json["content"] == post.content_html
        # its author edits it on the web, and it stays a post without a title
        await web.login("alice", PASSWORD)
        editor = (await web.get(f"/posts/{post.id}/edit")).text
        assert re.search(r'<input id="title" name="title" maxlength', editor)
        saved = await web.submit(f"/posts/{post.id}/edit", f"/posts/{post.id}/edit",
                                 {"title": "", "body": TEXT + " Tot morgen!", "action": "publish"})  # fmt: skip
        assert saved.status_code == 303, saved.text[:300]
    edited = await posts.by_id(a2.rt.db, post.id)
    assert edited is not None and edited.title == "" and "Tot morgen!" in edited.content_html
    # a post written on the web still needs its title
    with pytest.raises(UserError):
        await save_post(a2.rt, member, Draft("", "Zonder titel"), publish=True)


async def test_a_short_post_of_images_alone(a2: LiveServer) -> None:
    member = await members.by_username(a2.rt.db, "alice")
    assert member is not None
    image = await store_image(a2.rt, member, photo(), "Een brug")
    post = await save_post(a2.rt, member, Draft("", "", media_ids=[image.id], short=True), publish=True)
    assert post.heading == ""
    async with WebUser(a2.base_url) as web:
        page = (await web.get(a2.rt.urls.post(post.id).removeprefix(a2.base_url))).text
        check_html(page)
        assert "<title>Bericht zonder titel - " in page and 'alt="Een brug"' in page
        home = (await web.get("/", headers={"Accept-Language": "en"})).text
        assert ">Post without a title</a>" in home
