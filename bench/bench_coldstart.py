"""Cold start: `fediverse-a2 serve` until its first answer, 5 times, median.

    python bench/bench_coldstart.py           # 5 starts
    python bench/bench_coldstart.py --quick   # 2 starts

Each start is a new process on an existing instance folder (database migrated, keys made,
one member and one post), timed from Popen until GET /.well-known/nodeinfo answers.
The instance folder is made once, so the first start pays no key generation.
Reference: the bare Starlette + uvicorn app (bench/_bare.py) until its first answer, same count.
Also printed: `python -X importtime` of fediverse_a2.cli + server + app (the modules serve loads
before it listens), the 8 slowest imports.
Target: < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Report, bare_proc, free_port, median, run_cli, serve_proc, workdir, write_config


def import_times() -> list[tuple[int, str]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import fediverse_a2.cli, fediverse_a2.server, fediverse_a2.app, fediverse_a2.background.workers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (p.strip() for p in line[len("import time:") :].split("|"))
            rows.append((int(cumulative), name))
    return rows


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    n = 2 if args.quick else args.n
    rep = Report("bench_coldstart", save=not (args.quick or args.no_save))
    with workdir("coldstart") as folder:
        port = free_port()
        config = write_config(folder / "a2", port)
        run_cli(config, "member", "add", "alice", "--name", "Alice de Vries")
        run_cli(config, "post", "alice", "--title", "Hallo", "--body", "Eerste bericht.")
        times = []
        for _i in range(n):
            with serve_proc(config, port, folder / "serve.log") as proc:
                times.append(proc.start("/.well-known/nodeinfo"))
        ref = []
        for _i in range(n):
            p = free_port()
            with bare_proc(p, folder / "bare.log") as proc:
                ref.append(proc.start("/"))
    rows = import_times()
    total = next((c for c, name in rows if name == "fediverse_a2.cli"), 0)
    rep.line(f"serve until first answer: {', '.join(f'{t:.3f}' for t in times)} s; median {median(times):.3f} s")
    rep.line(
        f"reference (bare Starlette + uvicorn): {', '.join(f'{t:.3f}' for t in ref)} s; median {median(ref):.3f} s"
    )
    rep.line(f"import of fediverse_a2.cli: {total / 1e3:.0f} ms cumulative; slowest imports (cumulative ms):")
    top = sorted(((c, name) for c, name in rows if not name.startswith(" ")), reverse=True)
    shown = 0
    for c, name in sorted(rows, reverse=True):
        if name.strip().startswith(("fediverse_a2", "encodings", "site")) or shown >= 8:
            continue
        rep.line(f"    {c / 1e3:7.1f}  {name.strip()}")
        shown += 1
    del top
    m = median(times)
    rep.line(
        f"RESULT cold start median {m:.3f} s = {m / median(ref):.2f}x the bare app; target < 1 s: "
        f"{'MET' if m < 1 else 'NOT MET'}"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
