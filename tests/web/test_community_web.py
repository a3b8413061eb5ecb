"""The community pages through real HTTP: the front page, the member directory (/members?q=), the
group list (/groups), the favicon and web app manifest, link previews (Open Graph) of posts and
profiles, and /settings/images, where a member describes the images that lack a description (a
Mastodon-shaped follower receives the Update)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from demo_site import PASSWORD, Demo, picture, populate
from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.services.uploads import store_image
from fediverse_a2.store import media, members, posts
from helpers import LiveServer, live_server, wait_for
from webclient import WebUser

HTML = {"Accept": "text/html"}


@dataclass
class World:
    a2: LiveServer
    demo: Demo
    fake: FakeMastodon


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The demo community; carol (on a Mastodon-shaped server) follows alice."""
    async with live_server(tmp_path / "a2", run_workers=True) as a2:
        demo = await populate(a2)
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        async with running(fake):
            follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                      "object": a2.rt.urls.actor("alice")}  # fmt: skip
            assert (await fake.send("carol", a2.rt.urls.inbox("alice"), follow)).status_code == 202
            await wait_for(lambda: _now(fake.received_of("Accept")), what="the Accept")
            yield World(a2, demo, fake)


async def _now(value: Any) -> Any:
    return value


async def signed_in(a2: LiveServer, username: str) -> WebUser:
    web = WebUser(a2.base_url)
    assert (await web.login(username, PASSWORD)).status_code == 303
    return web


def text_of(page: str) -> str:
    """The page's text, tags removed and entities decoded (what a reader sees, roughly)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def meta(page: str, name: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', page)
    return html.unescape(match.group(1)) if match else None


async def test_the_front_page_shows_the_community(world: World) -> None:
    a2, demo = world.a2, world.demo
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None and alice.avatar
    async with a2.client(headers=HTML) as visitor:
        page = (await visitor.get("/")).text
    text = text_of(page)
    assert page.count('<article class="post-card') == 6
    # Each card: the author's avatar (or an initial), date, excerpt; the first image as a thumbnail.
    assert f'src="{a2.rt.urls.media(alice.avatar)}"' in page
    open_data = await posts.by_id(a2.rt.db, a2.rt.urls.post_id(demo.posts["open_data"]) or 0)
    assert open_data is not None
    (image,) = await media.for_post(a2.rt.db, open_data.id)
    assert f'<img class="thumb" src="{a2.rt.urls.media(image.file_name)}"' in page
    imported = await posts.by_id(a2.rt.db, demo.imported_post_id)
    assert imported is not None
    inline = re.search(r'<img src="([^"]+)"', imported.content_html)
    assert inline and f'<img class="thumb" src="{inline.group(1)}"' in page  # an imported post's inline image
    assert "Drie jaar na de start van ons open-dataprogramma" in text
    # A post behind a content warning shows the warning only.
    assert "Let op: Gaat over een (geoefend) datalek" in text and "Wat we leerden van de oefening" not in text
    assert "Reactie van Bob Jansen op Open data in de gemeente: wat werkt echt?" in text
    assert f'href="{demo.posts["open_data"]}#comment-' in page
    assert "Actieve groepen" in text and "Open data" in text and "Digitale overheid" in text
    assert a2.rt.urls.handle("netwerk") in text  # the network's follow handle
    assert "Nieuwe leden" not in text  # for members only
    async with await signed_in(a2, "bob") as bob:
        member_page = (await bob.get("/")).text
        second = await bob.get("/?page=2")
    member_text = text_of(member_page)
    assert "Nieuwe leden" in member_text and "Fleur van den Berg" in member_text
    assert second.status_code == 200 and "Recente reacties" not in second.text


async def test_the_member_directory_searches_name_organisation_and_function(world: World) -> None:
    async with await signed_in(world.a2, "alice") as web:

        async def names(query: str) -> list[str]:
            r = await web.get("/members", params={"q": query} if query else None)
            assert r.status_code == 200
            return [
                html.unescape(n) for n in re.findall(r'<h2><a class="p-name u-url" href="[^"]+">([^<]+)</a>', r.text)
            ]

        assert len(await names("")) == 6
        assert await names("utrecht") == ["Alice de Vries"]  # organisation
        assert await names("datasteward") == ["Chris Bakker"]  # function
        assert await names("bob") == ["Bob Jansen"]  # name
        assert await names("sudwest fryslan") == ["Fleur van den Berg"]  # accents folded, every word
        assert await names("gemeente") == ["Alice de Vries", "Dewi Pranoto", "Fleur van den Berg"]
        page = (await web.get("/members", params={"q": "<script>niemand</script>"})).text
        assert "Geen leden gevonden bij: &lt;script&gt;niemand&lt;/script&gt;" in page and "<script>" not in page
        assert (await web.get("/members", params={"q": "x" * 5000})).status_code == 200
        english = text_of((await web.get("/members?lang=en")).text)
        assert "Find colleagues by name, organisation or role." in english
    async with world.a2.client(headers=HTML) as visitor:
        assert (await visitor.get("/members")).status_code == 200  # profiles are public, and so is the list


async def test_the_group_list_shows_description_followers_and_latest_post(world: World) -> None:
    async with world.a2.client(headers=HTML) as visitor:
        page = (await visitor.get("/groups")).text
    text = text_of(page)
    assert "Het hele netwerk" in text and world.a2.rt.urls.handle("netwerk") in text
    cards = page.split('<li class="card h-card">')[1:]
    assert [re.search(r'href="/groups/(\w+)"', c).group(1) for c in cards] == ["digitaal", "opendata"]  # type: ignore[union-attr]
    open_data = text_of(cards[1])
    assert "Over het openen en gebruiken van overheidsdata." in open_data
    assert "1 bericht" in open_data and "0 volgers" in open_data
    assert "Laatste bericht: Open data in de gemeente: wat werkt echt?" in open_data
    assert world.a2.rt.urls.handle("opendata") in open_data


async def test_favicon_manifest_and_icons(world: World) -> None:
    async with world.a2.client() as client:
        favicon = await client.get("/favicon.ico")
        assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/x-icon"
        assert favicon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
        r = await client.get("/manifest.webmanifest")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
        manifest = orjson.loads(r.content)
        assert manifest["name"] == world.a2.rt.config.instance.name and manifest["start_url"] == "/"
        assert manifest["lang"] == "nl" and manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            got = await client.get(icon["src"])
            assert got.status_code == 200 and got.headers["content-type"] == icon["type"], icon
        page = (await client.get("/", headers=HTML)).text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page and 'rel="icon"' in page


async def test_posts_and_profiles_carry_open_graph_previews(world: World) -> None:
    a2, demo = world.a2, world.demo
    async with a2.client(headers=HTML) as visitor:
        page = (await visitor.get(demo.posts["open_data"])).text
        cw = (await visitor.get(demo.posts["cw"])).text
        profile = (await visitor.get("/users/bob")).text
    post_id = a2.rt.urls.post_id(demo.posts["open_data"])
    assert post_id is not None
    (image,) = await media.for_post(a2.rt.db, post_id)
    assert meta(page, "og:type") == "article" and meta(page, "og:title") == "Open data in de gemeente: wat werkt echt?"
    assert meta(page, "og:url") == demo.posts["open_data"]
    assert (meta(page, "og:description") or "").startswith("Drie jaar na de start van ons open-dataprogramma")
    assert meta(page, "og:image") == a2.rt.urls.media(image.file_name)
    assert meta(page, "og:image:alt") == "Staafdiagram 1" and meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "og:site_name") == a2.rt.config.instance.name and meta(page, "og:locale") == "nl_NL"
    # Behind a content warning: the warning, not the text.
    assert meta(cw, "og:description") == "Let op: Gaat over een (geoefend) datalek"
    assert "oefening" not in (meta(cw, "og:description") or "") and meta(cw, "twitter:card") == "summary"
    bob = await members.by_username(a2.rt.db, "bob")
    assert bob is not None and bob.avatar
    assert meta(profile, "og:type") == "profile" and meta(profile, "og:title") == "Bob Jansen"
    assert meta(profile, "og:image") == a2.rt.urls.media(bob.avatar)
    assert a2.rt.urls.handle("bob") in (meta(profile, "og:description") or "")


async def test_a_member_describes_the_images_that_lack_a_description(world: World) -> None:
    a2, demo, fake = world.a2, world.demo, world.fake
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None
    upload = await store_image(a2.rt, alice, picture((640, 400), 5), "")
    post = await save_post(a2.rt, alice, Draft("Zonder beschrijving", "Een foto.", media_ids=[upload.id]), publish=True)
    async with a2.client(headers=HTML) as visitor:
        r = await visitor.get("/settings/images")
        assert r.status_code == 303 and "/login" in r.headers["location"]
    async with await signed_in(a2, "alice") as web:
        page = (await web.get("/settings/images")).text
        assert "2 afbeeldingen zonder beschrijving" in text_of(page)
        keys = dict(re.findall(r'name="key_(\d+)" value="([^"]+)"', page))
        assert sorted(html.unescape(k)[0] for k in keys.values()) == ["m", "p"]
        fields = {f"key_{i}": html.unescape(k) for i, k in keys.items()}
        descriptions = {f"alt_{i}": ("Een foto van de eerste bijeenkomst" if html.unescape(k).startswith("p")
                                     else "Staafdiagram van het aantal datasets") for i, k in keys.items()}  # fmt: skip

        # Bob cannot describe alice's images.
        async with await signed_in(a2, "bob") as bob:
            r = await bob.submit("/settings/images", "/settings/images", {**fields, **descriptions})
            assert r.status_code == 200 and "Beschrijvingen opgeslagen: 0." in text_of(r.text)
        assert (await media.by_id(a2.rt.db, upload.id)).alt == ""  # type: ignore[union-attr]
        # Without the form's token nothing changes.
        r = await web.submit("/settings/images", "/settings/images", {**fields, **descriptions}, token=False)
        assert r.status_code == 403

        r = await web.submit("/settings/images", "/settings/images", {**fields, **descriptions})
        assert r.status_code == 200
        assert (
            "Beschrijvingen opgeslagen: 2." in text_of(r.text)
            and "Al je afbeeldingen hebben een beschrijving." in r.text
        )
    assert (await media.by_id(a2.rt.db, upload.id)).alt == "Staafdiagram van het aantal datasets"  # type: ignore[union-attr]
    imported = await posts.by_id(a2.rt.db, demo.imported_post_id)
    assert imported is not None and 'alt="Een foto van de eerste bijeenkomst"' in imported.content_html
    assert imported.updated is not None
    async with a2.client(headers=HTML) as visitor:
        shown = (await visitor.get(a2.rt.urls.post(demo.imported_post_id))).text
    assert 'alt="Een foto van de eerste bijeenkomst"' in shown

    # The followers' servers get the descriptions: an Update of each public post.
    async def updates() -> dict[str, dict[str, Any]]:
        return {u["object"]["id"]: u["object"] for u in fake.received_of("Update") if u["object"].get("type") == "Note"}

    notes = await wait_for(
        lambda: _enough(updates(), {a2.rt.urls.post(post.id), a2.rt.urls.post(demo.imported_post_id)}),
        what="two Updates",
    )
    (attachment,) = notes[a2.rt.urls.post(post.id)]["attachment"]
    assert attachment["name"] == "Staafdiagram van het aantal datasets"
    assert 'alt="Een foto van de eerste bijeenkomst"' in notes[a2.rt.urls.post(demo.imported_post_id)]["content"]


async def _enough(found: Any, wanted: set[str]) -> dict[str, dict[str, Any]] | None:
    notes: dict[str, dict[str, Any]] = await found
    return notes if wanted <= set(notes) else None
