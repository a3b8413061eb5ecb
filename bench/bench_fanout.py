"""Fan-out: one post to many followers, delivered to a loopback sink that verifies signatures.

    python bench/bench_fanout.py                     # the three scenarios below
    python bench/bench_fanout.py --signing-processes 2   # sign in a process pool
    python bench/bench_fanout.py --quick             # small N smoke run

Scenarios (each a fresh instance folder and a fresh `fediverse-a2 serve` process):
  shared-1k:    10,000 followers on 1,000 shared inboxes -> 1,000 deliveries
  personal-1k:  1,000 followers with personal inboxes     -> 1,000 deliveries (memory at 1k)
  personal-10k: 10,000 followers with personal inboxes    -> 10,000 deliveries

Followers are inserted straight into the database before `serve` starts. The sink
(bench/_sink.py, its own process) listens on 1,000 ports of 127.0.0.1, so every port is a
separate host for the per-host limits; it answers 202, counts, and verifies every 50th
signature with fediverse_a2.signatures.verify_request. The post is published with the CLI
while `serve` runs; the clock starts at the activity's created_at (the enqueue, in the
database) and stops at the last delivery the sink received. The CLI's commit wakes `serve`
(store/wakeups.py) instead of it waiting for its next queue poll; the first-to-last time is
printed too.

Reference: the time `cryptography` takes for the same number of RSA-2048 PKCS#1 v1.5 SHA-256
signatures on this machine, in this process, one after another.
Memory: VmHWM of the `serve` process after each scenario (1k vs 10k followers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HOST,
    HttpConn,
    Proc,
    Report,
    cpu_seconds,
    free_port,
    get_request,
    proc_status,
    run_cli,
    serve_proc,
    start_profiler,
    stop_profiler,
    workdir,
    write_config,
)


def pure_signing_seconds(n: int) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = [
        f"(request-target): post /users/f{i}/inbox\nhost: 127.0.0.1:40000\ndate: x\ndigest: y".encode()
        for i in range(n)
    ]
    pad, sha = padding.PKCS1v15(), hashes.SHA256()
    started = time.perf_counter()
    for d in data:
        key.sign(d, pad, sha)
    return time.perf_counter() - started


async def sink_stats(port: int) -> dict:
    conn = await HttpConn.open(port)
    try:
        _, _, body = await conn.send(get_request(port, "/stats"))
        return json.loads(body)
    finally:
        await conn.close()


async def settle(control: int, db: sqlite3.Connection, key: str, expected: int, timeout: float) -> dict:
    """Wait until the sink counts `expected` (by its `key`: "count" or "distinct"), a moment more
    for a late duplicate, and until the deliveries' outcomes are recorded; the sink's last stats."""
    deadline = time.time() + timeout
    stats = await sink_stats(control)
    while stats[key] < expected and time.time() < deadline:
        await asyncio.sleep(0.02)
        stats = await sink_stats(control)
    await asyncio.sleep(0.3)  # a late duplicate would show now
    stats = await sink_stats(control)
    for _ in range(100):
        sent = db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'").fetchone()[0]
        if sent >= expected:
            break
        await asyncio.sleep(0.1)
    return stats


async def scenario(
    name: str, followers: int, shared: bool, ports_n: int, args: argparse.Namespace, rep: Report
) -> dict:
    with workdir(f"fanout-{name}") as folder:
        port = free_port()
        delivery = {"signing_processes": args.signing_processes} if args.signing_processes else {}
        config = write_config(folder / "a2", port, delivery=delivery) if delivery else write_config(folder / "a2", port)
        control = free_port()
        ports_file = folder / "ports.json"
        pem_file = folder / "a2" / "alice.pub.pem"
        folder.joinpath("a2").mkdir(parents=True, exist_ok=True)
        sink_argv_tail = [
            "--ports",
            str(ports_n),
            "--ports-file",
            str(ports_file),
            "--control-port",
            str(control),
            "--exclude",
            str(port),
        ]
        # The member first (the sink needs its public key), then the sink (it picks its
        # ports), then the followers on those ports, then serve.
        from fediverse_a2.config import load_config
        from fediverse_a2.keys import public_pem
        from fediverse_a2.runtime import Runtime
        from fediverse_a2.services.members import add_member

        rt = await Runtime.open(load_config(config))
        try:
            member = await add_member(rt, "alice", "Alice de Vries")
            pem_file.write_text(public_pem(rt.keys.load("alice")))
            key_id, owner = rt.urls.key("alice"), rt.urls.actor("alice")
        finally:
            await rt.close()
        sink = Proc(
            [
                sys.executable,
                str(Path(__file__).resolve().parent / "_sink.py"),
                *sink_argv_tail,
                "--public-pem",
                str(pem_file),
                "--key-id",
                key_id,
                "--owner",
                owner,
                "--verify-every",
                str(args.verify_every),
            ],
            control,
            folder / "sink.log",
        )
        with sink:
            sink.start("/stats", timeout=60)
            ports = json.loads(ports_file.read_text())
            db = sqlite3.connect(folder / "a2" / "data" / "db.sqlite3")
            now = time.time()
            rows = []
            for i in range(followers):
                p = ports[i % len(ports)]
                base = f"http://{HOST}:{p}"
                rows.append(
                    (
                        member.id,
                        f"{base}/users/f{i}",
                        f"{base}/users/f{i}/inbox",
                        f"{base}/inbox" if shared else None,
                        HOST,
                        f"{base}/follows/{i}",
                        now,
                    )
                )
            with db:
                db.executemany(
                    "INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            expected = len({r[3] or r[2] for r in rows})
            with serve_proc(config, port, folder / "serve.log") as proc:
                proc.start("/.well-known/nodeinfo")
                rss_idle = proc_status(proc.pid).get("VmHWM", 0)
                spy = start_profiler(proc.pid, f"{args.profile}.{name}") if args.profile else None
                cpu0 = cpu_seconds(proc.pid)
                run_cli(config, "post", "alice", "--title", "Fan-out", "--body", "Een bericht voor iedereen. " * 20)
                stats = await settle(control, db, "count", expected, args.timeout)
                cpu = cpu_seconds(proc.pid) - cpu0
                hwm = proc_status(proc.pid).get("VmHWM", 0)
                if spy is not None:
                    stop_profiler(spy)
            created = db.execute("SELECT MIN(created_at) FROM deliveries").fetchone()[0]
            states = dict(db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
            db.close()
    total = stats["last"] - created if stats["count"] else float("nan")
    steady = stats["last"] - stats["first"] if stats["count"] else float("nan")
    r = {
        "name": name,
        "followers": followers,
        "deliveries": expected,
        "received": stats["count"],
        "distinct": stats["distinct"],
        "duplicates": stats["duplicates"],
        "total_s": total,
        "steady_s": steady,
        "verified": stats["verified"],
        "bad": stats["bad_count"],
        "bad_examples": stats["bad"],
        "schemes": stats["schemes"],
        "states": states,
        "cpu_s": cpu,
        "hwm_mb": hwm / 1024,
        "idle_hwm_mb": rss_idle / 1024,
    }
    rep.line(
        f"{name}: {followers} followers -> {expected} inboxes: received {stats['count']} "
        f"({stats['distinct']} distinct, {stats['duplicates']} duplicates) in {total:.2f} s from enqueue "
        f"({steady:.2f} s first-to-last) = {expected / total:,.0f}/s; serve CPU {cpu:.2f} s "
        f"({cpu / expected * 1e6:.0f} us/delivery)"
    )
    rep.line(
        f"    signatures sample-verified {stats['verified']} ok, {stats['bad_count']} bad {stats['bad']}; "
        f"schemes {stats['schemes']}; delivery states {states}; serve peak RSS {hwm / 1024:.1f} MB "
        f"(after start {rss_idle / 1024:.1f} MB)"
    )
    return r


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--signing-processes", type=int, default=0)
    ap.add_argument("--verify-every", type=int, default=50)
    ap.add_argument("--ports", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    ap.add_argument("--profile", metavar="PREFIX", help="record serve with py-spy into PREFIX.SCENARIO")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    ports_n = args.ports // scale
    rep = Report("bench_fanout", save=not (args.quick or args.no_save))
    rep.line(f"signing_processes={args.signing_processes} sink ports={ports_n} verify every {args.verify_every}th")
    plan = [
        ("shared-1k", 10_000 // scale, True),
        ("personal-1k", 1_000 // scale, False),
        ("personal-10k", 10_000 // scale, False),
    ]
    if args.only:
        plan = [p for p in plan if p[0] in args.only.split(",")]
    results = {}
    for name, followers, shared in plan:
        results[name] = await scenario(name, followers, shared, ports_n, args, rep)
    sign_1k = pure_signing_seconds(1_000 // scale)
    sign_10k = pure_signing_seconds(10_000 // scale)
    rep.line(
        f"reference: pure RSA-2048 signing, {1_000 // scale} signatures {sign_1k:.2f} s, "
        f"{10_000 // scale} signatures {sign_10k:.2f} s ({sign_10k / (10_000 // scale) * 1e6:.0f} us each)"
    )
    ok_all = all(r["received"] == r["deliveries"] and r["bad"] == 0 and r["duplicates"] == 0 for r in results.values())
    if "shared-1k" in results:
        r = results["shared-1k"]
        rep.line(
            f"RESULT shared-1k: {r['total_s']:.2f} s for {r['deliveries']:,} inboxes (target <= 2 s: "
            f"{'MET' if r['total_s'] <= 2 else 'NOT MET'}); "
            f"{r['total_s'] / sign_1k:.1f}x pure signing of {1_000 // scale:,}"
        )
    if "personal-10k" in results:
        r = results["personal-10k"]
        ratio = r["total_s"] / sign_10k
        rep.line(
            f"RESULT personal-10k: {r['total_s']:.2f} s = {ratio:.2f}x pure signing ({sign_10k:.2f} s) "
            f"(target <= 2x: {'MET' if ratio <= 2 else 'NOT MET'})"
        )
    if "personal-1k" in results and "personal-10k" in results:
        a, b = results["personal-1k"]["hwm_mb"], results["personal-10k"]["hwm_mb"]
        rep.line(
            f"RESULT memory: serve peak RSS {a:.1f} MB at 1k followers, {b:.1f} MB at 10k "
            f"(x{b / a:.2f}; flat = within 10 %: {'MET' if b <= a * 1.10 else 'NOT MET'})"
        )
    rep.line(f"RESULT every delivery received once with a valid sampled signature: {ok_all}")
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
