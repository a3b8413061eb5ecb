"""Restart without waiting: `kill -9` of `serve` in the middle of a fan-out, then a new `serve`.

    python bench/bench_restart.py                # 1,000 personal inboxes, kill at 300 received
    python bench/bench_restart.py --kill-at 600  # kill later in the fan-out
    python bench/bench_restart.py --quick        # 100 inboxes, small smoke run

One post to 1,000 followers with personal inboxes on 1,000 ports of the sink (bench/_sink.py,
one host per port, signatures sampled and verified). The post is published with the CLI while
`serve` runs (so the wake-up is measured too: enqueue -> first delivery). Once the sink has
counted `--kill-at` deliveries, `serve` gets SIGKILL: no shutdown, its leases stay in the
database with `delivery.lease_seconds = 60`. A new `serve` is started at once on the same
folder, and the clock stops at the last delivery the sink receives.

Figures: total time from the enqueue to the last delivery (kill and start-up included), the
time from the restart to the last delivery, deliveries the sink saw twice (sent by the killed
process but not yet recorded), and the reference: `cryptography` signing the same number of
RSA-2048 signatures one after another in this process. Target: total <= 5x pure signing (issue 23; was 30x).
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
from _common import HOST, Report, free_port, run_cli, serve_proc, sink_proc, workdir, write_config
from bench_fanout import pure_signing_seconds, settle, sink_stats

LEASE_SECONDS = 60


async def _add_member(config: Path, pem_file: Path) -> tuple[int, str, str]:
    from fediverse_a2.config import load_config
    from fediverse_a2.keys import public_pem
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.members import add_member

    rt = await Runtime.open(load_config(config))
    try:
        member = await add_member(rt, "alice", "Alice de Vries")
        pem_file.write_text(public_pem(rt.keys.load("alice")))
        return member.id, rt.urls.key("alice"), rt.urls.actor("alice")
    finally:
        await rt.close()


async def run(args: argparse.Namespace, inboxes: int, kill_at: int, rep: Report) -> dict:
    with workdir("restart") as folder:
        port, control = free_port(), free_port()
        config = write_config(folder / "a2", port, delivery={"lease_seconds": LEASE_SECONDS})
        ports_file, pem_file = folder / "ports.json", folder / "a2" / "alice.pub.pem"
        member_id, key_id, owner = await _add_member(config, pem_file)
        sink = sink_proc(folder, inboxes, ports_file, control, port, pem_file, key_id, owner, args.verify_every)
        with sink:
            sink.start("/stats", timeout=60)
            ports = json.loads(ports_file.read_text())
            db = sqlite3.connect(folder / "a2" / "data" / "db.sqlite3")
            now = time.time()
            rows = [
                (
                    member_id,
                    f"http://{HOST}:{p}/users/f{i}",
                    f"http://{HOST}:{p}/users/f{i}/inbox",
                    None,
                    HOST,
                    None,
                    now,
                )
                for i, p in enumerate(ports[:inboxes])
            ]
            with db:
                db.executemany(
                    "INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            first = serve_proc(config, port, folder / "serve.log")
            first.start("/.well-known/nodeinfo")
            try:
                run_cli(config, "post", "alice", "--title", "Herstart", "--body", "Een bericht voor iedereen. " * 20)
                stats = await sink_stats(control)
                deadline = time.time() + args.timeout
                while stats["count"] < kill_at and time.time() < deadline:
                    await asyncio.sleep(0.005)
                    stats = await sink_stats(control)
                assert first.proc is not None
                first.proc.kill()
                first.proc.wait(10)
                killed = await sink_stats(control)
            finally:
                first.stop()
            leased = db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND locked_until > ?", (time.time(),)
            ).fetchone()[0]
            second = serve_proc(config, port, folder / "serve.log")
            restarted = time.time()
            with second:
                up_after = second.start("/.well-known/nodeinfo")
                stats = await settle(control, db, "distinct", inboxes, args.timeout)
            created = db.execute("SELECT MIN(created_at) FROM deliveries").fetchone()[0]
            states = dict(db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
            db.close()
    total = stats["last"] - created
    after_restart = stats["last"] - restarted
    wake = killed["first"] - created if killed["count"] else float("nan")
    rep.line(
        f"fan-out to {inboxes} personal inboxes, killed at {killed['count']} received "
        f"({leased} deliveries still leased to the dead process, lease {LEASE_SECONDS} s)"
    )
    rep.line(
        f"    enqueue -> first delivery {wake * 1000:.0f} ms; restart: serve up after {up_after:.2f} s, "
        f"last delivery {after_restart:.2f} s after the restart; total {total:.2f} s from enqueue"
    )
    rep.line(
        f"    received {stats['count']} ({stats['distinct']} distinct, {stats['duplicates']} duplicates); "
        f"signatures sample-verified {stats['verified']} ok, {stats['bad_count']} bad; delivery states {states}"
    )
    return {
        "total": total,
        "after_restart": after_restart,
        "distinct": stats["distinct"],
        "duplicates": stats["duplicates"],
        "bad": stats["bad_count"],
        "states": states,
        "wake": wake,
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inboxes", type=int, default=1000)
    ap.add_argument("--kill-at", type=int, default=300)
    ap.add_argument("--verify-every", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    inboxes, kill_at = args.inboxes // scale, args.kill_at // scale
    rep = Report("bench_restart", save=not (args.quick or args.no_save))
    r = await run(args, inboxes, kill_at, rep)
    signing = pure_signing_seconds(inboxes)
    rep.line(f"reference: pure RSA-2048 signing, {inboxes} signatures {signing:.2f} s")
    ratio = r["total"] / signing
    rep.line(
        f"RESULT restart: all {inboxes} delivered {r['total']:.2f} s after the enqueue = {ratio:.1f}x pure signing "
        f"(target <= 5x: {'MET' if ratio <= 5 else 'NOT MET'}); {r['after_restart']:.2f} s after the restart"
    )
    ok = r["distinct"] == inboxes and r["bad"] == 0 and r["states"] == {"sent": inboxes}
    rep.line(f"RESULT every inbox got the post, valid sampled signatures: {ok}; duplicates {r['duplicates']}")
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
