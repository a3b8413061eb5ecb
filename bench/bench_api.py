"""The client API: `GET /api/v1/accounts/verify_credentials` with a member's bearer token.

    python bench/bench_api.py            # 500 requests per endpoint
    python bench/bench_api.py --quick    # 50

Seeded straight into SQLite as the issue sets it: 100 members, 10,000 posts and 100,000
comments (the measured member, alice, wrote 1,000 of the posts and 10,000 of the comments),
2,000 remote followers of alice, 50 remote accounts alice follows with 5,000 posts between them.
The token is made through the store (an app and a token hash), since the OAuth flow is not what
is measured.
  verify_credentials: the token check (one lookup of its hash, its app, the member), the
             member's counts (posts, comments, followers, following, last status: one
             statement), waiting follow requests. Target: <= 5 ms at p95.
  account statuses: GET /api/v1/accounts/:id/statuses?limit=40, alice's newest posts and
             comments as Statuses (for reference).
  home timeline: GET /api/v1/timelines/home?limit=40 (every member's posts, the posts of the 50
             accounts alice follows elsewhere, 5,000 of them, and her own comments), the first
             page and the fifth (paged by max_id). Target: <= 20 ms at p95.
Measured in-process (the ASGI app through httpx.ASGITransport: the server's own time) and over
HTTP against `fediverse-a2 serve` (the client's round trip on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, free_port, median, pct, serve_proc, workdir, write_config

TOKEN = "bench-token-0123456789abcdef0123456789abcdef"


async def seed(config: Path, n_members: int = 100, n_posts: int = 10_000, n_comments: int = 100_000) -> int:
    """The rows, straight into SQLite; returns alice's member id."""
    from fediverse_a2.accounts.tokens import token_hash
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.store import oauth_apps, oauth_tokens

    rt = await Runtime.open(load_config(config))
    base = rt.urls.base  # the members' comments are theirs: their ids and authors on this instance
    await rt.close()
    db = sqlite3.connect(config.parent / "data" / "db.sqlite3")
    now = time.time()
    year = 365 * 86400
    with db:
        db.executemany(
            "INSERT INTO members (id, username, name, summary, public_key_pem, created_at) VALUES (?, ?, ?, ?, '', ?)",
            [(i + 1, "alice" if i == 0 else f"lid{i}", f"Lid {i}", "Ambtenaar bij een gemeente.", now - year)
             for i in range(n_members)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO posts (id, member_id, title, body_md, content_html, published) VALUES (?, ?, ?, '', ?, ?)",
            [(i + 1, 1 if i % 10 == 0 else (i % (n_members - 1)) + 2, f"Bericht {i}",
              "<p>Een alinea over samenwerken in de overheid.</p>", now - year + i * (year / n_posts))
             for i in range(n_posts)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO comments (id, ap_id, url, post_id, author_uri, member_id, domain, content_html, published, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, '127.0.0.1', ?, ?, ?)",
            [(i + 1, f"{base}/comments/{i + 1}", f"{base}/comments/{i + 1}", (i % n_posts) + 1,
              f"{base}/users/{'alice' if i % 10 == 0 else f'lid{(i % (n_members - 1)) + 1}'}",
              1 if i % 10 == 0 else (i % (n_members - 1)) + 2, "<p>Mee eens.</p>",
              now - year + (i % n_posts) * (year / n_posts) + 60, now)
             for i in range(n_comments)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at) "
            "VALUES (1, ?, ?, NULL, ?, NULL, ?)",
            [(f"https://s{i % 50}.example/users/f{i}", f"https://s{i % 50}.example/users/f{i}/inbox",
              f"s{i % 50}.example", now) for i in range(2000)],
        )  # fmt: skip
        # Alice follows 50 accounts elsewhere, which posted 5,000 statuses (1,000 with an image).
        actors = [f"https://s{i % 10}.example/users/a{i}" for i in range(50)]
        db.executemany(
            "INSERT INTO actors (uri, domain, type, username, handle, name, inbox, fetched_at) "
            "VALUES (?, ?, 'Person', ?, ?, ?, ?, ?)",
            [(uri, uri.split("/")[2], uri.rsplit("/", 1)[1], f"@{uri.rsplit('/', 1)[1]}@{uri.split('/')[2]}",
              f"Collega {i}", f"{uri}/inbox", now) for i, uri in enumerate(actors)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO following (member_id, actor_uri, follow_id, state, created_at) "
            "VALUES (1, ?, ?, 'accepted', ?)",
            [(uri, f"{base}/users/alice#follows/{i}", now) for i, uri in enumerate(actors)],
        )
        image = '[{"url": "https://s1.example/media/1.jpg", "mediaType": "image/jpeg", "name": "Foto"}]'
        db.executemany(
            "INSERT INTO remote_posts (ap_id, actor_uri, content_html, url, published, received_at, attachments, "
            "public) VALUES (?, ?, '<p>Een bericht van elders.</p>', ?, ?, ?, ?, 1)",
            [(f"{actors[i % 50]}/statuses/{i}", actors[i % 50], f"{actors[i % 50]}/statuses/{i}",
              now - year + i * (year / 5000) + 30, now, image if i % 5 == 0 else "[]") for i in range(5000)],
        )  # fmt: skip
    db.close()
    rt = await Runtime.open(load_config(config))
    try:
        app = await oauth_apps.create(rt.db, client_id="bench", secret_hash="x" * 64, name="bench", website=None,
                                      redirect_uris=("app://cb",), scopes=("read", "write"))  # fmt: skip
        await oauth_tokens.add_token(rt.db, token_hash(TOKEN), app_id=app.id, member_id=1, scopes=("read", "write"))
    finally:
        await rt.close()
    return 1


async def measure(client: httpx.AsyncClient, member_id: int, n: int) -> dict[str, list[float]]:
    """`n` timed requests per endpoint, after 10 untimed ones."""
    paths = {
        "verify_credentials": "/api/v1/accounts/verify_credentials",
        "account statuses, limit 40": f"/api/v1/accounts/{member_id}/statuses?limit=40",
        "home timeline, limit 40": "/api/v1/timelines/home?limit=40",
        "home timeline, page 5": "",  # filled in below: max_id of the 4th page
    }
    cursor = ""
    for _ in range(4):  # the fifth page down: paging by max_id, as apps scroll
        r = await client.get(f"/api/v1/timelines/home?limit=40{cursor}")
        cursor = f"&max_id={r.json()[-1]['id']}"
    paths["home timeline, page 5"] = f"/api/v1/timelines/home?limit=40{cursor}"
    out: dict[str, list[float]] = {}
    for name, path in paths.items():
        times, cpu = [], []
        for i in range(n + 10):
            t, c = time.perf_counter(), time.process_time()
            r = await client.get(path)
            if i >= 10:
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            assert r.status_code == 200, (r.status_code, r.text[:300])
        out[name] = times
        out[f"{name} (CPU)"] = cpu  # in-process: the server's own CPU time, whatever else runs on the machine
    first = await client.get(paths["verify_credentials"])
    assert first.json()["statuses_count"] == 11_000, first.json()["statuses_count"]
    home = (await client.get(paths["home timeline, limit 40"])).json()
    assert len(home) == 40 and {s["account"]["acct"] for s in home} > {"alice"}, len(home)
    return out


async def in_process(config: Path, member_id: int, n: int) -> dict[str, list[float]]:
    from fediverse_a2.app import create_app
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime

    rt = await Runtime.open(load_config(config))
    try:
        app = create_app(rt, run_workers=False)
        gc.collect()
        gc.freeze()  # as `serve` does once it has started (server.py)
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url=rt.config.instance.base_url, headers=headers) as c:
            return await measure(c, member_id, n)
    finally:
        gc.unfreeze()
        await rt.close()


async def over_http(port: int, member_id: int, n: int) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        return await measure(client, member_id, n)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    n = 50 if args.quick else args.n
    rep = Report("bench_api", save=not (args.quick or args.no_save))
    with workdir("api") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        started = time.perf_counter()
        member_id = await seed(config)
        rep.line(f"seeded in {time.perf_counter() - started:.1f} s: 100 members, 10,000 posts, 100,000 comments, "
                 "2,000 followers of the measured member (1,000 posts, 10,000 comments)")  # fmt: skip
        rep.line(f"{n} requests per endpoint")
        inproc = await in_process(config, member_id, n)
        with serve_proc(config, port, folder / "serve.log") as proc:
            proc.start("/.well-known/nodeinfo")
            http = await over_http(port, member_id, n)
    rep.line(f"{'request':36} {'in-process median/p95 ms':>26} {'HTTP median/p95 ms':>22}")
    for name in inproc:
        a = inproc[name]
        b = http.get(name)
        remote = f"{median(b) * 1e3:9.2f} / {pct(b, 95) * 1e3:6.2f}" if b and "CPU" not in name else ""
        rep.line(f"{name:36} {median(a) * 1e3:12.2f} / {pct(a, 95) * 1e3:6.2f}     {remote}")
    home, home_cpu = pct(inproc["home timeline, limit 40"], 95), pct(inproc["home timeline, limit 40 (CPU)"], 95)
    rep.line(f"RESULT home timeline (40 statuses) p95 {home * 1e3:.2f} ms server time "
             f"({home_cpu * 1e3:.2f} ms of CPU), {pct(http['home timeline, limit 40'], 95) * 1e3:.2f} ms over HTTP "
             f"(target <= 20 ms: {'MET' if home <= 0.020 else 'NOT MET'})")  # fmt: skip
    verify, cpu = pct(inproc["verify_credentials"], 95), pct(inproc["verify_credentials (CPU)"], 95)
    rep.line(f"RESULT verify_credentials p95 {verify * 1e3:.2f} ms server time ({cpu * 1e3:.2f} ms of CPU), "
             f"{pct(http['verify_credentials'], 95) * 1e3:.2f} ms over HTTP "
             f"(target <= 5 ms: {'MET' if verify <= 0.005 else 'NOT MET'}; "
             f"{os.getloadavg()[0]:.1f} load average at the end)")  # fmt: skip
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
