"""`fediverse-a2 domain …|block|unblock|reports`: the federation policy and moderation."""

from __future__ import annotations

import argparse
import sys

from ..federation.actors import ActorDirectory
from ..i18n import translate
from ..runtime import Runtime
from ..services.moderation import (
    block_actor,
    export_domains,
    import_domains,
    list_actor_blocks,
    list_domains,
    list_reports,
    set_domain,
    unblock_actor,
)
from .common import read_text_file, say, when
from .registry import Registry

__all__ = ["register"]


async def _domain_change(rt: Runtime, args: argparse.Namespace) -> None:
    change = await set_domain(rt, args.action, args.domain, by="cli")
    removed = translate(args.language, "cli_domain_followers_removed", n=change.removed) if change.removed else ""
    say(args, "cli_domain_changed", action=change.action, domain=change.domain, removed=removed)


async def _domain_list(rt: Runtime, args: argparse.Namespace) -> None:
    say(args, "cli_mode", mode=rt.config.federation.mode)
    rules = await list_domains(rt)
    if not rules:
        say(args, "cli_no_domain_rules")
    for rule in rules:
        print(f"{rule.kind}\t{rule.domain}\t{rule.source}")


async def _domain_import(rt: Runtime, args: argparse.Namespace) -> None:
    text = read_text_file(args.file, args.language)
    say(args, "cli_domains_imported", n=await import_domains(rt, text, by="cli"))


async def _domain_export(rt: Runtime, args: argparse.Namespace) -> None:
    sys.stdout.write(await export_domains(rt))


async def _block(rt: Runtime, args: argparse.Namespace) -> None:
    if args.target == "list":  # never a remote handle: those have a host
        blocks = await list_actor_blocks(rt)
        if not blocks:
            say(args, "cli_no_blocks")
        for uri, handle, created in blocks:
            print(f"{handle or '-'}\t{uri}\t{when(created)}")
        return
    say(args, "cli_blocked", target=await block_actor(rt, ActorDirectory(rt), args.target, by="cli"))


async def _unblock(rt: Runtime, args: argparse.Namespace) -> None:
    say(args, "cli_unblocked", target=await unblock_actor(rt, ActorDirectory(rt), args.target, by="cli"))


async def _reports(rt: Runtime, args: argparse.Namespace) -> None:
    found = await list_reports(rt)
    if not found:
        say(args, "cli_no_reports")
    for report in found:
        say(
            args, "cli_report", id=str(report.id), received=when(report.received_at), actor=report.actor_uri,
            objects=str(report.objects), content=report.content,
        )  # fmt: skip
        if report.resolution:
            note = f": {report.resolution_note}" if report.resolution_note else ""
            say(
                args, "cli_report_resolution", resolution=report.resolution, by=str(report.resolved_by),
                when=when(report.resolved_at), note=note,
            )  # fmt: skip


def register(cli: Registry) -> None:
    """Add domain, block, unblock and reports."""
    cli.group("domain", "cli_help_domain")
    for action in ("block", "unblock", "allow", "disallow"):
        cli.command(f"domain {action}", f"cli_help_domain_{action}", _domain_change).add_argument("domain")
    cli.command("domain list", "cli_help_domain_list", _domain_list)
    cli.command("domain import", "cli_help_domain_import", _domain_import).add_argument("file")
    cli.command("domain export", "cli_help_domain_export", _domain_export)
    block = cli.command("block", "cli_help_block", _block)
    block.add_argument("target", metavar="HANDLE_OR_URL")
    cli.command("unblock", "cli_help_unblock", _unblock).add_argument("target", metavar="HANDLE_OR_URL")
    cli.command("reports", "cli_help_reports", _reports)
