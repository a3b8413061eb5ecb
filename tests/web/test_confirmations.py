"""Nothing is deleted by a single click: every destructive action asks first, on a page of its own whose
form POSTs to the same address, through real HTTP (with a Mastodon-shaped follower and commenter)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.groups import add_group, add_moderator
from fediverse_a2.services.membership import request_membership
from fediverse_a2.services.posts import publish_post
from fediverse_a2.services.social import comment
from fediverse_a2.store import actor_blocks, comments, follows, groups, members, membership_requests, posts
from helpers import LiveServer, live_server, wait_for
from html_check import check_html
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    a2: LiveServer
    fake: FakeMastodon
    post_url: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with live_server(tmp_path / "a2", run_workers=True) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(a2, "bob", "Bob Jansen", PASSWORD)
        await member_with_password(a2, "mod", "Mo Derator", PASSWORD, role="admin")
        fake = FakeMastodon(host="127.0.0.2")
        fake.add_user("carol", "Carol Mastodon")
        async with running(fake):
            follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                      "object": a2.rt.urls.actor("alice")}  # fmt: skip
            assert (await fake.send("carol", a2.rt.urls.inbox("alice"), follow)).status_code == 202
            await wait_for(lambda: _now(fake.received_of("Accept")), what="the Accept")
            post_url = await publish_post(a2.rt, "alice", "Zonne-energie op daken", "Wie doet er mee?")
            yield World(a2, fake, post_url)


async def _now(value: object) -> object:
    return value


async def signed_in(w: World, username: str) -> WebUser:
    web = WebUser(w.a2.base_url)
    assert (await web.login(username, PASSWORD)).status_code == 303
    return web


def no_form_to(page: str, action: str) -> bool:
    """The page has no form that POSTs to `action`: the action is a link to a page that asks first."""
    return re.search(rf'<form[^>]*method="post"[^>]*action="{re.escape(action)}"', page) is None


async def asked(web: WebUser, page: str, words: str) -> str:
    """The question page: 200, well-formed, saying `words`, its form POSTing to its own address."""
    r = await web.get(page)
    assert r.status_code == 200, (page, r.status_code, r.text[:300])
    check_html(r.text)
    assert words in r.text, r.text
    path = page.split("?", 1)[0]
    assert f'<form method="post" action="{path}">' in r.text
    assert 'class="button secondary" href="' in r.text  # the way back
    return r.text


async def test_deleting_a_post_asks_first_and_the_question_changes_nothing(world: World) -> None:
    w = world
    path = w.post_url.removeprefix(w.a2.base_url)
    post_id = int(path.rsplit("/", 1)[1])
    async with await signed_in(w, "alice") as alice:
        page = (await alice.get(path)).text
        assert no_form_to(page, f"{path}/delete") and f'href="{path}/delete"' in page
        await asked(alice, f"{path}/delete", "‘Zonne-energie op daken’ verwijderen?")
        post = await posts.by_id(w.a2.rt.db, post_id)
        assert post is not None and post.deleted_at is None and not w.fake.received_of("Delete")
        async with await signed_in(w, "bob") as bob:  # not the author: no question, no deleting
            assert (await bob.get(f"{path}/delete")).status_code == 403
            r = await bob.submit(path, f"{path}/delete", {})
            assert r.status_code == 403
        r = await alice.confirm(f"{path}/delete")
        assert r.status_code == 303
    post = await posts.by_id(w.a2.rt.db, post_id)
    assert post is not None and post.deleted_at is not None
    async with httpx.AsyncClient(headers={"Accept": "text/html"}) as visitor:
        assert (await visitor.get(w.post_url)).status_code == 410


async def test_a_member_deletes_their_own_comment_after_being_asked(world: World) -> None:
    w = world
    said = await comment(w.a2.rt, w.a2.workers.directory, "bob", w.post_url, "Ik doe mee met **drie** daken")
    comment_id = int(said.rsplit("/", 1)[1])
    path = w.post_url.removeprefix(w.a2.base_url)
    async with await signed_in(w, "alice") as alice:  # the post's author sees no delete link on bob's words
        assert f"/comments/{comment_id}/delete" not in (await alice.get(path)).text
        assert (await alice.get(f"/comments/{comment_id}/delete")).status_code == 403
    async with await signed_in(w, "bob") as bob:
        page = (await bob.get(path)).text
        assert f'href="/comments/{comment_id}/delete"' in page and no_form_to(page, f"/comments/{comment_id}/delete")
        question = await asked(bob, f"/comments/{comment_id}/delete", "Je reactie verwijderen?")
        assert "Ik doe mee met drie daken" in question  # what goes, as plain text
        assert await comments.by_ap_id(w.a2.rt.db, said) is not None
        r = await bob.confirm(f"/comments/{comment_id}/delete")
        assert r.status_code == 303 and r.headers["location"] == w.post_url
        assert "drie" not in (await bob.get(path)).text
        assert (await bob.get(f"/comments/{comment_id}/delete")).status_code == 404
    assert await comments.by_ap_id(w.a2.rt.db, said) is None


async def test_moderators_delete_and_block_only_after_being_asked(world: World) -> None:
    w = world
    note = w.fake.note("carol", "<p>Reactie over dakgoten</p>", w.post_url)
    assert (await w.fake.send("carol", f"{w.a2.base_url}/inbox", w.fake.create("carol", note))).status_code == 202
    row = await wait_for(lambda: comments.by_ap_id(w.a2.rt.db, note["id"]), what="the reply stored")
    async with await signed_in(w, "mod") as mod:
        page = (await mod.get(f"/moderation/comments/{row.id}")).text
        assert f'href="/moderation/comments/{row.id}/delete"' in page
        assert 'value="delete"' not in page and 'value="block_actor"' not in page and 'value="block_domain"' not in page
        r = await mod.submit(f"/moderation/comments/{row.id}", f"/moderation/comments/{row.id}", {"action": "delete"})
        assert r.status_code == 400 and await comments.by_ap_id(w.a2.rt.db, note["id"]) is not None

        target = quote(w.fake.uri("carol"), safe="/")
        await asked(mod, f"/moderation/block?kind=actor&target={target}", "blokkeren?")
        await asked(mod, "/moderation/block?kind=domain&target=127.0.0.2", "De hele server 127.0.0.2 blokkeren?")
        assert not await actor_blocks.is_blocked(w.a2.rt.db, w.fake.uri("carol"))
        assert not w.a2.rt.policy.is_blocked("127.0.0.2")
        bad = await mod.get("/moderation/block", params={"kind": "domain", "target": "niet een domein!"})
        assert bad.status_code == 400 and "geen geldige domeinnaam" in bad.text
        assert 'value="niet een domein!"' in bad.text  # what was typed stays in the form

        await asked(mod, f"/moderation/comments/{row.id}/delete", "Deze reactie van Carol Mastodon verwijderen?")
        assert await comments.by_ap_id(w.a2.rt.db, note["id"]) is not None
        r = await mod.confirm(f"/moderation/comments/{row.id}/delete")
        assert r.status_code == 303 and await comments.by_ap_id(w.a2.rt.db, note["id"]) is None

        r = await mod.confirm(f"/moderation/block?kind=actor&target={target}")
        assert r.status_code == 303 and await actor_blocks.is_blocked(w.a2.rt.db, w.fake.uri("carol"))
        alice = await members.by_username(w.a2.rt.db, "alice")
        assert alice is not None and await follows.count_followers(w.a2.rt.db, alice.id) == 0


async def test_removing_a_follower_and_unfollowing_ask_first(world: World) -> None:
    w = world
    alice = await members.by_username(w.a2.rt.db, "alice")
    assert alice is not None
    target = quote(w.fake.uri("carol"), safe="/")
    async with await signed_in(w, "alice") as web:
        assert no_form_to((await web.get("/followers")).text, "/followers/remove")
        await asked(web, f"/followers/remove?actor={target}", "Carol Mastodon verwijderen als volger?")
        assert await follows.count_followers(w.a2.rt.db, alice.id) == 1 and not w.fake.received_of("Reject")
        r = await web.confirm(f"/followers/remove?actor={target}")
        assert r.status_code == 303 and await follows.count_followers(w.a2.rt.db, alice.id) == 0
        await asked(web, f"/following/remove?actor={target}", "Carol Mastodon ontvolgen?")


async def test_taking_a_post_out_of_a_group_asks_first(world: World) -> None:
    w = world
    group = await add_group(w.a2.rt, "zon", "Zonne-energie")
    await add_moderator(w.a2.rt, "zon", "mod")
    async with await signed_in(w, "alice") as alice:
        fields = {"title": "In de groep", "body": "Tekst", "group": "zon", "action": "publish"}
        assert (await alice.submit("/posts/new", "/posts/new", fields)).status_code == 303
    found = await wait_for(lambda: groups.posts(w.a2.rt.db, group.id, 10, 0), what="the group's post")
    item = found[0]
    async with await signed_in(w, "mod") as mod:
        page = (await mod.get("/groups/zon")).text
        assert no_form_to(page, "/groups/zon/remove") and f'href="/groups/zon/remove?item={item.id}"' in page
        await asked(mod, f"/groups/zon/remove?item={item.id}", "uit Zonne-energie halen?")
        assert (await groups.posts(w.a2.rt.db, group.id, 10, 0))[0].id == item.id
        assert (await mod.get("/groups/zon/remove?item=999999")).status_code == 404
        r = await mod.confirm(f"/groups/zon/remove?item={item.id}")
        assert r.status_code == 303
    assert all(p.id != item.id for p in await groups.posts(w.a2.rt.db, group.id, 10, 0))


async def test_rejecting_a_membership_request_asks_first(world: World) -> None:
    w = world
    await request_membership(w.a2.rt, name="Eva Verzoek", email="eva@example.org", organisation="", motivation="Graag")
    (waiting,) = await membership_requests.pending(w.a2.rt.db)
    async with await signed_in(w, "mod") as admin:
        assert no_form_to((await admin.get("/admin/requests")).text, "/admin/requests/reject")
        await asked(admin, f"/admin/requests/reject?request={waiting.id}", "De aanvraag van Eva Verzoek afwijzen?")
        assert [r.id for r in await membership_requests.pending(w.a2.rt.db)] == [waiting.id]
        r = await admin.confirm(f"/admin/requests/reject?request={waiting.id}")
        assert r.status_code == 303
        assert await membership_requests.pending(w.a2.rt.db) == []
        assert (await admin.get(f"/admin/requests/reject?request={waiting.id}")).status_code == 404


async def test_the_question_is_a_form_with_a_token_like_every_other(world: World) -> None:
    w = world
    path = w.post_url.removeprefix(w.a2.base_url)
    async with await signed_in(w, "alice") as alice:
        forged = await alice.submit(f"{path}/delete", f"{path}/delete", {}, token=False)
        assert forged.status_code == 403
        elsewhere = await alice.submit(f"{path}/delete", f"{path}/delete", {}, origin="https://evil.example")
        assert elsewhere.status_code == 403
    post = await posts.by_id(w.a2.rt.db, int(path.rsplit("/", 1)[1]))
    assert post is not None and post.deleted_at is None
