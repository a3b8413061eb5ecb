"""Moderation on the web through real HTTP, with a Mastodon-shaped remote on a second loopback address:
the approval queue, hide/unhide/delete, blocks, reports received and sent, the audit log, CSRF."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import actor_blocks, audit, comments, follows, members, notifications, reports
from helpers import LiveServer, cli, live_server, wait_for
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
AP = "application/activity+json"


@dataclass
class World:
    a2: LiveServer
    fake: FakeMastodon
    post_url: str


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[World]:
    async with live_server(tmp_path / "a2", run_workers=True, database=database_url) as a2:
        await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(a2, "bob", "Bob Lid", PASSWORD)
        await member_with_password(a2, "mod", "Mo Derator", PASSWORD, role="moderator")
        fake = FakeMastodon(host="127.0.0.2")  # its own domain, so blocking it leaves this one alone
        fake.add_user("carol", "Carol Mastodon")
        fake.add_user("dave", "Dave Mastodon")
        async with running(fake):
            follow = {"id": f"{fake.base}/follows/1", "type": "Follow", "actor": fake.uri("carol"),
                      "object": f"{a2.base_url}/users/alice"}  # fmt: skip
            assert (await fake.send("carol", f"{a2.base_url}/users/alice/inbox", follow)).status_code == 202
            await wait_for(lambda: _now(fake.received_of("Accept")), what="the Accept")
            post_url = await publish_post(a2.rt, "alice", "Zonne-energie op daken", "Wie doet er mee?")
            yield World(a2, fake, post_url)


async def _now(value: Any) -> Any:
    return value


async def remote_reply(w: World, name: str, text: str) -> tuple[int, str]:
    """A reply from the fake to the post, delivered to the shared inbox; (row id, note id) once stored."""
    note = w.fake.note(name, f"<p>{text}</p>", w.post_url)
    r = await w.fake.send(name, f"{w.a2.base_url}/inbox", w.fake.create(name, note))
    assert r.status_code == 202, r.text

    async def stored() -> Any:
        return await comments.by_ap_id(w.a2.rt.db, note["id"])

    row = await wait_for(stored, what="the comment stored")
    return row.id, note["id"]


async def processed(w: World, activity_id: str) -> None:
    """Wait until the inbox worker has handled one activity."""

    async def handled() -> bool:
        state = await w.a2.rt.db.fetchval("SELECT state FROM inbox_items WHERE activity_id = ?", (activity_id,))
        return state in ("done", "failed")

    await wait_for(handled, what=f"{activity_id} processed")


async def signed_in(w: World, username: str) -> WebUser:
    web = WebUser(w.a2.base_url)
    r = await web.login(username, PASSWORD)
    assert r.status_code == 303, r.text
    return web


async def post_page(w: World) -> str:
    async with httpx.AsyncClient(headers={"Accept": "text/html"}) as client:
        return (await client.get(w.post_url)).text


async def replies(w: World) -> tuple[int, list[str]]:
    async with httpx.AsyncClient(headers={"Accept": AP}) as client:
        head = (await client.get(f"{w.post_url}/replies")).json()
        page = (await client.get(f"{w.post_url}/replies?page=1")).json()
    return head["totalItems"], page["orderedItems"]


async def search_page(w: World, q: str) -> str:
    async with httpx.AsyncClient(headers={"Accept": "text/html"}) as client:
        return (await client.get(f"{w.a2.base_url}/search", params={"q": q})).text


async def moderate(web: WebUser, comment_id: int, action: str, **fields: str) -> httpx.Response:
    """What the comment's page does: a button, or (deleting, blocking) a link to a page that asks first."""
    page = f"/moderation/comments/{comment_id}"
    if action == "delete":
        return await web.confirm(f"{page}/delete")
    if action in ("block_actor", "block_domain"):
        shown = (await web.get(page)).text
        kind = action.removeprefix("block_")
        link = re.search(rf'href="(/moderation/block\?kind={kind}&amp;target=[^"]+)"', shown)
        assert link, shown
        return await web.confirm(html.unescape(link.group(1)))
    return await web.submit(page, page, {"action": action, **fields})


async def log_entries(w: World) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in await audit.recent(w.a2.rt.db)]


async def test_held_comment_is_invisible_until_the_author_approves(world: World) -> None:
    w = world
    alice = await members.by_username(w.a2.rt.db, "alice")
    assert alice is not None
    # dave is followed by alice: his comments never wait
    await follows.add_following(w.a2.rt.db, alice.id, w.fake.uri("dave"), f"{w.a2.base_url}/follows/dave")
    row = await follows.following_by_follow_id(w.a2.rt.db, f"{w.a2.base_url}/follows/dave")
    assert row is not None
    await follows.set_following_state(w.a2.rt.db, row.id, "accepted")
    async with await signed_in(w, "alice") as web:
        r = await web.submit("/settings/moderation", "/settings/moderation", {"hold": "on"})
        assert r.status_code == 303
        assert "checked" in (await web.get("/settings/moderation")).text
        held_id, held_note = await remote_reply(w, "carol", "Ik wil graag meedoen met zonnepanelen")
        dave_id, dave_note = await remote_reply(w, "dave", "Ik ook, met warmtepompen")
        assert await comments.state_of(w.a2.rt.db, held_id) == "held"
        assert await comments.state_of(w.a2.rt.db, dave_id) == "visible"

        page = await post_page(w)
        assert "zonnepanelen" not in page and "warmtepompen" in page
        assert await replies(w) == (1, [dave_note])
        assert f"comment-{held_id}" not in await search_page(w, "zonnepanelen")

        queue = (await web.get("/moderation")).text
        assert "zonnepanelen" in queue and "warmtepompen" not in queue
        # bob has no post here: nothing waits for him, and he may not touch alice's comment
        async with await signed_in(w, "bob") as bob:
            assert "zonnepanelen" not in (await bob.get("/moderation")).text
            assert (await bob.get(f"/moderation/comments/{held_id}")).status_code == 404
            # nor can a held comment be read or answered through the reply form
            answer = await bob.get(f"/reply?to={quote(held_note, safe='')}")
            assert answer.status_code == 404 and "zonnepanelen" not in answer.text
        r = await moderate(web, held_id, "approve")
        assert r.status_code == 303 and r.headers["location"].endswith("/moderation?done=approve")

    assert await comments.state_of(w.a2.rt.db, held_id) == "visible"
    assert "zonnepanelen" in await post_page(w)
    total, items = await replies(w)
    assert total == 2 and set(items) == {held_note, dave_note}
    assert f"comment-{held_id}" in await search_page(w, "zonnepanelen")
    assert ("alice", "comment_approve", held_note) in await log_entries(w)


async def test_moderator_hides_unhides_and_deletes(world: World) -> None:
    w = world
    cid, note_id = await remote_reply(w, "carol", "Vervelende opmerking over dakgoten")
    assert "dakgoten" in await post_page(w)
    async with await signed_in(w, "mod") as web:
        page = await post_page(w)
        assert f'href="/moderation/comments/{cid}"' not in page  # visitors see no moderation links
        as_mod = (await web.get(w.post_url)).text
        assert f'href="/moderation/comments/{cid}"' in as_mod

        assert (await moderate(web, cid, "hide")).status_code == 303
        assert "dakgoten" not in await post_page(w)
        assert await replies(w) == (0, [])
        assert f"comment-{cid}" not in await search_page(w, "dakgoten")
        assert "dakgoten" in (await web.get("/moderation")).text  # listed as hidden

        assert (await moderate(web, cid, "unhide")).status_code == 303
        assert "dakgoten" in await post_page(w)
        assert f"comment-{cid}" in await search_page(w, "dakgoten")

        r = await moderate(web, cid, "delete")
        assert r.status_code == 303 and "done=delete" in r.headers["location"]
        assert await comments.by_ap_id(w.a2.rt.db, note_id) is None
        assert (await web.get(f"/moderation/comments/{cid}")).status_code == 404
    # delivered again, it stays deleted (a tombstone)
    again = w.fake.create("carol", w.fake.notes[note_id])
    again["id"] += "/again"
    assert (await w.fake.send("carol", f"{w.a2.base_url}/inbox", again)).status_code == 202
    await processed(w, again["id"])
    assert "dakgoten" not in await post_page(w)
    actions = [(who, what) for who, what, target in await log_entries(w) if target == note_id]
    assert actions == [("mod", "comment_delete"), ("mod", "comment_unhide"), ("mod", "comment_hide")]


async def test_block_actor_and_domain_from_the_web(world: World) -> None:
    w = world
    cid, _ = await remote_reply(w, "carol", "Reactie van carol over isolatie")
    did, _ = await remote_reply(w, "dave", "Reactie van dave over glas")
    alice = await members.by_username(w.a2.rt.db, "alice")
    assert alice is not None and await follows.count_followers(w.a2.rt.db, alice.id) == 1
    async with await signed_in(w, "mod") as web:
        r = await moderate(web, cid, "block_actor")
        assert r.status_code == 303
        assert await actor_blocks.is_blocked(w.a2.rt.db, w.fake.uri("carol"))
        assert await follows.count_followers(w.a2.rt.db, alice.id) == 0  # as the CLI: dropped as follower
        page = await post_page(w)
        assert "isolatie" not in page and "glas" in page
        blocks = (await web.get("/moderation/blocks")).text
        assert w.fake.uri("carol") in blocks
        r = await web.submit(
            "/moderation/blocks", "/moderation/blocks", {"action": "unblock_actor", "target": w.fake.uri("carol")}
        )
        assert r.status_code == 303 and not await actor_blocks.is_blocked(w.a2.rt.db, w.fake.uri("carol"))
        assert "isolatie" in await post_page(w)

        r = await moderate(web, did, "block_domain")
        assert r.status_code == 303
        assert w.a2.rt.policy.is_blocked("127.0.0.2")
        page = await post_page(w)
        assert "isolatie" not in page and "glas" not in page
        # a new reply from the blocked domain is refused
        note = w.fake.note("dave", "<p>nog eentje</p>", w.post_url)
        create = w.fake.create("dave", note)
        refused = await w.fake.send("dave", f"{w.a2.base_url}/inbox", create)
        if refused.status_code == 202:
            await processed(w, create["id"])
        assert await comments.by_ap_id(w.a2.rt.db, note["id"]) is None
        r = await web.get("/moderation/block", params={"kind": "actor", "target": "x"})
        assert r.status_code == 200  # asked first; the lookup fails when it is done
        fields = {"kind": "actor", "target": "x"}
        r = await web.submit("/moderation/block?kind=actor&target=x", "/moderation/block", fields)
        assert r.status_code == 400 and 'role="alert"' in r.text
    entries = await log_entries(w)
    assert ("mod", "actor_block", w.fake.uri("carol")) in entries
    assert ("mod", "actor_unblock", w.fake.uri("carol")) in entries
    assert ("mod", "domain_block", "127.0.0.2") in entries


async def test_a_flag_from_the_remote_is_listed_and_resolved(world: World) -> None:
    w = world
    flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{w.fake.base}/reports/77",
        "type": "Flag",
        "actor": w.fake.uri("carol"),
        "object": [f"{w.a2.base_url}/users/alice", w.post_url],
        "content": "Dit is reclame",
    }
    assert (await w.fake.send("carol", f"{w.a2.base_url}/inbox", flag)).status_code == 202
    rows = await wait_for(lambda: reports.recent(w.a2.rt.db), what="the report")
    report_id = rows[0].id
    async with await signed_in(w, "mod") as web:
        page = (await web.get("/moderation/reports")).text
        assert "Dit is reclame" in page and f'href="{w.post_url}"' in page and w.fake.uri("carol") in page
        fields = {"report": str(report_id), "resolution": "resolved", "note": "Blogpost gecontroleerd"}
        r = await web.submit("/moderation/reports", "/moderation/reports", fields)
        assert r.status_code == 303
        page = (await web.get("/moderation/reports")).text
        resolution = re.search(r'<dd class="resolution">(.*?)</dd>', page, re.S)
        assert resolution and "Afgehandeld" in resolution.group(1) and "mod" in resolution.group(1)
        assert "Blogpost gecontroleerd" in resolution.group(1)
        r = await web.submit("/moderation/reports", "/moderation/reports", {"report": "999", "resolution": "resolved"})
        assert r.status_code == 400
        log = (await web.get("/moderation/log")).text
        assert "rapportage afgehandeld" in log and f"rapportage #{report_id}" in log
        assert re.search(r'<td class="who"[^>]*>mod</td>', log)
    report = await reports.by_id(w.a2.rt.db, report_id)
    assert report is not None
    assert report.resolution == "resolved" and report.resolved_by == "mod" and report.resolved_at
    listed = (await asyncio.to_thread(cli, w.a2.config_path, "reports")).stdout
    assert "resolved by mod" in listed and "Blogpost gecontroleerd" in listed


async def test_a_report_reaches_the_remote_as_a_flag_from_the_instance_actor(world: World) -> None:
    w = world
    cid, note_id = await remote_reply(w, "carol", "Spam spam spam")
    async with await signed_in(w, "mod") as web:
        r = await moderate(web, cid, "report")
        assert r.status_code == 400  # a reason is required
        r = await moderate(web, cid, "report", reason="Ongevraagde reclame")
        assert r.status_code == 303
    flags = await wait_for(lambda: _now(w.fake.received_of("Flag")), what="the Flag at the fake")
    (flag,) = flags
    assert flag["actor"] == f"{w.a2.base_url}/actor"
    assert flag["_key_id"] == f"{w.a2.base_url}/actor#main-key"  # signed with the instance key (verified)
    assert flag["object"] == [w.fake.uri("carol"), note_id]
    assert flag["content"] == "Ongevraagde reclame"
    assert ("mod", "report_send", note_id) in await log_entries(w)


async def test_pages_refuse_members_and_visitors(world: World) -> None:
    w = world
    cid, _ = await remote_reply(w, "carol", "Gewone reactie")
    moderator_pages = ("/moderation/reports", "/moderation/blocks", "/moderation/log")
    async with httpx.AsyncClient(base_url=w.a2.base_url) as visitor:
        for path in (*moderator_pages, "/moderation", f"/moderation/comments/{cid}", "/settings/moderation"):
            r = await visitor.get(path)
            assert r.status_code == 303 and "/login?next=" in r.headers["location"], path
    async with await signed_in(w, "bob") as bob:
        for path in moderator_pages:
            assert (await bob.get(path)).status_code == 403, path
        assert (await bob.get(f"/moderation/comments/{cid}")).status_code == 404
        assert (await bob.get("/moderation")).status_code == 200
        # a member cannot hide a comment by posting the form of a moderator
        r = await bob.submit("/moderation", f"/moderation/comments/{cid}", {"action": "hide"})
        assert r.status_code == 404
    assert await comments.state_of(w.a2.rt.db, cid) == "visible"


async def test_every_post_without_a_token_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    cid, _ = await remote_reply(w, "carol", "Reactie om te verbergen")
    before = await log_entries(w)
    forms = [
        (f"/moderation/comments/{cid}", {"action": "hide"}),
        (f"/moderation/comments/{cid}/delete", {}),
        ("/moderation/block", {"kind": "actor", "target": w.fake.uri("carol")}),
        (f"/moderation/comments/{cid}", {"action": "report", "reason": "x"}),
        ("/moderation/block", {"kind": "domain", "target": "127.0.0.2"}),
        ("/moderation/reports", {"report": "1", "resolution": "dismissed"}),
        ("/settings/moderation", {"hold": "on"}),
    ]
    async with await signed_in(w, "mod") as web:
        for path, fields in forms:
            page = "/moderation/blocks" if path == "/moderation/block" else path
            r = await web.submit(page, path, fields, token=False)
            assert r.status_code == 403, path
            r = await web.submit(page, path, {**fields, "csrf": "forged"})
            assert r.status_code == 403, path
    assert await comments.state_of(w.a2.rt.db, cid) == "visible"
    assert not await actor_blocks.is_blocked(w.a2.rt.db, w.fake.uri("carol"))
    assert not w.a2.rt.policy.is_blocked("127.0.0.2")
    assert await log_entries(w) == before
    assert not w.fake.received_of("Flag")
    async with await signed_in(w, "mod") as web:
        assert "checked" not in (await web.get("/settings/moderation")).text


async def test_a_comment_approved_by_a_moderator_notifies_the_posts_author(world: World) -> None:
    w = world
    alice = await members.by_username(w.a2.rt.db, "alice")
    assert alice is not None
    async with await signed_in(w, "alice") as web:
        assert (await web.submit("/settings/moderation", "/settings/moderation", {"hold": "on"})).status_code == 303
    held_id, _ = await remote_reply(w, "carol", "Graag meer over de pilot")

    # Held: it is not news yet.
    async def replies_for_alice() -> list[Any]:
        return [n for n in await notifications.page(w.a2.rt.db, alice.id, 10) if n.kind == "reply"]

    assert await replies_for_alice() == []
    async with await signed_in(w, "mod") as web:
        assert (await moderate(web, held_id, "approve")).status_code == 303
    (notice,) = await replies_for_alice()
    assert notice.kind == "reply" and notice.object_url.endswith(f"#comment-{held_id}")
