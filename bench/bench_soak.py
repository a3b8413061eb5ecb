"""Soak: minutes of mixed load on one `serve`, checked for errors, latency, losses, queues and memory.

    python bench/bench_soak.py                        # 5 minutes on SQLite
    python bench/bench_soak.py --postgres             # the same on a throwaway PostgreSQL (.ci/postgres.sh)
    python bench/bench_soak.py --postgres --restart-at 150   # ... and PostgreSQL restarted after 150 s
    python bench/bench_soak.py --quick                # 40 s smoke run, nothing saved

The load, all at once, from this process (raw keep-alive HTTP/1.1 connections; httpx for sign-ins):
- signed replies (`Create{Note}`, draft-cavage, 8 remote actors from bench_inbox's key server), 200/s,
  signed before the clock starts;
- page views, 100/s: the post page (HTML, browser UA, so each view is counted), the home page,
  the replies collection (JSON) and the profile, in turn;
- searches, 5/s (`/search?q=...`); sign-ins (GET /login, POST /login with the form's token), 1 every 2 s;
- a post to 2,000 followers (personal inboxes on the fan-out sink, `_sink.py`) every 30 s, by the CLI.

Checked: no 5xx (on the restart run: 503 only while PostgreSQL is down, answered at once); p99 of
the page views; every reply accepted (202) stored (a reply refused with 503 is sent again after
its Retry-After, as a sender would); every delivery made (the sink's count, the deliveries all
`sent`); the depth of the inbox and delivery queues every 5 s; resident memory (serve + its worker
child) after the first minute and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HOST,
    HttpConn,
    Report,
    free_port,
    get_request,
    pct,
    proc_status,
    run_cli,
    serve_proc,
    sink_proc,
    workdir,
    write_config,
)
from bench_fanout import descendants, sink_stats, wait_worker
from bench_inbox import KeyServer, _init_signer, build_requests, seed
from bench_scale import fresh_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "een lang genoeg wachtwoord"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HANG = 10.0  # seconds: an answer later than this counts as a hang


class Postgres:
    """A throwaway cluster from .ci/postgres.sh that this bench can restart (its pg_ctl and folder)."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "FEDIVERSE_A2_TEST_POSTGRES"}
        script = (
            '. .ci/postgres.sh || exit 1; echo "URL=$FEDIVERSE_A2_TEST_POSTGRES"; '
            'echo "DATA=$_A2_PG_DATA"; echo "BIN=$_A2_PG_BIN"; read -r _'
        )
        self.shell = subprocess.Popen(
            ["bash", "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
        )
        assert self.shell.stdout is not None
        lines = dict(self.shell.stdout.readline().strip().split("=", 1) for _ in range(3))
        self.url, self.data, self.bin = lines["URL"], lines["DATA"], lines["BIN"]

    def restart(self) -> float:
        """pg_ctl restart -m fast (connections cut, the server down until it is up again); seconds taken."""
        # -l: the restarted server logs to its file; pipes of ours it inherited would keep run() waiting.
        argv = [f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log", "-m", "fast", "-w", "restart"]
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        started = time.perf_counter()
        subprocess.run(argv, cwd="/", check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        return time.perf_counter() - started

    def close(self) -> None:
        if self.shell.stdin is not None:
            self.shell.stdin.close()
        try:
            self.shell.wait(60)
        except subprocess.TimeoutExpired:
            self.shell.kill()


class Soak:
    def __init__(self, port: int, seconds: float, post_id: int, replies: list[bytes]) -> None:
        self.port, self.seconds, self.post_id = port, seconds, post_id
        self.replies = replies
        self.statuses: Counter[str] = Counter()  # "kind status"
        self.page_ms: list[float] = []
        self.search_ms: list[float] = []
        self.sign_in_ms: list[float] = []
        self.accepted = 0
        self.retry: list[bytes] = []
        self.hangs = 0
        self.outage: tuple[float, float] | None = None  # (start, end) of a database restart
        self.late_503 = 0  # 503s outside the outage (plus a grace of 10 s after it)
        self.started = 0.0
        self.dropped = 0  # requests the client did not get to send in time
        self.sent_replies = 0
        self.post_ids: list[int] = []

    def note(self, kind: str, status: int, at: float) -> None:
        self.statuses[f"{kind} {status}"] += 1
        if status == 503:
            out = self.outage
            if out is None or not (out[0] - 1 <= at <= out[1] + 10):
                self.late_503 += 1

    async def _timed(self, conn: HttpConn, raw: bytes) -> tuple[int, float]:
        t = time.perf_counter()
        try:
            async with asyncio.timeout(HANG):
                status, _, _ = await conn.send(raw)
        except TimeoutError:
            self.hangs += 1
            return -1, HANG
        return status, time.perf_counter() - t

    async def paced(self, rate: float, conns: int, make: Any) -> None:
        """Call `make(conn, i)` `rate` times a second over `conns` connections until the end."""
        pool = [await HttpConn.open(self.port) for _ in range(conns)]
        queue: asyncio.Queue[int] = asyncio.Queue()

        async def worker(conn: HttpConn) -> None:
            while (i := await queue.get()) >= 0:
                try:
                    await make(conn, i)
                except (OSError, asyncio.IncompleteReadError):
                    conn = await HttpConn.open(self.port)

        tasks = [asyncio.create_task(worker(c)) for c in pool]
        i = 0
        while (now := time.perf_counter()) < self.started + self.seconds:
            due = int((now - self.started) * rate)
            while i < due:
                queue.put_nowait(i)
                i += 1
            await asyncio.sleep(0.01)
        while not queue.empty():  # the client fell behind: what was not sent by the end is dropped
            queue.get_nowait()
            self.dropped += 1
        for _ in tasks:
            queue.put_nowait(-1)
        await asyncio.gather(*tasks)
        for c in pool:
            await c.close()

    async def reply(self, conn: HttpConn, i: int) -> None:
        raw = self.replies[i] if i < len(self.replies) else None
        if raw is None:
            return
        self.sent_replies += 1
        status, _ = await self._timed(conn, raw)
        self.note("reply", status, time.perf_counter())
        if status == 202:
            self.accepted += 1
        elif status == 503:
            self.retry.append(raw)

    async def page(self, conn: HttpConn, i: int) -> None:
        post = self.post_ids[(i // 4) % len(self.post_ids)]
        paths = [
            get_request(self.port, f"/posts/{post}", "text/html", BROWSER),
            get_request(self.port, "/", "text/html", BROWSER),
            get_request(self.port, f"/posts/{post}/replies", "application/activity+json"),
            get_request(self.port, "/users/alice", "text/html", BROWSER),
        ]
        status, took = await self._timed(conn, paths[i % len(paths)])
        self.note("page", status, time.perf_counter())
        if status != 503:
            self.page_ms.append(took * 1000)

    async def search(self, conn: HttpConn, i: int) -> None:
        words = ["reactie", "bericht", "nummer", "tag", "gemeente+ambtenaar", "reacties+op+het+bericht"]
        status, took = await self._timed(
            conn, get_request(self.port, f"/search?q={words[i % len(words)]}", "text/html", BROWSER)
        )
        self.note("search", status, time.perf_counter())
        if status != 503:
            self.search_ms.append(took * 1000)

    async def sign_ins(self, every: float) -> None:
        base = f"http://{HOST}:{self.port}"
        while time.perf_counter() < self.started + self.seconds:
            async with httpx.AsyncClient(base_url=base, timeout=HANG) as client:
                try:
                    page = await client.get("/login")
                    token = _CSRF.search(page.text)
                    if page.status_code == 200 and token:
                        form = {"username": "alice", "password": PASSWORD, "csrf": token.group(1)}
                        t = time.perf_counter()
                        r = await client.post("/login", data=form, headers={"Origin": base})
                        self.note("sign-in", r.status_code, time.perf_counter())
                        if r.status_code == 303:
                            self.sign_in_ms.append((time.perf_counter() - t) * 1000)
                    else:
                        self.note("sign-in-page", page.status_code, time.perf_counter())
                except httpx.TimeoutException:
                    self.hangs += 1
            await asyncio.sleep(every)

    async def resend_refused(self) -> None:
        """Replies refused with 503 (the database restarting) are sent again, as a sender would."""
        conn = await HttpConn.open(self.port)
        try:
            while self.retry:
                raw = self.retry.pop()
                status, _ = await self._timed(conn, raw)
                self.note("reply-retry", status, time.perf_counter())
                if status == 202:
                    self.accepted += 1
                elif status == 503:
                    self.retry.append(raw)
                    await asyncio.sleep(1)
        finally:
            await conn.close()


POSTS = 100  # the replies and page views are spread over this many posts


async def more_posts(config: Path, n: int) -> list[int]:
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.posts import publish_post

    rt = await Runtime.open(load_config(config))
    try:
        urls = [await publish_post(rt, "alice", f"Bericht {i}", f"Tekst over de gemeente {i}.") for i in range(n)]
    finally:
        await rt.close()
    return [int(u.rsplit("/", 1)[1]) for u in urls]


async def add_followers(config: Path, ports: list[int], n: int) -> None:
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.store import members

    rt = await Runtime.open(load_config(config))
    try:
        member = await members.by_username(rt.db, "alice")
        assert member is not None
        now = time.time()
        rows = []
        for i in range(n):
            base = f"http://{HOST}:{ports[i % len(ports)]}"
            rows.append((member.id, f"{base}/users/f{i}", f"{base}/users/f{i}/inbox", None, HOST, f"{base}/f/{i}", now))
        await rt.db.executemany(
            "INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    finally:
        await rt.close()


async def set_password(config: Path) -> tuple[str, str, str]:
    from fediverse_a2.config import load_config
    from fediverse_a2.keys import public_pem
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.accounts import set_password as set_it
    from fediverse_a2.store import members

    rt = await Runtime.open(load_config(config))
    try:
        member = await members.by_username(rt.db, "alice")
        assert member is not None
        await set_it(rt, member, PASSWORD)
        return public_pem(rt.keys.load("alice")), rt.urls.key("alice"), rt.urls.actor("alice")
    finally:
        await rt.close()


class Probe:
    """Queue depths and the deliveries' states, read from the database."""

    def __init__(self, config: Path, database: str | None) -> None:
        self.database = database
        self.sqlite = None if database else sqlite3.connect(config.parent / "data" / "db.sqlite3")

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql).fetchall()
        import asyncpg

        conn = await asyncpg.connect(self.database)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    async def depths(self) -> tuple[int, int]:
        rows = await self.rows(
            "SELECT (SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'), "
            "(SELECT COUNT(*) FROM deliveries WHERE state = 'pending')"
        )
        return int(rows[0][0]), int(rows[0][1])


def rss_mb(pids: list[int]) -> float:
    return sum(proc_status(p).get("VmRSS", 0) for p in pids) / 1024


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--replies", type=float, default=200.0, help="signed replies per second")
    ap.add_argument("--pages", type=float, default=100.0, help="page views per second")
    ap.add_argument("--searches", type=float, default=5.0)
    ap.add_argument("--followers", type=int, default=2000)
    ap.add_argument("--post-every", type=float, default=30.0)
    ap.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL through .ci/postgres.sh")
    ap.add_argument("--restart-at", type=float, help="restart PostgreSQL this many seconds into the run")
    ap.add_argument("--quick", action="store_true", help="40 s smoke run, nothing saved")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    seconds = 40.0 if args.quick else args.seconds
    rep = Report("bench_soak", save=not (args.quick or args.no_save))
    rep.line(
        f"seconds={seconds:.0f} replies/s={args.replies:.0f} pages/s={args.pages:.0f} searches/s={args.searches:.0f} "
        f"followers={args.followers} post every {args.post_every:.0f} s "
        f"backend={'postgresql' if args.postgres else 'sqlite'}"
        + (f" restart PostgreSQL at {args.restart_at:.0f} s" if args.restart_at else "")
    )
    rep.line(f"(load average before: {os.getloadavg()[0]:.1f})")
    pg = Postgres() if args.postgres else None
    ks = KeyServer(8)
    signer = ProcessPoolExecutor(2, initializer=_init_signer, initargs=(ks.pems,))
    try:
        async with contextlib.AsyncExitStack() as stack:
            database = await stack.enter_async_context(fresh_database(pg.url)) if pg else None
            folder = stack.enter_context(workdir("soak"))
            port = free_port()
            storage = {"database": database} if database else {}
            config = write_config(
                folder / "a2",
                port,
                federation={"mode": "open", "allow_private_network": True, "inbox_rate_limit": 10_000_000},
                **({"storage": storage} if storage else {}),
            )
            post_id, _ = await seed(config)
            post_ids = [post_id, *(await more_posts(config, POSTS - 1))]
            pem, key_id, owner = await set_password(config)
            (folder / "alice.pem").write_text(pem)
            control = free_port()
            sink = stack.enter_context(
                sink_proc(folder, 200, folder / "ports.json", control, port, folder / "alice.pem", key_id, owner, 50)
            )
            sink.start("/stats", timeout=60)
            await add_followers(config, json.loads((folder / "ports.json").read_text()), args.followers)
            t = time.perf_counter()
            n = int(seconds * args.replies)
            replies = build_requests(ks, port, f"http://{HOST}:{port}/posts/{post_id}", range(n), "cavage", signer)
            rep.line(f"(signed {n} replies in {time.perf_counter() - t:.0f} s, before timing)")
            proc = stack.enter_context(serve_proc(config, port, folder / "serve.log"))
            proc.start("/.well-known/nodeinfo", timeout=60)
            worker = wait_worker(proc.pid, config)
            probe = Probe(config, database)
            soak = Soak(port, seconds, post_id, replies)
            soak.post_ids = post_ids
            samples: list[tuple[float, int, int, float]] = []
            posts = 0
            restart_s = None

            async def sampler() -> None:
                while time.perf_counter() < soak.started + seconds:
                    with contextlib.suppress(Exception):  # the database may be restarting
                        inbox_q, deliveries_q = await probe.depths()
                        samples.append((time.perf_counter() - soak.started, inbox_q, deliveries_q,
                                        rss_mb([proc.pid, *([worker] if worker else [])])))  # fmt: skip
                    await asyncio.sleep(5)

            async def poster() -> None:
                nonlocal posts
                while time.perf_counter() < soak.started + seconds - 5:
                    await asyncio.to_thread(
                        run_cli, config, "post", "alice", "--title", f"Soak {posts}", "--body", "Voor iedereen. " * 20
                    )
                    posts += 1
                    await asyncio.sleep(args.post_every)

            async def restarter() -> None:
                nonlocal restart_s
                if pg is None or args.restart_at is None:
                    return
                await asyncio.sleep(args.restart_at)
                begin = time.perf_counter()
                soak.outage = (begin, begin + 120)
                restart_s = await asyncio.to_thread(pg.restart)
                soak.outage = (begin, time.perf_counter())

            soak.started = time.perf_counter()
            await asyncio.gather(
                soak.paced(args.replies, 32, soak.reply),
                soak.paced(args.pages, 16, soak.page),
                soak.paced(args.searches, 1, soak.search),
                soak.sign_ins(2.0),
                sampler(),
                poster(),
                restarter(),
            )
            await soak.resend_refused()
            end_rss = rss_mb([proc.pid, *([worker] if worker else [])])
            # Settle: every reply processed and visible, every delivery received.
            expected_deliveries = posts * args.followers
            deadline = time.perf_counter() + 300
            while time.perf_counter() < deadline:
                stats = await sink_stats(control)
                inbox_q, deliveries_q = await probe.depths()
                if stats["count"] >= expected_deliveries and inbox_q == 0 and deliveries_q == 0:
                    break
                await asyncio.sleep(0.5)
            settled_s = time.perf_counter() - soak.started - seconds
            stats = await sink_stats(control)
            stored = (
                await probe.rows(f"SELECT COUNT(*) FROM comments WHERE post_id IN ({','.join(map(str, post_ids))})")
            )[0][0]
            inbox_states = dict(await probe.rows("SELECT state, COUNT(*) FROM inbox_items GROUP BY state"))
            delivery_states = dict(await probe.rows("SELECT state, COUNT(*) FROM deliveries GROUP BY state"))
            helpers = len(descendants(proc.pid))
    finally:
        signer.shutdown()
        ks.close()
        if pg is not None:
            pg.close()

    five = {k: v for k, v in soak.statuses.items() if int(k.rsplit(" ", 1)[1]) >= 500 or int(k.rsplit(" ", 1)[1]) < 0}
    other_5xx = sum(v for k, v in five.items() if not k.endswith(" 503"))
    p50, p99 = pct(soak.page_ms, 50), pct(soak.page_ms, 99)
    after_minute = next((s[3] for s in samples if s[0] >= 60), samples[0][3] if samples else float("nan"))
    max_inbox = max((s[1] for s in samples), default=0)
    max_deliveries = max((s[2] for s in samples), default=0)
    rep.line(f"statuses: {dict(sorted(soak.statuses.items()))}")
    rep.line(
        f"page views: {len(soak.page_ms)} answered, median {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"searches p99 {pct(soak.search_ms, 99):.1f} ms; sign-ins {len(soak.sign_in_ms)}, "
        f"median {pct(soak.sign_in_ms, 50):.0f} ms"
    )
    rep.line(
        f"replies: {soak.sent_replies} sent, {soak.accepted} accepted (202), {stored} stored; "
        f"inbox_items {inbox_states}; "
        f"settled {settled_s:.1f} s after the load ended"
    )
    rep.line(
        f"deliveries: {posts} posts x {args.followers} followers = {expected_deliveries}; sink received "
        f"{stats['count']} (signatures sample-verified {stats['verified']} ok, {stats['bad_count']} bad); "
        f"deliveries {delivery_states}"
    )
    rep.line(
        "queue depths every 5 s (s: inbox queued / deliveries pending / RSS MB): "
        + ", ".join(f"{s[0]:.0f}: {s[1]}/{s[2]}/{s[3]:.0f}" for s in samples)
    )
    rep.line(
        f"memory (serve + worker child RSS): {after_minute:.1f} MB after the first minute, {end_rss:.1f} MB at the end "
        f"({(end_rss / after_minute - 1) * 100:+.1f} %); helper processes {helpers}"
    )
    if restart_s is not None and soak.outage is not None:
        rep.line(
            f"PostgreSQL restarted at {args.restart_at:.0f} s: pg_ctl restart took {restart_s:.1f} s; "
            f"503 answers {sum(v for k, v in five.items() if k.endswith(' 503'))} (outside the outage + 10 s: "
            f"{soak.late_503}); replies sent again after 503: {soak.statuses.get('reply-retry 202', 0)}"
        )
    rep.line(f"(load average after: {os.getloadavg()[0]:.1f})")
    checks = {
        "no 5xx": other_5xx == 0 and (soak.late_503 == 0),
        "no hang": soak.hangs == 0,
        "page p99 <= 50 ms": p99 <= 50,
        "every reply stored": stored == soak.accepted == soak.sent_replies,
        "every delivery made": stats["count"] >= expected_deliveries
        and delivery_states.get("sent", 0) == expected_deliveries,
        "queues bounded": max_inbox < args.replies * 30 and max_deliveries <= 2 * args.followers,
        "memory within 10 %": end_rss <= after_minute * 1.10,
    }
    rep.line(
        f"queue maxima: inbox {max_inbox}, deliveries {max_deliveries}; hangs {soak.hangs}; "
        f"requests the client did not get to send in time (dropped): {soak.dropped}"
    )
    rep.line("RESULT " + "; ".join(f"{k}: {'MET' if v else 'NOT MET'}" for k, v in checks.items()))
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
