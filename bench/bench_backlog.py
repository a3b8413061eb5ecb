"""A backlog after a restart: N stored, verified inbox items processed by a (re)started worker.

    python bench/bench_backlog.py            # N=10000 Create{Note} replies, then the mix
    python bench/bench_backlog.py --quick    # N=500 smoke run, nothing saved
    python bench/bench_backlog.py --no-mix   # the replies only

What happens:
1. A fresh instance folder: one member, two posts (A is measured, B takes the warm-up).
2. The key server of bench_inbox.py (remote actors with RSA-2048 keys on 127.0.0.1); N
   distinct requests signed beforehand (its signer, in a process pool), as bench_inbox does.
3. `fediverse-a2 serve` (background work inline): one warm-up reply per actor, processed (keys
   fetched, actors stored, as a running instance has them); stopped. Then `serve` with
   `server.background = "none"`, which verifies and stores but processes nothing: the N
   requests over 32 keep-alive connections through the real inbox route. Every one must be
   answered 202 and stored queued; then `serve` is stopped.
4. Timed: `fediverse-a2 worker` is started on the same folder, and the database is polled
   every 20 ms until no item is queued. Rate = N / (start of the process until the last item
   is done), start-up included; also the rate from the first item done to the last, and the
   worker's CPU per item (whole process, and from the first item done on).
5. Checked: comments rows, reactions and tombstones as the activities imply; every item done.

The mix variant ("mix"): the same N, of which 60 % Create{Note} replies, 15 % Likes and 15 %
Announces of post A, and 10 % Deletes of replies sent earlier in the same backlog by the same
actor (so after processing those replies are gone and leave a tombstone). A reaction counts
once per actor, kind and post, so the Likes and Announces leave one row per actor.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HOST,
    Report,
    blast,
    cpu_seconds,
    free_port,
    post_request,
    serve_proc,
    spawn,
    start_profiler,
    stop_profiler,
    workdir,
    worker_proc,
    write_config,
)
from bench_inbox import AP, PUBLIC, KeyServer, _init_signer, _sign, seed, wait_total

POLL = 0.02


# -- the backlog ----------------------------------------------------------------------------


def _activity(ks: KeyServer, kind: str, name: str, serial: int, post_url: str, deleted: int | None) -> bytes:
    """Like / Announce of the post, or Delete of the actor's reply `deleted`."""
    actor = ks.uri(name)
    base = f"{actor}/statuses/{serial}"
    doc: dict[str, object]
    if kind == "Like":
        doc = {"id": f"{base}#like", "type": "Like", "actor": actor, "object": post_url}
    elif kind == "Announce":
        doc = {
            "id": f"{base}/activity",
            "type": "Announce",
            "actor": actor,
            "published": "2026-11-28T10:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{actor}/followers"],
            "object": post_url,
        }
    else:
        note_id = f"{actor}/statuses/{deleted}"
        doc = {
            "id": f"{note_id}#delete",
            "type": "Delete",
            "actor": actor,
            "to": [PUBLIC],
            "object": {"id": note_id, "type": "Tombstone"},
        }
    return orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **doc})


def plan(n: int, actors: int, mix: bool) -> list[tuple[str, int, int | None]]:
    """(kind, serial, serial of the reply a Delete removes) for each of the N activities.

    Mix, per 20: 12 Creates, 3 Likes, 3 Announces, 2 Deletes of the Create 16 places
    earlier (same actor when the number of actors divides 16).
    """
    if not mix:
        return [("Create", i, None) for i in range(n)]
    out: list[tuple[str, int, int | None]] = []
    for i in range(n):
        k = i % 20
        if k < 12 or (k >= 18 and (i < 16 or 16 % actors)):
            out.append(("Create", i, None))
        elif k < 15:
            out.append(("Like", i, None))
        elif k < 18:
            out.append(("Announce", i, None))
        else:
            out.append(("Delete", i, i - 16))
    return out


def build(
    ks: KeyServer, port: int, post_url: str, items: list[tuple[str, int, int | None]], pool: ProcessPoolExecutor
) -> list[bytes]:
    """Signed POST /inbox requests (bench_inbox's signer, in the pool)."""
    url = f"http://{HOST}:{port}/inbox"
    names = list(ks.keys)
    jobs, bodies = [], []
    for kind, serial, deleted in items:
        name = names[serial % len(names)]
        if kind == "Create":
            body = ks.create_reply(name, serial, post_url)
        else:
            body = _activity(ks, kind, name, serial, post_url, deleted)
        bodies.append(body)
        jobs.append((name, f"{ks.uri(name)}#main-key", url, body, "cavage"))
    signed = pool.map(_sign, jobs, chunksize=64)
    return [post_request("/inbox", {**h, "Content-Type": AP}, b) for b, h in zip(bodies, signed, strict=True)]


def counts(db_path: Path, post_id: int) -> dict[str, object]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {
            "states": dict(db.execute("SELECT state, COUNT(*) FROM inbox_items GROUP BY state").fetchall()),
            "comments": db.execute("SELECT COUNT(*) FROM comments WHERE post_id = ?", (post_id,)).fetchone()[0],
            "reactions": dict(
                db.execute("SELECT kind, COUNT(*) FROM reactions WHERE post_id = ? GROUP BY kind", (post_id,))
            ),
            "tombstones": db.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0],
        }
    finally:
        db.close()


async def timed_worker(config: Path, db_path: Path, n: int, log: Path, profile: str | None) -> dict[str, float]:
    """Start `worker`, poll until nothing is queued; the figures of the run."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    proc = worker_proc(config, log)
    try:
        started = spawn(proc)
        spy = start_profiler(proc.pid, profile) if profile else None
        first_at = first_cpu = 0.0
        deadline = started + 600
        while True:
            queued = db.execute("SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'").fetchone()[0]
            now = time.perf_counter()
            if queued < n and not first_at:
                first_at, first_cpu = now, cpu_seconds(proc.pid)
            if queued == 0:
                cpu = cpu_seconds(proc.pid)
                break
            if now > deadline or proc.proc is None or proc.proc.poll() is not None:
                raise RuntimeError(f"worker did not finish: {queued} queued\n{log.read_text()[-3000:]}")
            await asyncio.sleep(POLL)
        if spy is not None:
            stop_profiler(spy)
    finally:
        proc.stop()
        db.close()
    total = now - started
    steady = max(now - first_at, 1e-9)
    return {
        "total_s": total,
        "rate": n / total,
        "first_after_s": first_at - started,
        "steady_rate": n / steady,
        "cpu_us": cpu / n * 1e6,
        "steady_cpu_us": (cpu - first_cpu) / n * 1e6,
    }


async def run_variant(
    label: str, ks: KeyServer, pool: ProcessPoolExecutor, args: argparse.Namespace, n: int, rep: Report
) -> bool:
    mix = label == "mix"
    with workdir(f"backlog-{label}") as folder:
        port = free_port()

        def configure(background: str) -> Path:
            return write_config(
                folder / "a2",
                port,
                federation={"mode": "open", "allow_private_network": True, "inbox_rate_limit": 10_000_000},
                server={"background": background},
            )

        config = configure("inline")
        post_a, post_b = await seed(config)
        base = f"http://{HOST}:{port}"
        items = plan(n, args.actors, mix)
        kinds = Counter(k for k, _, _ in items)
        t = time.perf_counter()
        warm = build(
            ks, port, f"{base}/posts/{post_b}", [("Create", 10**6 + i, None) for i in range(args.actors)], pool
        )
        measured = build(ks, port, f"{base}/posts/{post_a}", items, pool)
        rep.line(
            f"[{label}] {dict(kinds)}; signed {len(warm) + len(measured)} requests in {time.perf_counter() - t:.1f} s"
        )
        db_path = folder / "a2" / "data" / "db.sqlite3"

        # Warm-up with background work on, so the actors and keys are known, as in production.
        with serve_proc(config, port, folder / "warm.log") as proc:
            proc.start("/.well-known/nodeinfo")
            await blast(port, warm, len(warm))
            await wait_total(port, post_b, len(warm), 60)
        config = configure("none")
        with serve_proc(config, port, folder / "serve.log") as proc:
            proc.start("/.well-known/nodeinfo")
            accept_s, statuses = await blast(port, measured, args.connections)
        before = counts(db_path, post_a)
        rep.line(
            f"[{label}] ingest: {n} POSTs in {accept_s:.2f} s = {n / accept_s:,.0f}/s, statuses {dict(statuses)}; "
            f"stored: inbox_items {before['states']}"
        )
        queued = before["states"].get("queued", 0)  # type: ignore[union-attr]
        if queued != n:
            rep.line(f"[{label}] WARNING: {queued} of {n} left queued by the ingest (processed meanwhile?)")

        figures = await timed_worker(
            config, db_path, queued, folder / "worker.log", args.profile and f"{args.profile}-{label}.txt"
        )
        after = counts(db_path, post_a)

    creates, deletes = kinds["Create"], kinds["Delete"]
    reacted = {(k, serial % args.actors) for k, serial, _ in items if k in ("Like", "Announce")}
    want = {
        "comments": creates - deletes,
        # One reaction of a kind per actor and post: repeated Likes of one actor count once.
        "reactions": dict(Counter(k.lower() for k, _ in reacted)),
        "tombstones": deletes,
    }
    ok = (
        after["states"] == {"done": n + args.actors}
        and after["comments"] == want["comments"]
        and after["reactions"] == want["reactions"]
        and after["tombstones"] == want["tombstones"]
    )
    rep.line(
        f"[{label}] worker: {queued} items in {figures['total_s']:.2f} s from its start = {figures['rate']:,.0f}/s "
        f"(first item done after {figures['first_after_s']:.2f} s; first to last {figures['steady_rate']:,.0f}/s)"
    )
    rep.line(
        f"[{label}] worker CPU {figures['cpu_us']:.0f} us/item (whole process), "
        f"{figures['steady_cpu_us']:.0f} us/item from the first item done"
    )
    rep.line(
        f"[{label}] after: inbox_items {after['states']}, comments {after['comments']}, "
        f"reactions {after['reactions']}, "
        f"tombstones {after['tombstones']}; expected {want}: {'OK' if ok else 'MISMATCH'}"
    )
    rep.line(
        f"RESULT [{label}] {figures['rate']:,.0f} items/s (start-up included); target >= 2,000/s: "
        f"{'MET' if figures['rate'] >= 2000 and ok else 'NOT MET'}"
    )
    return ok


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--actors", type=int, default=8)
    ap.add_argument("--no-mix", action="store_true", help="only the Create{Note} backlog")
    ap.add_argument("--quick", action="store_true", help="N=500 smoke run, nothing saved")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="", help="suffix for the results file")
    ap.add_argument("--profile", metavar="PREFIX", help="record the worker with py-spy into PREFIX-VARIANT.txt")
    args = ap.parse_args()
    n = 500 if args.quick else args.n
    rep = Report("bench_backlog", save=not (args.quick or args.no_save))
    rep.line(f"N={n} connections={args.connections} actors={args.actors}")
    ks = KeyServer(args.actors)
    pool = ProcessPoolExecutor(2, initializer=_init_signer, initargs=(ks.pems,))
    try:
        for label in ("replies",) if args.no_mix else ("replies", "mix"):
            await run_variant(label, ks, pool, args, n, rep)
    finally:
        pool.shutdown()
        ks.close()
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
