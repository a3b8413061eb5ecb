"""Remote interaction through real HTTP: a visitor with an account on a Mastodon-shaped server
follows a member or answers a post from there. The redirect is built from the subscribe template
in the fake server's WebFinger answer; a handle that cannot be used never redirects."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import Draft, save_post
from helpers import LiveServer, live_server
from webclient import WebUser, csrf_of


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, str]]:
    async with live_server(tmp_path / "a2") as a2:
        member = await add_member(a2.rt, "alice", "Alice de Vries")
        post = await save_post(a2.rt, member, Draft("Open overheid", "Wat vinden jullie?"), publish=True)
        fake = FakeMastodon()
        fake.add_user("carol", "Carol Mastodon")
        async with running(fake):
            yield a2, fake, a2.rt.urls.post(post.id)


async def interact(web: WebUser, uri: str, handle: str, **kw: object) -> object:
    return await web.submit(f"/interact?uri={quote(uri, safe='')}", "/interact", {"uri": uri, "handle": handle}, **kw)


def interact_links(page: str) -> list[str]:
    """The targets of the page's "Reageren" / "Volgen" links, in order."""
    hrefs = [html.unescape(h) for h in re.findall(r'href="(/interact\?[^"]+)"', page)]
    return [parse_qs(urlsplit(h).query)["uri"][0] for h in hrefs]


def authority(fake: FakeMastodon) -> str:
    return fake.base.removeprefix("http://")


async def test_reply_from_the_visitors_own_server(world: tuple[LiveServer, FakeMastodon, str]) -> None:
    a2, fake, post_url = world
    async with WebUser(a2.base_url) as web:
        page = await web.get(post_url.removeprefix(a2.base_url))
        assert interact_links(page.text) == [post_url, a2.rt.urls.actor("alice")] and "Reageren" in page.text
        r = await interact(web, post_url, f"@carol@{authority(fake)}")
        assert r.status_code == 303
        location = urlsplit(r.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{fake.base}/authorize_interaction"
        assert parse_qs(location.query) == {"uri": [post_url]}
        # The handle is remembered for the next time.
        again = await web.get(f"/interact?uri={quote(post_url, safe='')}")
        assert f'value="@carol@{authority(fake)}"' in again.text


async def test_the_form_names_the_post_or_member_not_a_raw_url(world: tuple[LiveServer, FakeMastodon, str]) -> None:
    a2, _, post_url = world
    async with WebUser(a2.base_url) as web:
        reply = (await web.get(f"/interact?uri={quote(post_url, safe='')}")).text
        target = reply.split('class="interact-target"', 1)[1].split("</p>", 1)[0]
        assert "<strong>Open overheid</strong>" in target and "door Alice de Vries" in target
        assert f"@alice@{a2.base_url.removeprefix('http://')}" in target and f">{post_url}<" not in reply
        actor = a2.rt.urls.actor("alice")
        follow = (await web.get(f"/interact?uri={quote(actor, safe='')}&lang=en")).text
        target = follow.split('class="interact-target"', 1)[1].split("</p>", 1)[0]
        assert f'href="{actor}"' in target and "<strong>Alice de Vries</strong>" in target and " by " not in target
        assert f">{actor}<" not in follow


async def test_follow_a_member_from_elsewhere(world: tuple[LiveServer, FakeMastodon, str]) -> None:
    a2, fake, _ = world
    actor = a2.rt.urls.actor("alice")
    async with WebUser(a2.base_url) as web:
        profile = await web.get("/users/alice")
        assert interact_links(profile.text) == [actor] and "Volgen" in profile.text
        r = await interact(web, actor, f"carol@{authority(fake)}")
        assert r.status_code == 303
        assert parse_qs(urlsplit(r.headers["location"]).query) == {"uri": [actor]}


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("nobody", "Dat is geen fediverse-adres"),
        ("@ghost@{fake}", "kon niet worden opgezocht"),  # WebFinger answers 404
        ("@carol@127.0.0.1:9", "kon niet worden opgezocht"),  # nothing listens there
    ],
)
async def test_a_handle_that_cannot_be_used_gets_a_message_not_a_redirect(
    world: tuple[LiveServer, FakeMastodon, str], handle: str, message: str
) -> None:
    a2, fake, post_url = world
    async with WebUser(a2.base_url) as web:
        r = await interact(web, post_url, handle.format(fake=authority(fake)))
        assert r.status_code == 400 and "location" not in r.headers
        assert message in r.text


async def test_a_server_without_a_template_gets_a_message(
    world: tuple[LiveServer, FakeMastodon, str], tmp_path: Path
) -> None:
    a2, _, post_url = world
    # Another instance of this service has no subscribe template in its WebFinger answer.
    async with live_server(tmp_path / "b2") as b2:
        await add_member(b2.rt, "bob", "Bob")
        async with WebUser(a2.base_url) as web:
            r = await interact(web, post_url, f"@bob@{b2.base_url.removeprefix('http://')}")
    assert r.status_code == 400 and "location" not in r.headers
    assert "geen volgen of reageren op afstand" in r.text


async def test_only_this_instances_own_urls_are_passed_on(world: tuple[LiveServer, FakeMastodon, str]) -> None:
    a2, fake, _ = world
    async with WebUser(a2.base_url) as web:
        for uri in ("https://evil.example/phish", f"{a2.base_url}/posts/999", f"{a2.base_url}/users/nobody"):
            assert (await web.get(f"/interact?uri={quote(uri, safe='')}")).status_code == 404
            form = await web.get(f"/interact?uri={quote(a2.rt.urls.actor('alice'), safe='')}")
            r = await web.client.post(
                "/interact",
                data={"uri": uri, "handle": f"@carol@{authority(fake)}", "csrf": csrf_of(form.text)},
                headers={"Origin": a2.base_url},
            )
            assert r.status_code == 400 and "location" not in r.headers


async def test_the_interact_form_needs_its_token(world: tuple[LiveServer, FakeMastodon, str]) -> None:
    a2, fake, post_url = world
    async with WebUser(a2.base_url) as web:
        assert (await interact(web, post_url, f"@carol@{authority(fake)}", token=False)).status_code == 403
        assert (await interact(web, post_url, f"@carol@{authority(fake)}", origin=None)).status_code == 403
