"""`fediverse-a2 backup create|verify|restore`: one archive with the database, keys and media.

These run without the Runtime the other commands open: a backup must not create keys or
migrate the database it copies, and a restore fills locations that may not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..config import Config
from ..services.backup import BackupReport, create_backup, restore_backup, verify_backup
from .registry import Registry

__all__ = ["register"]


def _warn(report: BackupReport) -> None:
    for path in report.skipped:
        print(f"note: not backed up (a link or an unusable name): {path}", file=sys.stderr)
    for warning in report.warnings:
        print(f"note: {warning}", file=sys.stderr)


def _create(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(create_backup(config, Path(args.file)))
    _warn(report)
    print(f"backed up to {args.file}: {report.summary()}")


def _verify(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(verify_backup(Path(args.file)))
    _warn(report)
    print(f"ok: {args.file}: every checksum matches; {report.summary()}")


def _restore(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(restore_backup(config, Path(args.file), force=args.force))
    for aside in report.moved_aside:
        print(f"moved aside: {aside}", file=sys.stderr)
    _warn(report)
    print(f"restored {args.file}: {report.summary()}")


def register(cli: Registry) -> None:
    """Add backup create, verify and restore."""
    cli.group("backup", "back up and restore the database, keys and media")
    p = cli.process("backup create", "write FILE (.tar.gz): database, keys, media and a manifest", _create)
    p.add_argument("file", metavar="FILE")
    p = cli.process("backup verify", "check an archive's manifest, checksums and database without restoring", _verify)
    p.add_argument("file", metavar="FILE")
    p = cli.process("backup restore", "restore an archive into the configured, empty locations", _restore)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--force", action="store_true", help="restore over what is there (it is moved aside, not deleted)")
