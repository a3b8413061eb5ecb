"""Expensive JSON-LD beside ordinary work: how long other work waits meanwhile.

    python bench/bench_stall.py            # 3 expensive documents, 3 rounds
    python bench/bench_stall.py --quick    # 1 round, nothing saved

The tests show the property by order (other requests are answered while each expensive
document is still being worked on: tests/web/test_seams.py and
tests/federation/test_jsonld_worker.py); this script keeps the figures they used to assert.

1. In-process: `JsonLdWorker(time_budget=0.5)` given three documents that pyld would take
   seconds on (a context URL listed again and again), while a ticker sleeps 10 ms at a time:
   how late each tick wakes (the event loop's lag).
2. Over HTTP: `fediverse-a2 serve` (a separate process, default config) gets three such
   documents as signed `Create`s from a remote actor (keys served by bench_inbox's key server)
   while a client asks `/.well-known/nodeinfo` every 20 ms on a keep-alive connection: the
   answer time of those requests until the three are refused (each after the default JSON-LD
   budget of 2 s).

Reference: the same nodeinfo requests before the expensive documents are sent. Target: no
answer later than 100 ms (what the tests asserted until they stopped timing).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HOST, HttpConn, Report, free_port, get_request, post_request, serve_proc, workdir, write_config
from bench_inbox import AP, KeyServer, seed
from fediverse_a2.federation.jsonld_worker import JsonLdBudgetExceeded, JsonLdWorker
from fediverse_a2.signatures import sign_headers

AS = "https://www.w3.org/ns/activitystreams"
TARGET_MS = 100.0


def expensive_note(note_id: str, actor: str) -> dict[str, Any]:
    """About 100 kB, 2,800 JSON nodes, seconds of pyld: the context listed 40 times at the top and
    50 times in each of 50 tags (tests/federation/test_jsonld_worker.py's document)."""
    tags = [{"@context": [AS] * 50, "type": "Hashtag", "name": f"#t{i}"} for i in range(50)]
    return {"@context": [AS] * 40, "id": note_id, "type": "Note", "attributedTo": actor, "content": "duur",
            "tag": tags}  # fmt: skip


def summary(label: str, values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"{label}: n={len(ordered)} median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ordered[-1]:.1f} ms"
    )


async def loop_lag() -> tuple[list[float], int]:
    """Tick lags (ms) while three expensive documents go through the worker; how many were refused."""
    async with JsonLdWorker(time_budget=0.5) as worker:
        await worker.start()
        docs = [expensive_note(f"https://slow.example/notes/{i}", "https://slow.example/u") for i in range(3)]
        tasks = [asyncio.create_task(worker.normalise(doc)) for doc in docs]
        lags = []
        while not all(t.done() for t in tasks):
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - before - 0.01) * 1000)
        results = await asyncio.gather(*tasks, return_exceptions=True)
    return lags, sum(isinstance(r, JsonLdBudgetExceeded) for r in results)


async def nodeinfo_while(port: int, pending: list[asyncio.Task[Any]] | None, count: int = 0) -> list[float]:
    """Answer times (ms) of nodeinfo, every 20 ms: while `pending` runs, or `count` times."""
    conn = await HttpConn.open(port)
    raw = get_request(port, "/.well-known/nodeinfo")
    times = []
    try:
        while (pending is not None and not all(t.done() for t in pending)) or len(times) < count:
            before = time.perf_counter()
            status, _, _ = await conn.send(raw)
            times.append((time.perf_counter() - before) * 1000)
            assert status == 200, status
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return times


async def post_one(port: int, raw: bytes) -> tuple[int, bytes]:
    conn = await HttpConn.open(port)
    try:
        status, _, body = await conn.send(raw)
        return status, body
    finally:
        await conn.close()


async def over_http(rounds: int, rep: Report) -> tuple[list[float], list[float]]:
    ks = KeyServer(1)
    before_all: list[float] = []
    during_all: list[float] = []
    try:
        with workdir("stall") as folder:
            port = free_port()
            config = write_config(folder, port)
            await seed(config)
            with serve_proc(config, port, folder / "serve.log") as serve:
                serve.start("/.well-known/nodeinfo")
                inbox = f"http://{HOST}:{port}/inbox"
                name = next(iter(ks.keys))
                actor = ks.uri(name)
                for round_ in range(rounds):
                    requests = []
                    for i in range(3):
                        note = expensive_note(f"{actor}/statuses/slow-{round_}-{i}", actor)
                        activity = {"@context": [AS] * 40, "id": f"{note['id']}/activity", "type": "Create",
                                    "actor": actor, "object": note}  # fmt: skip
                        body = orjson.dumps(activity)
                        signed = sign_headers("POST", inbox, body, f"{actor}#main-key", ks.keys[name])
                        requests.append(post_request("/inbox", {**signed, "Content-Type": AP}, body))
                    before_all += await nodeinfo_while(port, None, count=50)
                    tasks = [asyncio.create_task(post_one(port, raw)) for raw in requests]
                    during_all += await nodeinfo_while(port, tasks)
                    answers = await asyncio.gather(*tasks)
                    statuses = [status for status, _ in answers]
                    why = {orjson.loads(body).get("error", "") for _, body in answers}
                    rep.line(f"round {round_ + 1}: the three expensive Creates answered {statuses} {sorted(why)}")
    finally:
        ks.close()
    return before_all, during_all


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    rounds = 1 if args.quick else args.rounds
    rep = Report("bench_stall", save=not (args.quick or args.no_save))
    lags: list[float] = []
    for _ in range(rounds):
        round_lags, refused = await loop_lag()
        lags += round_lags
        rep.line(f"in-process: {refused} of 3 documents refused by the time budget, {len(round_lags)} ticks meanwhile")
    rep.line(summary("event loop lag while the worker process runs pyld (10 ms ticks)", lags))
    before, during = await over_http(rounds, rep)
    rep.line(summary("nodeinfo over HTTP before the expensive documents", before))
    rep.line(summary("nodeinfo over HTTP while they are worked on", during))
    worst = max(max(lags), max(during))
    verdict = "MET" if worst <= TARGET_MS else "NOT MET"
    rep.line(f"RESULT worst wait {worst:.1f} ms (loop lag and nodeinfo answers); target <= {TARGET_MS:g} ms: {verdict}")
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
