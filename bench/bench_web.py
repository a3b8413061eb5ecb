"""Members on the web: signing in, and a signed-in member's post page with 500 comments.

    python bench/bench_web.py            # 100 sign-ins, 200 page requests per mode
    python bench/bench_web.py --quick    # 10 and 20

Seeded as bench_pages.py does (one member with 10,000 followers, 20 posts, the first with 500
threaded comments from 50 remote actors); the member gets a password.
  sign-in:   POST /login with username, password and the form's token, as a browser sends it
             (the token comes from a GET /login first, not timed). Most of it is the argon2id
             verification (t=3, m=32 MiB, p=2) by design. Target: <= 100 ms of server time.
  post page: GET /posts/ID as the signed-in member (session cookie: the page then carries the
             comment form, reply links and the sign-out form), beside the same page for a visitor.
             Target: <= 20 ms, like a visitor's.
Both are measured in-process (the ASGI app through httpx.ASGITransport: the server's own time)
and over HTTP against `fediverse-a2 serve` (the client's round trip on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, free_port, median, pct, serve_proc, workdir, write_config
from bench_pages import BROWSER, HTML, seed

PASSWORD = "een lang en goed wachtwoord"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def set_password(config: Path) -> None:
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.accounts import set_password as set_it
    from fediverse_a2.store import members

    rt = await Runtime.open(load_config(config))
    try:
        member = await members.by_username(rt.db, "alice")
        assert member is not None
        await set_it(rt, member, PASSWORD)
    finally:
        await rt.close()


async def measure(client: httpx.AsyncClient, post_id: int, sign_ins: int, n: int) -> dict[str, list[float]]:
    """Sign in `sign_ins` times, then request the post page `n` times signed in and as a visitor."""
    base = str(client.base_url).rstrip("/")
    out: dict[str, list[float]] = {"sign-in (POST /login)": []}
    for _ in range(sign_ins + 2):
        page = await client.get("/login")
        token = _CSRF.search(page.text)
        assert token, page.text[:300]
        form = {"username": "alice", "password": PASSWORD, "csrf": token.group(1)}
        t = time.perf_counter()
        r = await client.post("/login", data=form, headers={"Origin": base})
        out["sign-in (POST /login)"].append(time.perf_counter() - t)
        assert r.status_code == 303, (r.status_code, r.text[:300])
    del out["sign-in (POST /login)"][:2]  # warm-up
    path = f"/posts/{post_id}"
    for name, cookies in (("post, 500 comments, signed in", True), ("post, 500 comments, visitor", False)):
        saved = list(client.cookies.jar)
        if not cookies:
            client.cookies.clear()
        first = await client.get(path)
        assert first.status_code == 200
        assert ("logout" in first.text) == cookies, "the page is not the one asked for"
        times = []
        for _ in range(n):
            t = time.perf_counter()
            r = await client.get(path)
            times.append(time.perf_counter() - t)
        assert r.status_code == 200
        out[name] = times
        for cookie in saved:
            client.cookies.jar.set_cookie(cookie)
    return out


async def in_process(config: Path, post_id: int, sign_ins: int, n: int) -> dict[str, list[float]]:
    from fediverse_a2.app import create_app
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime

    rt = await Runtime.open(load_config(config))
    try:
        app = create_app(rt, run_workers=False)
        gc.collect()
        gc.freeze()  # as `serve` does once it has started (server.py)
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
        headers = {"Accept": HTML, "User-Agent": BROWSER}
        base = rt.config.instance.base_url
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=headers) as client:
            return await measure(client, post_id, sign_ins, n)
    finally:
        gc.unfreeze()
        await rt.close()


async def over_http(port: int, post_id: int, sign_ins: int, n: int) -> dict[str, list[float]]:
    headers = {"Accept": HTML, "User-Agent": BROWSER}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        return await measure(client, post_id, sign_ins, n)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--sign-ins", type=int, default=100)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    n, sign_ins = (20, 10) if args.quick else (args.n, args.sign_ins)
    rep = Report("bench_web", save=not (args.quick or args.no_save))
    with workdir("web") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        post_id = await seed(config, followers=10_000, comments=500)
        await set_password(config)
        rep.line(f"seeded: 10,000 followers, 20 posts, 500 threaded comments on post {post_id}")
        rep.line(f"{sign_ins} sign-ins, {n} page requests per mode")
        inproc = await in_process(config, post_id, sign_ins, n)
        with serve_proc(config, port, folder / "serve.log") as proc:
            proc.start("/.well-known/nodeinfo")
            http = await over_http(port, post_id, sign_ins, n)
    rep.line(f"{'request':34} {'in-process median/p95 ms':>26} {'HTTP median/p95 ms':>22}")
    for name in inproc:
        a, b = inproc[name], http[name]
        rep.line(
            f"{name:34} {median(a) * 1e3:12.2f} / {pct(a, 95) * 1e3:6.2f}     "
            f"{median(b) * 1e3:9.2f} / {pct(b, 95) * 1e3:6.2f}"
        )
    sign_in = pct(inproc["sign-in (POST /login)"], 95)
    page = pct(inproc["post, 500 comments, signed in"], 95)
    visitor = pct(inproc["post, 500 comments, visitor"], 95)
    rep.line(
        f"RESULT sign-in p95 {sign_in * 1e3:.1f} ms server time (target <= 100 ms: "
        f"{'MET' if sign_in <= 0.100 else 'NOT MET'}); signed-in post page p95 {page * 1e3:.2f} ms "
        f"against {visitor * 1e3:.2f} ms for a visitor (target <= 20 ms: {'MET' if page <= 0.020 else 'NOT MET'})"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
