"""`fediverse-a2 import ning|page|map`: bring the old network's archive in, and list its old addresses."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ..importer.ning import DEFAULT_BATCH, import_ning
from ..importer.page import import_pages
from ..importer.progress import make_progress
from ..runtime import Runtime
from ..store import legacy
from .registry import Registry, count

__all__ = ["register"]


async def _ning(rt: Runtime, args: argparse.Namespace) -> None:
    summary = await import_ning(
        rt, Path(args.folder), make_progress(), dry_run=args.dry_run, batch_size=args.batch_size
    )
    for line in summary.lines():
        print(line)


async def _page(rt: Runtime, args: argparse.Namespace) -> None:
    summary, urls = await import_pages(
        rt, [Path(f) for f in args.files], args.author, make_progress(), dry_run=args.dry_run
    )
    for line in summary.lines():
        print(line)
    for url in urls:  # the post's URL last (one per page, in the order given)
        print(url)


async def _map(rt: Runtime, args: argparse.Namespace) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["old", "new", "kind"])
    async for old, target, kind in legacy.redirects(rt.db):
        out.writerow([old, target, kind])


def register(cli: Registry) -> None:
    """Add `import ning`, `import page` and `import map`."""
    cli.group("import", "import the old network's archive (Ning export, saved pages)")
    ning = cli.command("import ning", "import a Ning archiver export folder (idempotent, resumable)", _ning)
    ning.add_argument("folder", metavar="DIR", help="the folder with ning-members.json, ning-blogs.json, ...")
    ning.add_argument("--dry-run", action="store_true", help="say what would be imported; change nothing")
    ning.add_argument(
        "--batch-size", type=count, default=DEFAULT_BATCH, metavar="N",
        help=f"posts (with their comments) per transaction (default {DEFAULT_BATCH})",
    )  # fmt: skip
    page = cli.command("import page", "import pages saved from the old site; prints each post's URL", _page)
    page.add_argument("files", metavar="FILE", nargs="+", help="a page saved as text or HTML")
    page.add_argument("--author", required=True, metavar="USERNAME", help="the member who wrote the post(s)")
    page.add_argument("--dry-run", action="store_true", help="say what would be imported; change nothing")
    cli.command("import map", "print the CSV of old ids and addresses -> new URLs", _map)
