"""`fediverse-a2 import ning|page|map`: bring the old network's archive in, and list its old addresses."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ..errors import UserError
from ..i18n import translate
from ..importer.ning import DEFAULT_BATCH, import_ning
from ..importer.page import import_pages
from ..importer.page_images import files_folder
from ..importer.progress import make_progress
from ..importer.report import CSV_HEADER, Summary
from ..runtime import Runtime
from ..store import legacy
from .common import os_reason, say
from .registry import Registry, count

__all__ = ["register"]

# Why an image of a saved page was left out (page_images.REASONS), as a warning line.
_LEFT_OUT = {
    "missing": "cli_import_page_image_missing",
    "not_an_image": "cli_import_page_image_not_an_image",
    "outside": "cli_import_page_image_outside",
    "too_large": "cli_import_page_image_too_large",
}


def _write_report(path: Path, summary: Summary, language: str) -> None:
    """The report per kind as CSV (kind, outcome, count, reason)."""
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(CSV_HEADER)
            out.writerows(summary.csv_rows())
    except OSError as exc:
        values = {"file": str(path), "reason": os_reason(exc, language)}
        raise UserError(
            f"cannot write the report to {path}: {exc.strerror or exc}",
            key="cli_import_report_unwritable",
            values=values,
        ) from None


async def _ning(rt: Runtime, args: argparse.Namespace) -> None:
    report = Path(args.report) if args.report else None
    if report is not None and (report.is_dir() or not report.parent.is_dir()):
        reason = translate(args.language, "cli_import_report_no_folder")
        raise UserError(
            f"cannot write the report to {report}: not a file in an existing folder",
            key="cli_import_report_unwritable",
            values={"file": str(report), "reason": reason},
        )
    summary = await import_ning(
        rt, Path(args.folder), make_progress(language=args.language), dry_run=args.dry_run, batch_size=args.batch_size
    )
    for line in summary.lines(args.language):
        print(line)
    if report is not None:
        _write_report(report, summary, args.language)
        say(args, "cli_import_report_written", file=str(report))


async def _page(rt: Runtime, args: argparse.Namespace) -> None:
    summary, urls, warnings = await import_pages(
        rt, [Path(f) for f in args.files], args.author, make_progress(language=args.language), dry_run=args.dry_run
    )
    for warning in warnings:  # one line each, on stderr: the import itself went well
        values = {"page": str(warning.page), "image": warning.image.src, "folder": files_folder(warning.page).name}
        print(translate(args.language, _LEFT_OUT[warning.image.reason], **values), file=sys.stderr)
    for line in summary.lines(args.language):
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
    cli.group("import", "cli_help_import")
    ning = cli.command("import ning", "cli_help_import_ning", _ning)
    ning.add_argument("folder", metavar="DIR", help=cli.text("cli_help_import_ning_folder"))
    ning.add_argument("--dry-run", action="store_true", help=cli.text("cli_help_import_dry_run"))
    ning.add_argument(
        "--batch-size", type=count, default=DEFAULT_BATCH, metavar="N",
        help=cli.text("cli_help_import_ning_batch_size", default=str(DEFAULT_BATCH)),
    )  # fmt: skip
    ning.add_argument("--report", metavar="FILE", help=cli.text("cli_help_import_ning_report"))
    page = cli.command("import page", "cli_help_import_page", _page)
    page.add_argument("files", metavar="FILE", nargs="+", help=cli.text("cli_help_import_page_files"))
    page.add_argument("--author", required=True, metavar="USERNAME", help=cli.text("cli_help_import_page_author"))
    page.add_argument("--dry-run", action="store_true", help=cli.text("cli_help_import_dry_run"))
    cli.command("import map", "cli_help_import_map", _map)
