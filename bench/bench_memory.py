"""Peak memory of `serve` holding 10,000 followers and 100,000 comments.

    python bench/bench_memory.py            # 10,000 followers, 100,000 comments on 200 posts
    python bench/bench_memory.py --quick    # a tenth of that

Loaded straight into the database before `serve` starts (the comments spread over 200 posts,
500 each, threaded, from 50 remote actors). Then, against `serve` in its own process: the home
page, a post page (500 comments, HTML), the post as JSON, replies pages, the followers
collection and its last page, the profile, and signed inbox POSTs (a Create reply from a
remote actor served by a key server on 127.0.0.1, so the key fetch and the inbox worker run
too). VmHWM of /proc/PID/status is read at the end (and VmRSS after start).
Reference: VmHWM of the bare Starlette + uvicorn app (bench/_bare.py) after a few requests.
Target: <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HttpConn,
    Report,
    bare_proc,
    free_port,
    get_request,
    post_request,
    proc_status,
    serve_proc,
    workdir,
    write_config,
)
from bench_inbox import AP, KeyServer
from bench_pages import BROWSER, HTML, seed


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    followers, comments, posts = 10_000 // scale, 100_000 // scale, 200 // scale
    rep = Report("bench_memory", save=not (args.quick or args.no_save))
    ks = KeyServer(2)
    try:
        with workdir("memory") as folder:
            port = free_port()
            config = write_config(folder / "a2", port)
            t = time.perf_counter()
            first = await seed(config, followers=followers, comments=comments, posts=posts, comment_posts=posts)
            db_mb = (folder / "a2" / "data" / "db.sqlite3").stat().st_size / 2**20
            rep.line(
                f"seeded {followers:,} followers, {comments:,} comments on {posts} posts in "
                f"{time.perf_counter() - t:.1f} s; database file {db_mb:.0f} MB"
            )
            base = f"http://127.0.0.1:{port}"
            inbox_requests = []
            from fediverse_a2.signatures import sign_headers

            for i in range(20):
                name = f"a{i % 2}"
                body = ks.create_reply(name, i, f"{base}/posts/{first}")
                headers = sign_headers("POST", f"{base}/inbox", body, f"{ks.uri(name)}#main-key", ks.keys[name])
                inbox_requests.append(post_request("/inbox", {**headers, "Content-Type": AP}, body))
            with serve_proc(config, port, folder / "serve.log") as proc:
                proc.start("/.well-known/nodeinfo")
                after_start = proc_status(proc.pid)
                conn = await HttpConn.open(port)
                plan = [
                    ("/", HTML),
                    (f"/posts/{first}", HTML),
                    (f"/posts/{first}", AP),
                    (f"/posts/{first}/replies", AP),
                    (f"/posts/{first}/replies?page=1", AP),
                    (f"/posts/{first}/replies?page=10", AP),
                    (f"/posts/{first + posts - 1}", HTML),
                    ("/users/alice", HTML),
                    ("/users/alice", AP),
                    ("/users/alice/followers", AP),
                    ("/users/alice/followers?page=1", AP),
                    (f"/users/alice/followers?page={followers // 50}", AP),
                    ("/users/alice/outbox?page=1", AP),
                    ("/feed.atom", ""),
                ]
                statuses = []
                for _ in range(5):
                    for path, accept in plan:
                        status, _, _ = await conn.send(get_request(port, path, accept or None, BROWSER))
                        statuses.append(status)
                for raw in inbox_requests:
                    status, _, _ = await conn.send(raw)
                    statuses.append(status)
                # Let the inbox worker store the replies, then read the peak.
                stored = False
                for _ in range(100):
                    status, _, body = await conn.send(get_request(port, f"/posts/{first}/replies", AP))
                    if status == 200 and orjson.loads(body)["totalItems"] >= comments // posts + len(inbox_requests):
                        stored = True
                        break
                    await asyncio.sleep(0.1)
                await conn.close()
                peak = proc_status(proc.pid)
            bad = [s for s in statuses if s >= 400]
        bare_port = free_port()
        with bare_proc(bare_port, Path("/dev/null")) as bare:
            bare.start("/")
            conn = await HttpConn.open(bare_port)
            for _ in range(50):
                await conn.send(get_request(bare_port, "/"))
            await conn.close()
            ref = proc_status(bare.pid)
    finally:
        ks.close()
    hwm = peak["VmHWM"] / 1024
    rep.line(
        f"serve: VmRSS after start {after_start['VmRSS'] / 1024:.1f} MB; VmHWM after the requests {hwm:.1f} MB; "
        f"{len(statuses)} requests, {len(bad)} with 4xx/5xx {sorted(set(bad))}; inbox replies stored: {stored}"
    )
    rep.line(f"reference: bare Starlette + uvicorn VmHWM {ref['VmHWM'] / 1024:.1f} MB")
    rep.line(
        f"RESULT peak RSS {hwm:.1f} MB = {hwm / (ref['VmHWM'] / 1024):.2f}x the bare app, "
        f"{hwm / 150:.2f} of the 150 MB target: {'MET' if hwm <= 150 else 'NOT MET'}"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
