"""Operating costs: a backup of a sizeable instance (create, verify, restore), and what /healthz
and /metrics cost when the queues are long.

    python bench/bench_ops.py            # 10,000 posts, 100,000 comments, 300 media files of 200 kB
    python bench/bench_ops.py --quick    # a tenth of that

Seeded straight into an SQLite database (no `serve`): members, posts and comments of about
150 and 30 words, media files of random bytes (incompressible, like JPEGs). Then each
`fediverse-a2 backup` command runs as a CLI process, timed from start to exit: create (while
nothing else runs), verify, restore into an empty second folder. Printed: time, archive size,
MB/s of what was read. Target: a backup and a restore of this instance each within a minute.

Then the queues are filled (100,000 pending deliveries, 10,000 queued inbox items, half of
each leased) and `fediverse-a2 serve` answers `/healthz` and `/metrics` 100 times each, one at
a time over one keep-alive connection. Printed: median and p95. Target: p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HttpConn, Report, free_port, get_request, median, pct, run_cli, serve_proc, workdir, write_config

WORDS = [
    "gemeente",
    "ambtenaar",
    "netwerk",
    "beleid",
    "burger",
    "overheid",
    "samenwerking",
    "project",
    "idee",
    "open",
    "data",
    "privacy",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def seed(database: Path, posts: int, comments: int) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(database)
    now = time.time()
    with conn:
        member = conn.execute(
            "INSERT INTO members (username, name, public_key_pem, created_at) VALUES ('alice', 'Alice', '', ?) "
            "RETURNING id",
            (now,),
        ).fetchone()[0]
        conn.executemany(
            "INSERT INTO posts (member_id, title, body_md, content_html, published) VALUES (?, ?, ?, ?, ?)",
            [
                (member, _text(rng, 6), body, f"<p>{body}</p>", now - i)
                for i in range(posts)
                for body in [_text(rng, 150)]
            ],
        )
        conn.executemany(
            "INSERT INTO comments (ap_id, post_id, author_uri, domain, content_html, published, created_at) "
            "VALUES (?, ?, ?, 'r.test', ?, ?, ?)",
            [
                (
                    f"https://r.test/c/{i}",
                    1 + i % posts,
                    f"https://r.test/u/{i % 500}",
                    f"<p>{_text(rng, 30)}</p>",
                    now,
                    now,
                )
                for i in range(comments)
            ],
        )
    conn.close()


def fill_queues(database: Path, deliveries: int, inbox: int) -> None:
    conn = sqlite3.connect(database)
    now = time.time()
    with conn:
        activity = conn.execute(
            "INSERT INTO activities (ap_id, member_id, type, body, created_at) VALUES ('https://x/a/1', 1, 'Create', "
            "'{}', ?) RETURNING id",
            (now,),
        ).fetchone()[0]
        conn.executemany(
            "INSERT INTO deliveries (activity_id, inbox, domain, next_attempt_at, locked_until, attempts, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (activity, f"https://r{i % 1000}.test/inbox/{i}", f"r{i % 1000}.test", now - i % 600,
                 now + 60 if i % 2 else None, i % 3, now - 600, now)
                for i in range(deliveries)
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO inbox_items (activity_id, actor_uri, domain, body, received_at, locked_until) "
            "VALUES (?, 'https://r.test/u', 'r.test', '{}', ?, ?)",
            [(f"https://r.test/a/{i}", now - i % 300, now + 60 if i % 2 else None) for i in range(inbox)],
        )
    conn.close()


def timed(config: Path, *args: str) -> float:
    started = time.perf_counter()
    run_cli(config, *args, timeout=600)
    return time.perf_counter() - started


async def scrape(port: int, path: str, count: int) -> list[float]:
    conn = await HttpConn.open(port)
    request = get_request(port, path)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            status, _, _ = await conn.send(request)
            times.append(time.perf_counter() - started)
            assert status == 200, status
    finally:
        await conn.close()
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    posts, comments, media, media_kb = 10_000 // scale, 100_000 // scale, 300 // scale, 200
    rep = Report("bench_ops", save=not (args.quick or args.no_save))
    with workdir("ops") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        run_cli(config, "member", "list")  # creates and migrates the database, and the instance key
        database = folder / "a2" / "data" / "db.sqlite3"
        seed(database, posts, comments)
        (folder / "a2" / "media").mkdir()
        for i in range(media):
            (folder / "a2" / "media" / f"{i:06x}.jpg").write_bytes(os.urandom(media_kb * 1024))
        db_mb = database.stat().st_size / 1e6
        media_mb = media * media_kb * 1024 / 1e6
        rep.line(
            f"instance: {posts} posts, {comments} comments: database {db_mb:.1f} MB; "
            f"{media} media files {media_mb:.1f} MB"
        )
        archive = folder / "backup.tar.gz"
        created = timed(config, "backup", "create", str(archive))
        size = archive.stat().st_size / 1e6
        verified = timed(config, "backup", "verify", str(archive))
        other = write_config(folder / "b", port)
        restored = timed(other, "backup", "restore", str(archive))
        total = db_mb + media_mb
        for name, seconds in (("create", created), ("verify", verified), ("restore", restored)):
            rep.line(f"backup {name:8s} {seconds:6.2f} s  ({total / seconds:6.1f} MB/s of {total:.1f} MB)")
        rep.line(f"archive {size:.1f} MB ({size / total:.2f} of the data)")

        fill_queues(database, 100_000 // scale, 10_000 // scale)
        rep.line(f"queues: {100_000 // scale} pending deliveries, {10_000 // scale} queued inbox items (half leased)")
        with serve_proc(config, port, folder / "serve.log") as server:
            server.start("/healthz")
            for path in ("/healthz", "/metrics"):
                times = await scrape(port, path, 100 // scale)
                rep.line(f"GET {path:9s} median {median(times) * 1000:6.1f} ms  p95 {pct(times, 95) * 1000:6.1f} ms")
    rep.write()


if __name__ == "__main__":
    asyncio.run(main())
