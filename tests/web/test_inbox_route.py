"""The inbox's lean ASGI route (web/inbox_route.py), through a live server: it answers only the
inbox's two paths, keeps the headers every answer gets, and leaves every other path to Starlette.

The checks themselves (signature, digest, policy, size, origins ...) are tested through this
same route in tests/federation/test_hostile.py and tests/web/test_seams*.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hostile import AP, World, assert_4xx, cavage, dumps, key_id, make_world, post_raw, rsa_key


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path / "a2") as w:
        yield w


async def test_only_post_is_allowed_on_both_inboxes(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for url in (world.inbox, f"{world.alice}/inbox"):
            for method in ("GET", "PUT", "DELETE"):
                r = await client.request(method, url)
                assert r.status_code == 405, (method, url)
                assert r.headers["allow"] == "POST"
                assert r.headers["x-content-type-options"] == "nosniff"
    await world.nothing_stored()


async def test_answers_carry_the_security_headers_and_a_json_reason(world: World) -> None:
    body = dumps(world.reply("carol"))
    refused = await post_raw(world.inbox, body, {"Content-Type": "text/plain"})
    assert_4xx(refused, 415, "text/plain")
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert "content type" in refused.json()["error"]
    taken = await world.send("carol", world.reply("carol"))
    assert taken.status_code == 202 and taken.content == b""
    assert taken.headers["x-content-type-options"] == "nosniff"
    assert taken.headers["content-length"] == "0"


async def test_a_personal_inbox_needs_a_member_and_one_path_segment(world: World) -> None:
    body = dumps(world.reply("carol"))
    headers = cavage(rsa_key("carol"), key_id(world.fake, "carol"), f"{world.a2.base_url}/users/nobody/inbox", body)
    assert_4xx(await post_raw(f"{world.a2.base_url}/users/nobody/inbox", body, headers), 404, "unknown member")
    # Not an inbox path: Starlette's router answers (no route: 404), the inbox never reads it.
    nested = f"{world.a2.base_url}/users/alice/x/inbox"
    r = await post_raw(nested, body, {"Content-Type": AP})
    assert r.status_code == 404
    await world.nothing_stored()
    # A member's inbox takes a reply signed for that inbox's own URL.
    alice_inbox = f"{world.alice}/inbox"
    assert (await world.send("carol", world.reply("carol"), inbox=alice_inbox)).status_code == 202
    assert await world.count("inbox_items") == 1


async def test_a_body_sent_in_chunks_is_read_whole(world: World) -> None:
    activity = world.reply("carol", "<p>" + "in stukken " * 2000 + "</p>")
    body = dumps(activity)
    headers = world.fake.signed_headers("carol", "POST", world.inbox, body)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    assert (await post_raw(world.inbox, pieces(), headers)).status_code == 202
    await world.drain()
    assert await world.count("comments") == 1
