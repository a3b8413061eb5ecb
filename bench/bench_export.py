"""`fediverse-a2 member export` on SQLite: wall time and peak memory of a member's whole archive.

    python bench/bench_export.py            # 1,000 and 20,000 posts (+ 10 comments each); saves the figures
    python bench/bench_export.py --quick    # 200 posts; saves nothing

One member holds N published posts (each also in the outbox, as the Create that went out, about
2 KB of Markdown each), N x 10 comments of their own and N follows; the export is one CLI process
writing the zip, timed until it exits, with its peak RSS (VmHWM, sampled). The export reads a
page at a time and writes entry by entry, so its memory must stay flat from N to 20 x N: the
reference is the peak RSS of `fediverse-a2 member list` (start-up only).
"""

from __future__ import annotations

import argparse
import asyncio
import zipfile
from pathlib import Path

import orjson

from _common import Report, workdir, write_config
from bench_import import run_cli
from fediverse_a2.activitypub import build
from fediverse_a2.config import load_config
from fediverse_a2.models import Post
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import activities, comments, posts

SIZES = {"quick": 200, "small": 1_000, "large": 20_000}
BODY = ("Open data helpt de overheid en de burger. " * 48).strip()  # about 2 KB


async def fill(config: Path, n: int) -> None:
    """alice with n posts (and their Creates), 10 comments on each, following n accounts."""
    rt = await Runtime.open(load_config(config))
    try:
        alice = await add_member(rt, "alice", "Alice de Vries")
        actor = rt.urls.actor("alice")
        for start in range(0, n, 500):
            batch = [
                posts.NewPost(f"bench:{i}", alice.id, f"Blogpost {i}", BODY, f"<p>{BODY}</p>", 1.7e9 + i, None,
                              "published", "bench")
                for i in range(start, min(n, start + 500))
            ]  # fmt: skip
            async with rt.db.transaction() as tx:
                ids = await posts.add_many(tx, batch)
                creates = []
                for post_id, row in zip(ids, batch, strict=True):
                    post = Post(post_id, alice.id, "alice", alice.name, row.title, row.body_md, row.content_html,
                                row.published, None, None, 0)  # fmt: skip
                    create = build.create(build.post_note(post, rt.urls, "nl"))
                    creates.append(activities.NewActivity(create["id"], alice.id, "Create", rt.urls.post(post_id),
                                                          orjson.dumps(create).decode(), row.published))  # fmt: skip
                await activities.add_many(tx, creates)
                own = [
                    comments.NewComment(f"bench:c:{post_id}:{k}", post_id, alice.id, actor, rt.urls.host,
                                        f"<p>Reactie {k} op {post_id}</p>", 1.7e9 + post_id * 60 + k)
                    for post_id in ids for k in range(10)
                ]  # fmt: skip
                await comments.add_many(tx, own)
                await tx.executemany(
                    "INSERT INTO following (member_id, actor_uri, follow_id, state, created_at) "
                    "VALUES (?, ?, ?, 'accepted', 0)",
                    [(alice.id, f"https://r{i % 50}.example/users/u{i}", f"{actor}#follows/{i}") for i in ids],
                )
    finally:
        await rt.close()


def bench(report: Report, name: str) -> float:
    n = SIZES[name]
    with workdir(f"export-{name}") as work:
        config = write_config(work / "a2", 8999)
        asyncio.run(fill(config, n))
        report.line(f"## {name}: {n:,} posts, {n * 10:,} comments, {n:,} follows of one member")
        _, baseline, _ = run_cli(config, work / "list.log", "member", "list")
        target = work / "alice.zip"
        seconds, rss, code = run_cli(config, work / "export.log", "member", "export", "alice", str(target))
        if code != 0:
            raise SystemExit(f"export failed ({code}):\n{(work / 'export.log').read_text()[-3000:]}")
        with zipfile.ZipFile(target) as zf:
            outbox = orjson.loads(zf.read("outbox.json"))
            entries = len(zf.namelist())
        report.line(f"  export: {seconds:.1f} s, peak RSS {rss:.0f} MB; zip {target.stat().st_size / 1e6:.1f} MB, "
                    f"{entries:,} entries, outbox {outbox['totalItems']:,} items")  # fmt: skip
        report.line(f"  reference: peak RSS of `fediverse-a2 member list` (start-up only) {baseline:.0f} MB")
        assert outbox["totalItems"] == n
        return rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small smoke run; saves nothing")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    report = Report("bench_export", save=not (args.quick or args.no_save))
    if args.quick:
        bench(report, "quick")
        return
    small = bench(report, "small")
    large = bench(report, "large")
    report.line(f"## memory: peak RSS {small:.0f} MB -> {large:.0f} MB (x{large / small:.2f}) for 20x the data")
    report.line(f"  met (flat: <= x1.2): {'yes' if large / small <= 1.2 else 'NO'}")
    report.write(args.tag)


if __name__ == "__main__":
    main()
