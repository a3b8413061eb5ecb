"""Reading a generated Ning export: time and peak memory of the pure reading side (no database).

    python bench/bench_archive_read.py            # 10,000 members, 10,000 posts, 100,000 comments
    python bench/bench_archive_read.py --quick    # a tenth of that

The export is written by tests/ning_archive_gen.py in a child process (so its memory does not
count here), with every quirk of the real format and the broken records it plants. Then, in this
process: every record of members, blogs, groups and discussions is read with its -local twin
(`iter_export`), parsed into the frozen records, its media listed (`media_refs`); usernames are
assigned to the whole member list; and, as a separate figure, every post and comment description is
sanitised (`sanitise_archive_html`), which the importer does too.

Figures: wall time per step, records and MB per second of the raw scan, VmHWM of this process
before and after, and tracemalloc's peak of Python allocations during the blogs pass, measured
once for the first tenth of the posts and once for all of them: flat memory means the two are
about the same. Target (the importer's budget for everything, database included): <= 180 s for
10,000 members, 10,000 posts and 100,000 comments, with flat memory. Prints; saves nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fediverse_a2.archive.ning_files import iter_export  # noqa: E402
from fediverse_a2.archive.ning_groups import parse_discussion, parse_group  # noqa: E402
from fediverse_a2.archive.ning_html import sanitise_archive_html  # noqa: E402
from fediverse_a2.archive.ning_media import media_refs  # noqa: E402
from fediverse_a2.archive.ning_model import parse_member, parse_post  # noqa: E402
from fediverse_a2.archive.usernames import assign_usernames  # noqa: E402


def vm_hwm_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(folder: Path, members: int, posts: int, per_post: int) -> None:
    """Write the export in a child process."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from ning_archive_gen import generate_archive;"
        "a = generate_archive(Path(sys.argv[2]), members=int(sys.argv[3]), posts=int(sys.argv[4]),"
        " comments_per_post=int(sys.argv[5]), groups=50, discussions=500, keep_details=False, media_every=10);"
        "print(a.counts, a.comments, a.broken)"
    )
    args = [str(ROOT / "tests"), str(folder), str(members), str(posts), str(per_post)]
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    print("  written:", out.stdout.strip())


def read_blogs(folder: Path, limit: int | None = None) -> tuple[int, int, int, int]:
    """(posts, comments, media refs, unreadable records) of the blogs pass."""
    posts = comments = refs = bad = 0
    for result in iter_export(folder, "blogs"):
        if limit is not None and result.index > limit:
            break
        if result.data is None:
            bad += 1
            continue
        post = parse_post(result.data)
        posts += 1
        comments += len(post.comments)
        refs += len(media_refs(post))
    return posts, comments, refs, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    members, posts, per_post = 10_000 // scale, 10_000 // scale, 10

    with tempfile.TemporaryDirectory(prefix="fa2-bench-archive-") as tmp:
        folder = Path(tmp) / "export"
        t0 = time.perf_counter()
        generate(folder, members, posts, per_post)
        print(f"generate (child process): {time.perf_counter() - t0:.1f} s")
        sizes = {p.name: p.stat().st_size for p in folder.glob("ning-*.json")}
        total_mb = sum(sizes.values()) / 1e6
        blogs_mb = (sizes["ning-blogs.json"] + sizes["ning-blogs-local.json"]) / 1e6
        print(f"export: {total_mb:.1f} MB of JSON ({blogs_mb:.1f} MB blogs with twin)")
        hwm_before = vm_hwm_mb()

        t = time.perf_counter()
        names: list[tuple[str, str]] = []
        bad_members = 0
        for result in iter_export(folder, "members"):
            if result.data is None:
                bad_members += 1
                continue
            member = parse_member(result.data)
            media_refs(member)
            names.append((member.contributor_name, member.full_name))
        t_members = time.perf_counter() - t
        t = time.perf_counter()
        usernames = assign_usernames(names)
        t_usernames = time.perf_counter() - t

        t = time.perf_counter()
        n_posts, n_comments, n_refs, bad_posts = read_blogs(folder)
        t_blogs = time.perf_counter() - t

        t = time.perf_counter()
        n_groups = sum(1 for r in iter_export(folder, "groups") if r.data and parse_group(r.data))
        n_disc = sum(1 for r in iter_export(folder, "discussions") if r.data and parse_discussion(r.data))
        t_groups = time.perf_counter() - t

        t = time.perf_counter()
        raw = sum(1 for _ in iter_export(folder, "blogs"))
        t_raw = time.perf_counter() - t

        t = time.perf_counter()
        sanitised = 0
        for result in iter_export(folder, "blogs"):
            if result.data is None:
                continue
            post = parse_post(result.data)
            sanitise_archive_html(post.description)
            for comment in post.comments:
                sanitise_archive_html(comment.description)
            sanitised += 1 + len(post.comments)
        t_sanitise = time.perf_counter() - t
        hwm_after = vm_hwm_mb()

        tenth = max(1, posts // 10)
        tracemalloc.start()
        read_blogs(folder, limit=tenth)
        peak_tenth = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        read_blogs(folder)
        peak_all = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    read_total = t_members + t_usernames + t_blogs + t_groups
    print(f"members:     {len(names):>7,} read, {bad_members} unreadable   {t_members:6.2f} s")
    print(f"usernames:   {len(usernames):>7,} assigned              {t_usernames:6.2f} s")
    print(f"blogs:       {n_posts:>7,} posts, {n_comments:,} comments, {n_refs:,} media refs, "
          f"{bad_posts} unreadable   {t_blogs:6.2f} s")  # fmt: skip
    print(f"groups+disc: {n_groups:>7,} groups, {n_disc:,} discussions  {t_groups:6.2f} s")
    print(f"read, parse, media, usernames: {read_total:.2f} s in all")
    print(f"raw scan of the blogs and their twin: {raw:,} records in {t_raw:.2f} s = {blogs_mb / t_raw:.1f} MB/s")
    print(f"sanitising {sanitised:,} descriptions (posts and comments, parse included): {t_sanitise:.2f} s")
    print(f"VmHWM: {hwm_before:.1f} MB before reading, {hwm_after:.1f} MB after")
    print(f"tracemalloc peak, blogs pass: first {tenth:,} posts {peak_tenth / 1e6:.2f} MB, "
          f"all {posts:,} posts {peak_all / 1e6:.2f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
