"""Pruning raw inbox bodies after `inbox.keep_raw_days`: dedupe and tombstones still hold.

Everything goes through the real inbox route (signed by a fake Mastodon) and the inbox
worker; only the age of the stored items is changed, by moving their received_at back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.config import ConfigError, parse_config
from fediverse_a2.federation.pruning import DAY, InboxPruner
from hostile import World, make_world


@pytest.fixture
async def world(tmp_path: Path, database_url: str | None) -> AsyncIterator[World]:
    async with make_world(tmp_path, database=database_url, inbox={"keep_raw_days": 30}) as w:
        yield w


async def _age(world: World, days: float) -> None:
    await world.a2.rt.db.execute("UPDATE inbox_items SET received_at = received_at - ?", (days * DAY,))


async def _bodies(world: World) -> list[tuple[str, bool, bool]]:
    rows = await world.a2.rt.db.fetchall("SELECT activity_id, body, document FROM inbox_items ORDER BY id")
    return [(r["activity_id"], r["body"] != "", r["document"] is not None) for r in rows]


async def test_old_bodies_are_pruned_and_dedupe_and_tombstones_still_hold(world: World) -> None:
    fake = world.fake
    reply = world.reply("carol", "<p>Bewaard</p>")
    gone = fake.note("carol", "<p>Weg ermee</p>", world.post_url)
    delete = {
        "id": f"{gone['id']}#delete",
        "type": "Delete",
        "actor": fake.uri("carol"),
        "object": {"id": gone["id"], "type": "Tombstone"},
    }
    for activity in (reply, delete):
        assert (await world.send("carol", activity)).status_code == 202
    await world.drain()
    assert await world.count("comments") == 1
    assert await world.count("tombstones", "ap_id = ?", (gone["id"],)) == 1

    pruner = InboxPruner(world.a2.rt)
    assert await pruner.run_once() == 0  # nothing is 30 days old yet
    await _age(world, 31)
    # A fresh item that is still queued keeps its body whatever its age.
    late = world.reply("carol", "<p>Nog niet verwerkt</p>")
    assert (await world.send("carol", late)).status_code == 202
    await _age(world, 31)
    assert await pruner.run_due() == 2
    assert await pruner.run_due() == 0  # not due again within the hour
    assert await _bodies(world) == [
        (reply["id"], False, False),
        (delete["id"], False, False),
        (late["id"], True, False),
    ]
    await world.drain()

    # Dedupe: the same activity again is accepted and not stored or handled a second time.
    assert (await world.send("carol", reply)).status_code == 202
    await world.drain()
    assert await world.count("inbox_items") == 3
    assert await world.count("comments") == 2  # the reply and the late one, each once
    # The tombstone: the deleted note, sent again under a new activity id, stays deleted.
    assert (await world.send("carol", fake.create("carol", gone))).status_code == 202
    await world.drain()
    assert await world.count("comments") == 2
    assert await world.count("tombstones", "ap_id = ?", (gone["id"],)) == 1
    page = await world.page()
    assert "Weg ermee" not in page and "Bewaard" in page


async def test_keep_raw_days_zero_keeps_every_body(tmp_path: Path) -> None:
    async with make_world(tmp_path, inbox={"keep_raw_days": 0}) as world:
        assert (await world.send("carol", world.reply("carol"))).status_code == 202
        await world.drain()
        await _age(world, 10_000)
        assert await InboxPruner(world.a2.rt).run_due() == 0
        assert [has_body for _, has_body, _ in await _bodies(world)] == [True]


def test_keep_raw_days_is_a_checked_config_key(tmp_path: Path) -> None:
    assert parse_config({}, tmp_path).inbox.keep_raw_days == 30
    assert parse_config({"inbox": {"keep_raw_days": 7}}, tmp_path).inbox.keep_raw_days == 7
    with pytest.raises(ConfigError, match=r"inbox\.keep_raw_days"):
        parse_config({"inbox": {"keep_raw_days": "30"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"inbox\.keep_raw_days"):
        parse_config({"inbox": {"keep_raw_days": -1}}, tmp_path)
    with pytest.raises(ConfigError, match=r"inbox\.keep_days"):
        parse_config({"inbox": {"keep_days": 3}}, tmp_path)
