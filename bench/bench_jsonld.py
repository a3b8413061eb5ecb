"""Benchmark of the inbound pipeline: jsonld.normalise + parse over a realistic mix.

Usage (from the repository root, with the project installed)::

    python bench/bench_jsonld.py            # 5000 documents
    python bench/bench_jsonld.py -n 20000 --seed 7
    python bench/bench_jsonld.py --quick    # 300 documents, smoke run

The mix is drawn from tests/fixtures/payloads: 65% Mastodon-shaped (a Create reply and,
now and then, an actor document), 10% GoToSocial, 10% Misskey, 5% Fedify, 5% Lemmy and
Mitra (a Lemmy reply, a Mitra note, a Lemmy group, a Funkwhale actor) and 5% the expanded
JSON-LD form of the Mastodon Create, which is the only one taking pyld's slow path. It
prints the share of documents on the fast path, the mean time per document on each path
(normalise + parse_activity/parse_note or parse_actor), and the mean over the whole mix.
One warm-up pass first pays for pyld's import and the context processing, which a running
server pays once. Then the slow-path documents (at most 200) go once more through
`federation.jsonld_worker.JsonLdWorker`, as the inbox sends them, to show what the trip to
the worker process adds. This is a script, not a test: nothing asserts on the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from fediverse_a2.activitypub.jsonld import normalise
from fediverse_a2.activitypub.parse import parse_activity, parse_actor, parse_note
from fediverse_a2.federation.jsonld_worker import JsonLdWorker

PAYLOADS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "payloads"

# (weight, fixture files drawn from uniformly within the group)
MIX: list[tuple[float, list[str]]] = [
    (0.65, ["mastodon_create_reply.json"] * 4 + ["mastodon_actor.json"]),
    (0.10, ["gotosocial_create.json"] * 3 + ["gotosocial_actor.json"]),
    (0.10, ["misskey_create_quote.json"]),
    (0.05, ["fedify_create.json"] * 3 + ["fedify_actor.json"]),
    (
        0.05,
        ["lemmy_create_note.json"] * 3
        + ["mitra_create_note.json"] * 2
        + ["lemmy_group_actor.json", "funkwhale_actor.json"],
    ),
    (0.05, ["expanded_create.json"]),
]


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def process(doc: dict[str, Any]) -> bool:
    """normalise + parse one document; True when it took the fast path."""
    out = normalise(doc)
    if "inbox" in out:
        parse_actor(out)
    else:
        activity = parse_activity(out)
        if isinstance(activity.object, dict):
            parse_note(activity.object)
    return out is doc


def draw(n: int, rng: random.Random) -> list[dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    weights = [w for w, _ in MIX]
    docs = []
    for _ in range(n):
        group = rng.choices(MIX, weights=weights)[0][1]
        name = rng.choice(group)
        if name not in cache:
            cache[name] = load(name)
        docs.append(cache[name])
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="documents to process (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the mix (default 1)")
    parser.add_argument("--quick", action="store_true", help="300 documents, a smoke run")
    args = parser.parse_args()

    docs = draw(300 if args.quick else args.n, random.Random(args.seed))
    started = time.perf_counter()
    for name in sorted({n for _, group in MIX for n in group}):
        process(load(name))  # warm-up: pyld import, context resolution
    warm_up = time.perf_counter() - started

    fast: list[float] = []
    slow: list[float] = []
    clock = time.perf_counter_ns
    total_start = clock()
    for doc in docs:
        t0 = clock()
        took_fast = process(doc)
        elapsed = (clock() - t0) / 1000
        (fast if took_fast else slow).append(elapsed)
    total = (clock() - total_start) / 1000

    def line(label: str, values: list[float]) -> str:
        if not values:
            return f"{label:<10} n=0"
        return (
            f"{label:<10} n={len(values):<6} mean {statistics.fmean(values):9.1f} µs"
            f"   median {statistics.median(values):9.1f} µs"
        )

    print(f"documents            {len(docs)} (seed {args.seed}); warm-up {warm_up * 1000:.0f} ms")
    print(f"fast-path share      {len(fast) / len(docs):.1%}")
    print(line("fast path", fast))
    print(line("slow path", slow))
    print(f"mix mean             {total / len(docs):9.1f} µs/doc ({len(docs) / (total / 1e6):,.0f} docs/s)")
    slow_docs = [doc for doc in docs if normalise(doc) is not doc][:200]
    print(line("via worker", asyncio.run(through_worker(slow_docs))))


async def through_worker(docs: list[dict[str, Any]]) -> list[float]:
    """µs per document for JsonLdWorker.normalise, one document at a time (process started first)."""
    times: list[float] = []
    async with JsonLdWorker() as worker:
        await worker.start()
        for doc in docs:
            t0 = time.perf_counter_ns()
            await worker.normalise(doc)
            times.append((time.perf_counter_ns() - t0) / 1000)
    return times


if __name__ == "__main__":
    main()
