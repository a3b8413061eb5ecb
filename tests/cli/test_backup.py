"""Backups of a running instance, restored elsewhere, on SQLite and on PostgreSQL.

A real `serve` receives signed replies from a Mastodon-shaped remote without pause and is in
the middle of a fan-out to a slow inbox when `backup create` runs. The archive is then
restored into a second instance folder (a second database) at the same address, and that
instance is started: every post, comment, follower and key is there, every reply the first
one had accepted before the backup began is processed, the deliveries that were queued go out,
and the remote accepts what the restored keys sign.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from fake_mastodon import FakeMastodon
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import follows
from helpers import CountingSink, ServiceProcess, last_line, serving, wait_for
from pg import DatabaseFactory

FOLLOWERS = 100


async def _with_db(server: ServiceProcess, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    rt = await Runtime.open(server.config())
    try:
        return [tuple(row) for row in await rt.db.fetchall(sql, params)]
    finally:
        await rt.close()


async def _followers(server: ServiceProcess, sink: CountingSink, count: int) -> None:
    rt = await Runtime.open(server.config())
    try:
        async with rt.db.transaction() as tx:
            for i in range(count):
                await follows.add_follower(
                    tx, 1, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
                )
    finally:
        await rt.close()


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class Replies:
    """Signed replies from the remote to the first instance, one after another, until stopped."""

    def __init__(self, fake: FakeMastodon, server: ServiceProcess, post_url: str) -> None:
        self.fake, self.server, self.post_url = fake, server, post_url
        self.accepted: list[tuple[float, str]] = []  # (when the 202 came, note id)
        self.statuses: list[int] = []
        self.stopping = False

    async def run(self) -> None:
        n = 0
        while not self.stopping:
            n += 1
            note = self.fake.note("carla", f"<p>Reactie {n} tijdens de back-up</p>", self.post_url)
            r = await self.fake.send("carla", f"{self.server.base_url}/inbox", self.fake.create("carla", note))
            self.statuses.append(r.status_code)
            if r.status_code == 202:
                self.accepted.append((time.time(), note["id"]))

    def before(self, moment: float) -> list[str]:
        return [note for at, note in self.accepted if at < moment]


async def test_a_backup_made_under_load_restores_elsewhere_whole(
    tmp_path: Path, database_factory: DatabaseFactory, backend: str
) -> None:
    sink = CountingSink(delay=0.1)
    fake = FakeMastodon()
    fake.add_user("carla", "Carla Jansen")
    archive = tmp_path / "backup.tar.gz"
    sections: dict[str, Any] = {"delivery": {"lease_seconds": 5, "per_host": 2}, "server": {"background": "process"}}
    first = ServiceProcess(tmp_path / "first", database=await database_factory(), **sections)
    async with serving(sink), serving(fake):
        first.cli("member", "add", "alice", "--name", "Alice de Vries")
        await _followers(first, sink, FOLLOWERS)
        media = first.folder / "media"
        media.mkdir()
        (media / "0123abcd.png").write_bytes(b"\x89PNG an uploaded image")
        await first.start()
        try:
            alice = f"{first.base_url}/users/alice"
            follow = {"id": fake.new_id("follows"), "type": "Follow", "actor": fake.uri("carla"), "object": alice}
            assert (await fake.send("carla", f"{alice}/inbox", {"@context": CONTEXT, **follow})).status_code == 202
            await wait_for(lambda: _accepted(fake), what="the Accept of carla's follow, signed by alice")
            post_url = last_line(first.cli("post", "alice", "--title", "Voor iedereen", "--body", "Hallo!"))
            replies = Replies(fake, first, post_url)
            traffic = asyncio.create_task(replies.run())
            try:
                await wait_for(lambda: _async(len(replies.accepted) >= 5), what="replies to arrive")
                first.cli("post", "alice", "--title", "Uitwaaieren", "--body", "Aan allen")
                await wait_for(lambda: _async(sum(sink.hits.values()) >= 10), what="the fan-out to be under way")
                started = time.time()
                made = await asyncio.to_thread(first.cli, "backup", "create", str(archive))
                assert "backed up to" in made.stdout
                in_flight = sum(sink.hits.values())
                assert in_flight < FOLLOWERS, "the fan-out ended before the backup; make the sink slower"
            finally:
                replies.stopping = True
                await traffic
            expected_replies = replies.before(started)
            assert set(replies.statuses) == {202}
        finally:
            first.stop()
        keys = _files(first.folder / "keys")
        assert len(keys) == 2  # alice and the instance actor

        # Elsewhere: another folder and database, the same address (the keys name it).
        second = ServiceProcess(tmp_path / "second", database=await database_factory(), port=first.port, **sections)
        restored = second.cli("backup", "restore", str(archive))
        assert "restored" in restored.stdout
        assert _files(second.folder / "keys") == keys
        assert _files(second.folder / "media") == _files(media)
        pending = await _with_db(second, "SELECT inbox FROM deliveries WHERE state = 'pending'")
        assert len(pending) > 0, "the backup holds no queued deliveries"
        posts = await _with_db(second, "SELECT title FROM posts ORDER BY id")
        assert [title for (title,) in posts] == ["Voor iedereen", "Uitwaaieren"]
        followers = await _with_db(second, "SELECT actor_uri FROM followers")
        assert len(followers) == FOLLOWERS + 1 and (fake.uri("carla"),) in followers

        sent_before = sum(sink.hits.values())
        await second.start()
        try:
            # Every reply the first instance accepted before the backup began is a comment here.
            async def processed() -> bool:
                rows = await _with_db(second, "SELECT ap_id FROM comments")
                return set(expected_replies) <= {ap_id for (ap_id,) in rows}

            await wait_for(processed, timeout=60, what="the replies accepted before the backup to be processed")
            # The queued deliveries resume: every follower's inbox gets the fan-out.
            await wait_for(
                lambda: _async(len(sink.hits) == FOLLOWERS), timeout=60, what="every queued delivery to go out"
            )
            assert sum(sink.hits.values()) > sent_before
            await _drained(second)
            # The restored keys sign what the remote accepts: a new post reaches carla, verified.
            received = len(fake.received)
            new_post = last_line(second.cli("post", "alice", "--title", "Na het terugzetten", "--body", "Weer thuis"))
            await wait_for(
                lambda: _async(any(_object_id(a) == new_post for a in fake.received[received:])),
                what="the new post to reach the remote",
            )
            [create] = [a for a in fake.received[received:] if _object_id(a) == new_post]
            assert create["_key_id"] == f"{second.base_url}/users/alice#main-key"
            # Only the first knock in RFC 9421 (which this remote does not speak) was refused, never a signature.
            assert set(fake.refused) <= {"not a draft-cavage signature"}
        finally:
            second.stop()
    fake.sock.close()


CONTEXT = "https://www.w3.org/ns/activitystreams"


def _object_id(activity: dict[str, Any]) -> str | None:
    obj = activity.get("object")
    return obj.get("id") if isinstance(obj, dict) else obj


async def _accepted(fake: FakeMastodon) -> bool:
    return any(a.get("type") == "Accept" for a in fake.received)


async def _drained(server: ServiceProcess) -> None:
    async def none_left() -> bool:
        return await _with_db(server, "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'") == [(0,)]

    await wait_for(none_left, timeout=60, what="the delivery queue to drain")


async def _async(value: bool) -> bool:
    return value
