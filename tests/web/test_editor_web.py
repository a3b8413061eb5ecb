"""Writing on the web through real HTTP: the editor (images, tags, drafts, preview), comments and answers,
the profile; and what a Mastodon-shaped follower receives of it."""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from PIL import Image

from fake_mastodon import FakeMastodon, received
from fediverse_a2.store import activities, comments, media, posts
from helpers import LiveServer, wait_for
from media_samples import photo
from webclient import WebUser, member_with_password
from worlds import PASSWORD, mastodon_world

AP = "application/activity+json"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    async with mastodon_world(tmp_path, followed_by="carol") as world:
        yield world


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={value}")


def unsafe_markup(page: str) -> list[str]:
    """Every tag or attribute in a page that could run script."""
    parser = _Markup()
    parser.feed(page)
    return parser.found


async def test_publish_with_image_tags_and_warning_reaches_the_follower(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        fields = {
            "title": "Open data in de gemeente", "body": "Hallo **allemaal**", "summary": "Lang verhaal",
            "language": "nl", "tags": "#OpenData, Gemeenten", "alt_new_1": "Grafiek van de open datasets",
            "action": "publish",
        }  # fmt: skip
        r = await web.submit(
            "/posts/new", "/posts/new", fields, files={"image_1": ("grafiek.jpg", photo(), "image/jpeg")}
        )
        assert r.status_code == 303, r.text
        url = r.headers["location"]
        assert a2.rt.urls.post_id(url) is not None
        page = (await web.get(url)).text
        assert "Grafiek van de open datasets" in page and 'href="/tags/opendata"' not in page
        assert f'href="{a2.base_url}/tags/opendata"' in page and "#OpenData" in page
    create = (await received(fake, "Create"))[0]
    note = create["object"]
    assert note["id"] == url and note["summary"] == "Lang verhaal" and note["sensitive"] is True
    assert note["contentMap"].keys() == {"nl"}
    assert {t["name"] for t in note["tag"] if t["type"] == "Hashtag"} == {"#OpenData", "#Gemeenten"}
    (image,) = note["attachment"]
    assert image["type"] == "Image" and image["mediaType"] == "image/jpeg" and image["name"].startswith("Grafiek")
    assert (image["width"], image["height"]) == (800, 600)
    async with httpx.AsyncClient() as client:
        served = await client.get(image["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"GPS 52.37N" not in served.content  # re-encoded: the metadata is gone
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_hostile_uploads_are_refused_and_store_nothing(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 megapixels, a few kB on disk
    cases = {
        "not an image": (b"<script>alert(1)</script>", "text/html"),
        "truncated": (photo()[:500], "image/jpeg"),
        "too many pixels": (bomb.getvalue(), "image/png"),
        "an svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
    }
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        for what, (data, kind) in cases.items():
            r = await web.submit(
                "/posts/new", "/posts/new", {"title": "T", "body": "b", "action": "publish"},
                files={"image_1": ("x", data, kind)},
            )  # fmt: skip
            assert r.status_code == 400, what
            assert "kan niet worden gebruikt" in r.text, what
        huge = await web.submit(
            "/posts/new", "/posts/new", {"title": "T", "body": "b", "action": "publish"},
            files={"image_1": ("x.jpg", b"\xff" * 46_000_000, "image/jpeg")},
        )  # fmt: skip
        assert huge.status_code == 413
    assert await posts.count_live(a2.rt.db) == 0
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM media") == 0
    assert not any(a2.rt.config.media_path.glob("*")) if a2.rt.config.media_path.exists() else True


async def test_drafts_and_previews_are_never_federated(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web, WebUser(a2.base_url) as visitor:
        await web.login("alice", PASSWORD)
        preview = await web.submit(
            "/posts/new", "/posts/new", {"title": "Concept", "body": "Nog *niet* klaar", "action": "preview"}
        )
        assert preview.status_code == 200 and "<em>niet</em>" in preview.text and 'value="Concept"' in preview.text
        r = await web.submit(
            "/posts/new", "/posts/new", {"title": "Concept", "body": "Nog niet klaar", "action": "draft"}
        )
        assert r.status_code == 303
        url = r.headers["location"]
        assert (await web.get(url)).status_code == 200  # its author sees it
        assert (await visitor.get(url)).status_code == 404
        assert (await visitor.get(url, headers={"Accept": AP})).status_code == 404
        assert "Concept" in (await web.get("/users/alice")).text
        assert (
            "Concept" not in (await visitor.get("/users/alice")).text and "Concept" not in (await visitor.get("/")).text
        )
        assert await activities.count_for_member(a2.rt.db, 1) == 0
        edit = url.removeprefix(a2.base_url) + "/edit"
        r = await web.submit(edit, edit, {"title": "Klaar", "body": "Nu wel", "action": "publish"})
        assert r.status_code == 303 and r.headers["location"] == url
    create = (await received(fake, "Create"))[0]
    assert create["object"]["id"] == url and "Klaar" in create["object"]["content"]
    assert fake.received_of("Update") == []


async def test_edit_sends_update_and_delete_sends_delete(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    await member_with_password(a2, "bob", "Bob", PASSWORD)
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        url = (
            await web.submit("/posts/new", "/posts/new", {"title": "Eerst", "body": "tekst", "action": "publish"})
        ).headers["location"]
        path = url.removeprefix(a2.base_url)
        r = await web.submit(
            f"{path}/edit", f"{path}/edit", {"title": "Daarna", "body": "nieuwe tekst", "action": "publish"}
        )
        assert r.status_code == 303
        update = (await received(fake, "Update"))[0]
        assert (
            update["object"]["id"] == url and "updated" in update["object"] and "Daarna" in update["object"]["content"]
        )
        async with WebUser(a2.base_url) as bob:
            await bob.login("bob", PASSWORD)
            assert (await bob.get(f"{path}/edit")).status_code == 403
            assert (await bob.submit("/", f"{path}/delete", {})).status_code == 403
        r = await web.submit(path, f"{path}/delete", {})
        assert r.status_code == 303
    delete = (await received(fake, "Delete"))[0]
    assert delete["object"]["id"] == url
    async with httpx.AsyncClient() as client:
        assert (await client.get(url, headers={"Accept": AP})).status_code == 410


async def test_comment_and_answer_a_remote_comment(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        url = (
            await web.submit(
                "/posts/new", "/posts/new", {"title": "Vraag", "body": "Wat vinden jullie?", "action": "publish"}
            )
        ).headers["location"]
        reply = fake.note("carol", "<p>Goed idee!</p>", url)
        assert (await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", reply))).status_code == 202

        async def stored() -> Any:
            return await comments.by_ap_id(a2.rt.db, reply["id"])

        await wait_for(stored, what="carol's reply stored as a comment")
        path = url.removeprefix(a2.base_url)
        page = (await web.get(path)).text
        assert "Reactie van Carol Mastodon op" in page
        links = [html.unescape(h) for h in re.findall(r'href="(/reply\?to=[^"]+)"', page)]
        assert [parse_qs(urlsplit(h).query)["to"] for h in links] == [[reply["id"]]]
        own = await web.submit(path, f"{path}/comments", {"body": "Mijn eigen reactie"})
        assert own.status_code == 303 and "#comment-" in own.headers["location"]
        reply_form = f"/reply?to={reply['id']}"
        answer = await web.submit(reply_form, "/reply", {"to": reply["id"], "body": "Dank je, @carol!"})
        assert answer.status_code == 303
        page = (await web.get(path)).text
        assert "Mijn eigen reactie" in page and "Dank je, @carol!" in page

    async def answered() -> list[dict[str, Any]]:
        return [a for a in fake.received_of("Create") if a["object"].get("inReplyTo") == reply["id"]]

    (create,) = await wait_for(answered, what="the answer at carol's server")
    note = create["object"]
    assert {
        "type": "Mention",
        "href": fake.uri("carol"),
        "name": f"@carol@{fake.base.removeprefix('http://')}",
    } in note["tag"]
    assert fake.uri("carol") in note["cc"]


async def test_what_members_write_is_as_safe_as_what_remotes_send(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, _ = world
    hostile_title = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    body = (
        '[klik](javascript:alert(1)) <script>alert(2)</script> <a href="javascript:alert(3)">x</a> '
        "![x](javascript:alert(4))"
    )
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        r = await web.submit("/posts/new", "/posts/new", {"title": hostile_title, "body": body, "action": "publish"})
        url = r.headers["location"]
        fields = {
            "name": "Alice <b onmouseover=alert(1)>", "summary": "<script>x</script>",
            "field_name_0": "Organisatie<script>", "field_value_0": '<a href="javascript:alert(5)">gemeente</a>',
        }  # fmt: skip
        assert (await web.submit("/settings/profile", "/settings/profile", fields)).status_code == 200
        for path in (url.removeprefix(a2.base_url), "/users/alice", "/"):
            page = (await web.get(path)).text
            assert unsafe_markup(page) == [], path
            assert "&lt;script&gt;" in page or path == "/", path  # shown as text, not run
    async with httpx.AsyncClient() as client:
        actor = (await client.get(f"{a2.base_url}/users/alice", headers={"Accept": AP})).json()
    assert "<a " not in actor["attachment"][0]["value"] and "&lt;a" in actor["attachment"][0]["value"]


async def test_profile_changes_are_sent_as_update_person(world: tuple[LiveServer, FakeMastodon]) -> None:
    a2, fake = world
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        fields = {"name": "Alice van Dijk", "summary": "Beleidsadviseur", "field_name_0": "Organisatie",
                  "field_value_0": "Gemeente Utrecht", "field_name_1": "Rol", "field_value_1": "Adviseur"}  # fmt: skip
        r = await web.submit(
            "/settings/profile",
            "/settings/profile",
            fields,
            files={"avatar": ("me.png", photo((300, 500)), "image/png")},
        )
        assert r.status_code == 200 and "Opgeslagen" in r.text
        assert "Gemeente Utrecht" in (await web.get("/users/alice")).text
    update = (await received(fake, "Update"))[0]
    person = update["object"]
    assert person["type"] == "Person" and person["name"] == "Alice van Dijk"
    assert [(f["type"], f["name"], f["value"]) for f in person["attachment"]] == [
        ("PropertyValue", "Organisatie", "Gemeente Utrecht"), ("PropertyValue", "Rol", "Adviseur")
    ]  # fmt: skip
    assert person["icon"]["url"].startswith(f"{a2.base_url}/media/")
    stored = await media.by_file_name(a2.rt.db, person["icon"]["url"].rsplit("/", 1)[1])
    assert stored is not None and (stored.width, stored.height) == (400, 400)
    assert orjson.loads(orjson.dumps(person))["manuallyApprovesFollowers"] is False
