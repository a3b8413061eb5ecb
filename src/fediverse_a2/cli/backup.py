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
from ..i18n import translate
from ..services.backup import BackupReport, create_backup, restore_backup, verify_backup
from .common import say
from .registry import Registry

__all__ = ["register"]


def _warn(report: BackupReport, language: str) -> None:
    for path in report.skipped:
        _note(language, translate(language, "cli_backup_not_backed_up", path=path))
    for warning in report.warnings:
        _note(language, warning.text(language))


def _note(language: str, text: str) -> None:
    print(translate(language, "cli_note", text=text), file=sys.stderr)


def _create(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(create_backup(config, Path(args.file)))
    _warn(report, args.language)
    say(args, "cli_backup_created", file=args.file, summary=report.summary(args.language))


def _verify(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(verify_backup(Path(args.file)))
    _warn(report, args.language)
    say(args, "cli_backup_verified", file=args.file, summary=report.summary(args.language))


def _restore(config: Config, args: argparse.Namespace) -> None:
    report = asyncio.run(restore_backup(config, Path(args.file), force=args.force))
    for aside in report.moved_aside:
        print(translate(args.language, "cli_backup_moved_aside", path=str(aside)), file=sys.stderr)
    _warn(report, args.language)
    say(args, "cli_backup_restored", file=args.file, summary=report.summary(args.language))


def register(cli: Registry) -> None:
    """Add backup create, verify and restore."""
    cli.group("backup", "cli_help_backup")
    p = cli.process("backup create", "cli_help_backup_create", _create)
    p.add_argument("file", metavar="FILE")
    p = cli.process("backup verify", "cli_help_backup_verify", _verify)
    p.add_argument("file", metavar="FILE")
    p = cli.process("backup restore", "cli_help_backup_restore", _restore)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--force", action="store_true", help=cli.text("cli_help_backup_restore_force"))
