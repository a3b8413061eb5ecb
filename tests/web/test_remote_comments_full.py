"""Remote comments shown in full, their images served from here: a Mastodon-shaped remote replies
with images (described or not, sensitive), a language, a content warning in HTML, mentions and
hashtags; the post page shows all of it and links no other host; the media proxy fetches only
what a page linked, within its limits."""

from __future__ import annotations

import io
import os
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from api_client import Api, token_for
from fake_mastodon import FakeMastodon, running
from fediverse_a2.media.proxy_links import AVATAR, IMAGE, link_for
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import comments
from helpers import LiveServer, live_server, wait_for
from media_samples import photo, png_bytes
from webclient import member_with_password


class _Page(HTMLParser):
    """The images of a page, each with the classes of the <details> around it, and the lang of each comment body."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, Any]] = []
        self.langs: list[str | None] = []
        self.details: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "details":
            self.details.append(found.get("class") or "")
        elif tag == "img":
            self.images.append({**found, "in": " ".join(self.details)})
        elif tag == "div" and found.get("class") == "comment-body":
            self.langs.append(found.get("lang"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self.details:
            self.details.pop()


def _parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: larger than any small limit."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def _attachment(fake: FakeMastodon, name: str, description: str | None) -> dict[str, Any]:
    return {
        "type": "Document",
        "mediaType": "image/png" if name.endswith(".png") else "image/jpeg",
        "url": f"{fake.base}/media/{name}",
        "name": description,
    }


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    media = {"proxy_max_bytes": 60_000}
    async with live_server(tmp_path / "a2", run_workers=True, database=database_url, media=media) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", "een-goed-wachtwoord-123")
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        fake.files["/avatars/carol.png"] = (png_bytes((500, 300)), "image/png")
        async with running(fake):
            yield a2, fake


async def _reply(a2: LiveServer, fake: FakeMastodon, post_url: str, content: str, **extra: Any) -> str:
    note = fake.note("carol", content, post_url, **extra)
    answer = await fake.send("carol", f"{a2.base_url}/inbox", fake.create("carol", note))
    assert answer.status_code == 202, answer.text
    post_id = int(post_url.rsplit("/", 1)[1])

    async def stored() -> bool:
        found = await comments.list_for_post(a2.rt.db, post_id, a2.rt.policy, a2.rt.urls)
        return any(c.ap_id == note["id"] for c in found)

    await wait_for(stored, what="the reply stored as a comment")
    return str(note["id"])


async def test_a_remote_reply_shows_its_images_language_warning_mentions_and_tags(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    fake.files["/media/chart.png"] = (png_bytes((64, 48)), "image/png")
    fake.files["/media/holiday.jpg"] = (photo((320, 240), secret="GPS 52.37N 4.89E"), "image/jpeg")
    fake.files["/media/blood.png"] = (png_bytes((40, 40), (200, 0, 0)), "image/png")
    post_url = await publish_post(a2.rt, "alice", "Een post", "Tekst")
    content = (
        f'<p><span class="h-card"><a href="{a2.base_url}/users/alice" class="u-url mention">@<span>alice</span></a>'
        f'</span> kijk <a href="{fake.base}/tags/opendata" class="mention hashtag" rel="tag">'
        "#<span>opendata</span></a></p>"
    )
    images = [_attachment(fake, "chart.png", "Een grafiek van de begroting"), _attachment(fake, "holiday.jpg", None)]
    warning = "<p>Let <b>op</b> &amp; zo</p>"
    await _reply(a2, fake, post_url, content, summary=warning, contentMap={"en": content}, attachment=images)
    await _reply(
        a2, fake, post_url, "<p>Gevoelig</p>", sensitive=True, attachment=[_attachment(fake, "blood.png", "Bloed")]
    )
    # Misskey marks the file, not the note.
    marked = {**_attachment(fake, "blood.png", "Ook bloed"), "sensitive": True}
    await _reply(a2, fake, post_url, "<p>Ook gevoelig</p>", sensitive=False, attachment=[marked])

    async with a2.client() as client:
        page = await client.get(post_url, headers={"Accept": "text/html"})
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "img-src 'self';" in csp  # nothing else: no data:, no http(s): hosts
        html = page.text
        parsed = _parsed(html)
        # The content warning is plain text, its entities decoded once (and escaped again by the page).
        assert "Let op &amp; zo" in html and "&lt;p&gt;" not in html and "&lt;b&gt;" not in html
        # The reply's language is its body's lang; mentions and hashtags stay links.
        assert "en" in parsed.langs
        assert f'href="{a2.base_url}/users/alice"' in html and f'href="{fake.base}/tags/opendata"' in html
        # No image on the page comes from another host: every one is ours.
        sources = [image["src"] for image in parsed.images]
        assert all(s.startswith((a2.base_url + "/", "/")) for s in sources), sources
        assert fake.base not in " ".join(sources)
        by_alt = {image.get("alt"): image for image in parsed.images if "/media/proxy/image/" in image["src"]}
        assert set(by_alt) == {"Een grafiek van de begroting", "", "Bloed", "Ook bloed"}
        assert "sensitive-media" in by_alt["Bloed"]["in"] and "sensitive-media" in by_alt["Ook bloed"]["in"]
        assert "sensitive-media" not in by_alt["Een grafiek van de begroting"]["in"]
        avatars = [image["src"] for image in parsed.images if "/media/proxy/avatar/" in image["src"]]
        assert len(avatars) == 3

        # Each image is served from here, re-encoded: the JPEG's EXIF (its GPS note) is gone.
        holiday = await client.get(by_alt[""]["src"])
        assert holiday.status_code == 200 and holiday.headers["content-type"] == "image/jpeg"
        assert b"GPS" not in holiday.content
        assert Image.open(io.BytesIO(holiday.content)).size == (320, 240)
        chart = await client.get(by_alt["Een grafiek van de begroting"]["src"])
        assert chart.status_code == 200 and Image.open(io.BytesIO(chart.content)).size == (64, 48)
        avatar = await client.get(avatars[0])
        assert avatar.status_code == 200 and Image.open(io.BytesIO(avatar.content)).size == (400, 400)
        assert fake.file_requests.count("/media/holiday.jpg") == 1

        # A second reader gets the cached copy: the remote is not asked again.
        again = await client.get(by_alt[""]["src"])
        assert again.content == holiday.content
        assert fake.file_requests.count("/media/holiday.jpg") == 1
        # Once expired, the copy is fetched again.
        cache = a2.rt.config.media_path / ".proxy-cache"
        old = time.time() - 8 * 86400
        for path in cache.iterdir():
            os.utime(path, (old, old))
        assert (await client.get(by_alt[""]["src"])).status_code == 200
        assert fake.file_requests.count("/media/holiday.jpg") == 2


async def test_the_media_proxy_fetches_only_what_a_page_linked_and_only_images(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    fake.files["/media/big.png"] = (_noise_png(200), "image/png")  # ~120 kB, over the 60 kB limit
    fake.files["/media/page.png"] = (b"<html><body>not an image</body></html>", "text/html")
    fake.files["/media/fake.png"] = (b"GIF89a but not really an image", "image/png")
    fake.files["/media/ok.png"] = (png_bytes((20, 20)), "image/png")
    post_url = await publish_post(a2.rt, "alice", "Een post", "Tekst")
    names = ("big.png", "page.png", "fake.png", "ok.png")
    await _reply(a2, fake, post_url, "<p>Vier</p>", attachment=[_attachment(fake, n, n) for n in names])

    async with a2.client() as client:
        parsed = _parsed((await client.get(post_url, headers={"Accept": "text/html"})).text)
        src = {image["alt"]: image["src"] for image in parsed.images if image.get("alt") in names}
        answers = {name: (await client.get(src[name])).status_code for name in names}
        assert answers == {"big.png": 502, "page.png": 502, "fake.png": 502, "ok.png": 200}
        # A refusal is remembered for a while: asking again does not fetch again.
        fetched = len(fake.file_requests)
        assert (await client.get(src["page.png"])).status_code == 502
        assert len(fake.file_requests) == fetched

        # A link this instance did not sign fetches nothing: forged, altered, or of another kind.
        prefix, signature, encoded = src["ok.png"].rsplit("/", 2)
        other = link_for(b"not the instance secret", IMAGE, f"{fake.base}/media/ok.png")
        unsigned = link_for(a2.rt.web_secret, IMAGE, f"{fake.base}/media/other.png")
        forged = [
            f"{prefix}/{'0' * 32}/{encoded}",
            f"{prefix}/{other.signature}/{other.encoded}",
            f"{prefix}/{signature}/{unsigned.encoded}",
            src["ok.png"].replace("/media/proxy/image/", "/media/proxy/avatar/"),
            src["ok.png"].replace("/media/proxy/image/", "/media/proxy/script/"),
            f"{prefix}/{signature}/{encoded}!",
        ]
        fetched = len(fake.file_requests)
        for url in forged:
            assert (await client.get(url)).status_code == 404, url
        assert len(fake.file_requests) == fetched


async def test_the_media_proxy_refuses_private_addresses_unless_allowed(tmp_path: Path) -> None:
    fake = FakeMastodon()
    fake.files["/media/ok.png"] = (png_bytes((20, 20)), "image/png")
    config = {"federation": {"allow_private_network": False}}
    async with running(fake), live_server(tmp_path / "a2", **config) as a2:
        # A link as a page would have it (the instance signed it), to a loopback address.
        link = link_for(a2.rt.web_secret, IMAGE, f"{fake.base}/media/ok.png")
        async with a2.client() as client:
            answer = await client.get(a2.rt.urls.media_proxy(link.kind, link.signature, link.encoded))
        assert answer.status_code == 502
        assert fake.file_requests == []


async def test_an_avatar_that_cannot_be_fetched_is_the_default_avatar_and_an_image_a_502(tmp_path: Path) -> None:
    """A broken remote avatar shows this instance's default picture (no broken image on the page);
    a broken image is a 502. Neither is fetched again while the refusal is remembered."""
    fake = FakeMastodon()  # serves no file at all: every fetch is a 404
    async with running(fake), live_server(tmp_path / "a2") as a2:
        avatar = link_for(a2.rt.web_secret, AVATAR, f"{fake.base}/avatars/carol.png")
        image = link_for(a2.rt.web_secret, IMAGE, f"{fake.base}/media/gone.png")
        default = (files("fediverse_a2.web") / "static" / "avatar.png").read_bytes()
        async with a2.client() as client:
            for _ in range(2):
                answer = await client.get(a2.rt.urls.media_proxy(avatar.kind, avatar.signature, avatar.encoded))
                assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
                assert answer.content == default
                answer = await client.get(a2.rt.urls.media_proxy(image.kind, image.signature, image.encoded))
                assert answer.status_code == 502
        assert fake.file_requests == ["/avatars/carol.png", "/media/gone.png"]


async def test_an_imported_posts_images_from_another_host_come_through_the_proxy(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    fake.files["/media/old.png"] = (png_bytes((30, 20)), "image/png")
    post_url = await publish_post(a2.rt, "alice", "Uit het archief", "Tekst")
    own = f"{a2.base_url}/static/icon.svg"
    html = f'<p>Oud</p><img src="{fake.base}/media/old.png" alt="Een oude foto"><img src="{own}"><img src="data:x">'
    # As the archive importer stores a page whose image was not saved beside it.
    await a2.rt.db.execute("UPDATE posts SET content_html = ? WHERE id = ?", (html, int(post_url.rsplit("/", 1)[1])))
    async with a2.client() as client:
        parsed = _parsed((await client.get(post_url, headers={"Accept": "text/html"})).text)
        old = next(image for image in parsed.images if image.get("alt") == "Een oude foto")
        assert old["src"].startswith(f"{a2.base_url}/media/proxy/image/")
        assert any(image["src"] == own and image["alt"] == "" for image in parsed.images)
        assert not any(image["src"].startswith("data:") or fake.base in image["src"] for image in parsed.images)
        served = await client.get(old["src"])
        assert served.status_code == 200 and Image.open(io.BytesIO(served.content)).size == (30, 20)


async def test_an_update_replaces_a_remote_comments_images_language_and_warning(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    post_url = await publish_post(a2.rt, "alice", "Een post", "Tekst")
    first = [_attachment(fake, "one.png", "Eerste")]
    note_id = await _reply(a2, fake, post_url, "<p>Eerst</p>", attachment=first, sensitive=True, summary="<p>Oud</p>")
    note = {
        **fake.notes[note_id], "content": "<p>Daarna</p>", "contentMap": {"de": "<p>Daarna</p>"},
        "summary": "<p>Nieuw &lt;b&gt;</p>", "sensitive": False, "updated": "2026-11-28T11:00:00Z",
        "attachment": [_attachment(fake, "two.png", "Tweede")],
    }  # fmt: skip
    update = {"id": f"{note_id}#u1", "type": "Update", "actor": fake.uri("carol"), "object": note}
    assert (await fake.send("carol", f"{a2.base_url}/inbox", update)).status_code == 202

    async def edited() -> str | None:
        async with a2.client() as client:
            page = (await client.get(post_url, headers={"Accept": "text/html"})).text
        return page if "Daarna" in page else None

    page = await wait_for(edited, what="the Update shown")
    parsed = _parsed(page)
    alts = {image.get("alt"): image for image in parsed.images if "/media/proxy/image/" in image["src"]}
    assert set(alts) == {"Tweede"} and "sensitive-media" not in alts["Tweede"]["in"]
    assert "de" in parsed.langs
    assert "Nieuw &lt;b&gt;" in page and "Oud" not in page


async def test_apps_get_a_remote_comments_images_through_the_proxy_and_its_sensitivity(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake = world
    post_url = await publish_post(a2.rt, "alice", "Een post", "Tekst")
    images = [_attachment(fake, "blood.png", "Bloed")]
    note_id = await _reply(a2, fake, post_url, "<p>Gevoelig</p>", sensitive=True, attachment=images)
    api = Api(a2, await token_for(a2.base_url, "alice", "een-goed-wachtwoord-123"))
    try:
        me = (await api.get("/api/v1/accounts/verify_credentials")).json()
        own = (await api.get(f"/api/v1/accounts/{me['id']}/statuses")).json()
        post = next(s for s in own if s["uri"] == post_url)
        context = (await api.get(f"/api/v1/statuses/{post['id']}/context")).json()
    finally:
        await api.client.aclose()
    reply = next(s for s in context["descendants"] if s["uri"] == note_id)
    assert reply["sensitive"] is True and reply["spoiler_text"] == ""
    [media] = reply["media_attachments"]
    assert media["description"] == "Bloed" and media["url"].startswith(f"{a2.base_url}/media/proxy/image/")
    assert reply["account"]["avatar"].startswith(f"{a2.base_url}/media/proxy/avatar/")
