"""Pages and collections: a post with 500 threaded comments, its replies collection, and a
member with 10,000 followers, in both negotiation forms where both exist.

    python bench/bench_pages.py            # 200 requests per endpoint and mode
    python bench/bench_pages.py --quick    # 20

Seeded straight into the database: one member with 10,000 followers, 20 posts, the first one
with 500 comments from 50 remote actors, threaded (every third comment answers an earlier one).
Each endpoint is requested one request at a time, in two ways:
  in-process: the ASGI app (create_app, no workers) through httpx.ASGITransport; the time is
              the request as the app sees it plus httpx's own small overhead (gc.freeze()
              after start-up, as `serve` does);
  HTTP:       `fediverse-a2 serve` as a separate process, one keep-alive connection from a raw
              HTTP/1.1 client; the time is the client's round trip on 127.0.0.1.
Printed: median and p95 per endpoint and mode, in ms. Target: <= 20 ms per request.
Reference: GET / of the bare Starlette app (bench/_bare.py) over the same HTTP client.
The HTML post page is asked for with a browser User-Agent, so every request counts a view.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HttpConn,
    Report,
    bare_proc,
    free_port,
    get_request,
    median,
    pct,
    serve_proc,
    workdir,
    write_config,
)

AP = "application/activity+json"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def endpoints(post_id: int) -> list[tuple[str, str, str]]:
    return [
        ("home (HTML)", "/", HTML),
        ("post, 500 comments (HTML)", f"/posts/{post_id}", HTML),
        ("post Note (AP JSON)", f"/posts/{post_id}", AP),
        ("replies head (AP JSON)", f"/posts/{post_id}/replies", AP),
        ("replies page 1 (AP JSON)", f"/posts/{post_id}/replies?page=1", AP),
        ("replies page 10, last (AP JSON)", f"/posts/{post_id}/replies?page=10", AP),
        ("profile (HTML)", "/users/alice", HTML),
        ("actor (AP JSON)", "/users/alice", AP),
        ("followers head (AP JSON)", "/users/alice/followers", AP),
        ("followers page 1 (AP JSON)", "/users/alice/followers?page=1", AP),
        ("followers page 200, last (AP JSON)", "/users/alice/followers?page=200", AP),
    ]


async def seed(config: Path, followers: int, comments: int, posts: int = 20, comment_posts: int = 1) -> int:
    """Member, posts, followers, remote actors and threaded comments; returns the first post's id."""
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.members import add_member
    from fediverse_a2.store import posts as post_store

    rt = await Runtime.open(load_config(config))
    try:
        member = await add_member(rt, "alice", "Alice de Vries")
        body = "Een alinea over samenwerken in de overheid. " * 30
        from fediverse_a2.content import render_markdown

        html = render_markdown(body)
        ids = [await post_store.create(rt.db, member.id, f"Bericht {i}", body, html) for i in range(posts)]
    finally:
        await rt.close()
    db = sqlite3.connect(config.parent / "data" / "db.sqlite3")
    now = time.time()
    with db:
        db.executemany(
            "INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    member.id,
                    f"https://s{i % 300}.example/users/f{i}",
                    f"https://s{i % 300}.example/users/f{i}/inbox",
                    f"https://s{i % 300}.example/inbox",
                    f"s{i % 300}.example",
                    None,
                    now,
                )
                for i in range(followers)
            ],
        )
        actors = [f"https://m{i % 10}.example/users/a{i}" for i in range(50)]
        db.executemany(
            "INSERT INTO actors (uri, domain, type, username, handle, name, summary, url, icon, inbox, shared_inbox, "
            "followers_url, fetched_at) VALUES (?, ?, 'Person', ?, ?, ?, '', ?, NULL, ?, ?, NULL, ?)",
            [
                (
                    a,
                    a.split("/")[2],
                    a.rsplit("/", 1)[1],
                    f"@{a.rsplit('/', 1)[1]}@{a.split('/')[2]}",
                    f"Ambtenaar {i}",
                    a,
                    f"{a}/inbox",
                    f"https://{a.split('/')[2]}/inbox",
                    now,
                )
                for i, a in enumerate(actors)
            ],
        )
        per_post = comments // comment_posts
        for p in range(comment_posts):
            post_id = ids[p]
            first = db.execute("SELECT COALESCE(MAX(id), 0) FROM comments").fetchone()[0] + 1
            rows = []
            for i in range(per_post):
                cid = first + i
                parent = first + (i * 7919) % i if i % 3 == 2 else None  # answers an earlier comment
                author = actors[(p + i) % len(actors)]
                rows.append(
                    (
                        cid,
                        f"{author}/statuses/{p}-{i}",
                        f"{author}/{p}-{i}",
                        post_id,
                        parent,
                        author,
                        None,
                        author.split("/")[2],
                        f"<p>Reactie {i}: mee eens, en dan nog dit over samenwerken.</p>",
                        None,
                        now - per_post + i,
                        None,
                        now,
                    )
                )
            db.executemany(
                "INSERT INTO comments (id, ap_id, url, post_id, parent_id, author_uri, member_id, domain, "
                "content_html, summary, published, updated, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    db.close()
    return ids[0]


async def in_process(config: Path, post_id: int, n: int) -> dict[str, list[float]]:
    import httpx

    from fediverse_a2.app import create_app
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime

    rt = await Runtime.open(load_config(config))
    out: dict[str, list[float]] = {}
    try:
        app = create_app(rt, run_workers=False)
        gc.collect()
        gc.freeze()  # as `serve` does once it has started (server.py)
        base = rt.config.instance.base_url
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base) as client:
            for name, path, accept in endpoints(post_id):
                headers = {"Accept": accept, "User-Agent": BROWSER}
                for _ in range(3):
                    r = await client.get(path, headers=headers)
                    assert r.status_code == 200, (name, r.status_code, r.text[:200])
                times = []
                for _ in range(n):
                    t = time.perf_counter()
                    await client.get(path, headers=headers)
                    times.append(time.perf_counter() - t)
                out[name] = times
    finally:
        gc.unfreeze()
        await rt.close()
    return out


async def over_http(port: int, post_id: int, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    conn = await HttpConn.open(port)
    try:
        for name, path, accept in endpoints(post_id):
            raw = get_request(port, path, accept, BROWSER)
            for _ in range(3):
                status, _, _ = await conn.send(raw)
                assert status == 200, (name, status)
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await conn.send(raw)
                times.append(time.perf_counter() - t)
            out[name] = times
    finally:
        await conn.close()
    return out


async def bare_reference(folder: Path, n: int) -> list[float]:
    port = free_port()
    with bare_proc(port, folder / "bare.log") as proc:
        proc.start("/")
        conn = await HttpConn.open(port)
        raw = get_request(port, "/", HTML, BROWSER)
        times = []
        for _ in range(n + 3):
            t = time.perf_counter()
            await conn.send(raw)
            times.append(time.perf_counter() - t)
        await conn.close()
    return times[3:]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    n = 20 if args.quick else args.n
    rep = Report("bench_pages", save=not (args.quick or args.no_save))
    with workdir("pages") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        post_id = await seed(config, followers=10_000, comments=500)
        rep.line(f"seeded: 10,000 followers, 20 posts, 500 threaded comments on post {post_id}; {n} requests each")
        inproc = await in_process(config, post_id, n)
        with serve_proc(config, port, folder / "serve.log") as proc:
            proc.start("/.well-known/nodeinfo")
            http = await over_http(port, post_id, n)
        ref = await bare_reference(folder, n)
    rep.line(f"{'endpoint':38} {'in-process median/p95 ms':>26} {'HTTP median/p95 ms':>22}")
    worst = 0.0
    for name in inproc:
        a, b = inproc[name], http[name]
        worst = max(worst, pct(a, 95), pct(b, 95))
        rep.line(
            f"{name:38} {median(a) * 1e3:12.2f} / {pct(a, 95) * 1e3:6.2f}     "
            f"{median(b) * 1e3:9.2f} / {pct(b, 95) * 1e3:6.2f}"
        )
    rep.line(
        f"{'reference: bare Starlette GET / (HTTP)':38} {'':26} {median(ref) * 1e3:9.2f} / {pct(ref, 95) * 1e3:6.2f}"
    )
    slowest = max(inproc, key=lambda k: max(median(inproc[k]), median(http[k])))
    sm = max(median(inproc[slowest]), median(http[slowest]))
    verdict = "MET" if worst <= 0.020 else ("MET at the median" if sm <= 0.020 else "NOT MET")
    rep.line(
        f"RESULT slowest median {sm * 1e3:.2f} ms ({slowest}) = {sm / median(ref):.1f}x the bare reference; "
        f"worst p95 {worst * 1e3:.2f} ms; target <= 20 ms: {verdict}"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
