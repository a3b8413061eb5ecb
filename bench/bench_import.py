"""`fediverse-a2 import ning` on SQLite: wall time and peak memory of the whole import.

    python bench/bench_import.py            # 400/2,000/20,000 and 10,000/10,000/100,000
    python bench/bench_import.py --quick    # 100 members, 300 posts, 3,000 comments; saves nothing

Each export (members / blog posts / comments, plus 50 groups, 500 discussions, 200 events, 2,000
photos in albums, 200 videos, 20 music tracks and 10 pages and notes) is written by
tests/ning_archive_gen.py in a child process, with every quirk of the real format and its broken
records, and media for one member and blog post in ten and for every photo, video thumbnail and
event (every image then made a real, distinct 640x480 JPEG of noise: the worst case for
re-encoding). Then `fediverse-a2 import ning DIR` runs as its own
process on a fresh instance, as an admin would run it: the figures are its wall time from start to
exit and its peak RSS (VmHWM, sampled), beside the peak RSS of `fediverse-a2 member list` (start-up
alone). A second run of the same import (idempotence: everything is found by legacy id, nothing
written) is timed too. Flat memory: the peak RSS of the large import against the small one
(5x the posts, 5x the comments, 25x the members).

Targets: small <= 45 s (issue 21: with the events, photos and videos); large <= 180 s with flat memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from _common import Report, proc_status, workdir, write_config

ROOT = Path(__file__).resolve().parent.parent

SIZES = {"quick": (100, 300, 10), "small": (400, 2_000, 10), "large": (10_000, 10_000, 10)}
# events, photos, videos of each size
MORE = {"quick": (20, 200, 20), "small": (200, 2_000, 200), "large": (200, 2_000, 200)}
TARGETS = {"quick": 30.0, "small": 45.0, "large": 180.0}


def generate(folder: Path, members: int, posts: int, per_post: int, more: tuple[int, int, int]) -> str:
    """Write the export in a child process; what it wrote."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from ning_archive_gen import generate_archive;"
        "a = generate_archive(Path(sys.argv[2]), members=int(sys.argv[3]), posts=int(sys.argv[4]),"
        " comments_per_post=int(sys.argv[5]), groups=50, discussions=500, events=int(sys.argv[6]),"
        " photos=int(sys.argv[7]), videos=int(sys.argv[8]), tracks=20, pages=5, keep_details=False,"
        " media_every=10);"
        "print(a.counts, a.comments);"
        # The generator's media are placeholders: make every image a real, distinct 640x480 photo-like
        # JPEG, so the import pays for decoding and re-encoding them as it would on a real archive.
        "from PIL import Image; root = Path(sys.argv[2]);"
        "paths = [p for g in ('members/*.jpg', 'blogs/foto*.jpg', 'photos/*.jpg', 'videos/*.jpg', 'events/*.jpg')"
        " for p in sorted(root.glob(g))];"
        "[Image.merge('RGB', [Image.effect_noise((640, 480), 40 + i % 50)] * 3).save(p, 'JPEG', quality=85)"
        " for i, p in enumerate(paths)];"
        "print(len(paths), 'real JPEGs')"
    )
    args = [str(ROOT / "tests"), str(folder), str(members), str(posts), str(per_post), *map(str, more)]
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


def run_cli(config: Path, log: Path, *args: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of one `fediverse-a2` process; its CPU seconds in LAST_CPU.

    The peak is the process's own VmHWM, sampled every 20 ms until it exits (ru_maxrss of a
    child is not usable: Linux carries the parent's high-water mark over fork and exec).
    """
    argv = [sys.executable, "-m", "fediverse_a2", "--config", str(config), *args]
    peak = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("ab") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fh, stderr=fh)
        while proc.poll() is None:
            peak = max(peak, proc_status(proc.pid).get("VmHWM", 0))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, peak / 1024, proc.returncode


# CPU seconds (user + system, all threads) of the last run_cli: the work itself, whatever else the
# machine's cores are doing meanwhile (wall time on a shared machine is not).
LAST_CPU = [0.0]


TABLES = ("members", "posts", "comments", "activities", "legacy_redirects", "media", "site_pages", "deliveries")


def table_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def bench(report: Report, name: str) -> tuple[float, float]:
    members, posts, per_post = SIZES[name]
    with workdir(f"import-{name}") as work:
        export = work / "export"
        t0 = time.perf_counter()
        written = generate(export, members, posts, per_post, MORE[name])
        events, photos, videos = MORE[name]
        report.line(
            f"## {name}: {members:,} members, {posts:,} posts, {posts * per_post:,} comments, "
            f"{events:,} events, {photos:,} photos, {videos:,} videos"
        )
        report.line(f"  export written in {time.perf_counter() - t0:.1f} s: {written}")
        config = write_config(work / "a2", 8999)
        log = work / "import.log"
        _, baseline, _ = run_cli(config, work / "list.log", "member", "list")
        seconds, rss, code = run_cli(config, log, "import", "ning", str(export))
        if code != 0:
            raise SystemExit(f"import failed ({code}):\n{log.read_text()[-3000:]}")
        counts = table_counts(work / "a2/data/db.sqlite3")
        cpu = LAST_CPU[0]
        report.line(
            f"  import: {seconds:.1f} s, CPU {cpu:.1f} s (user + system, all threads), peak RSS {rss:.0f} MB "
            f"(target <= {TARGETS[name]:.0f} s); load average after: {os.getloadavg()[0]:.1f}"
        )
        report.line(f"  reference: peak RSS of `fediverse-a2 member list` (start-up only) {baseline:.0f} MB")
        report.line("  rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        rate = (counts["posts"] + counts["comments"]) / seconds
        report.line(f"  {rate:,.0f} posts+comments per second")
        again, rss2, code = run_cli(config, work / "import-again.log", "import", "ning", str(export))
        same = table_counts(work / "a2/data/db.sqlite3") == counts
        report.line(f"  second run (nothing new): {again:.1f} s, peak RSS {rss2:.0f} MB, unchanged: {same}")
        summary = [line for line in log.read_text().splitlines() if line.startswith(("imported", "took", "skipped"))]
        kinds = [line.strip() for line in log.read_text().splitlines() if line.startswith("  ") and " found, " in line]
        report.line("  report per kind: " + "; ".join(kinds))
        report.line("  summary of the first run: " + "; ".join(summary))
        met = seconds <= TARGETS[name] and code == 0 and same and counts["deliveries"] == 0
        report.line(f"  met: {'yes' if met else 'NO'}")
        return seconds, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small smoke run; saves nothing")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    report = Report("bench_import", save=not (args.quick or args.no_save))
    if args.quick:
        bench(report, "quick")
        return
    _, small_rss = bench(report, "small")
    _, large_rss = bench(report, "large")
    report.line(f"## memory: peak RSS {small_rss:.0f} MB -> {large_rss:.0f} MB (x{large_rss / small_rss:.2f})")
    report.write(args.tag)


if __name__ == "__main__":
    main()
