"""CLI commands for federation and moderation (registered into the main parser)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from .cli import command
from .content import plain_text
from .errors import UserError
from .federation.actors import ActorDirectory
from .runtime import Runtime

__all__ = ["add_federation_commands"]


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def add_federation_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add comment, follow, unfollow, timeline, queue, domain, block, unblock and reports."""
    c = sub.add_parser("comment", help="comment as a member on a post, comment or remote note; prints its URL")
    c.add_argument("username")
    c.add_argument("url", metavar="URL")
    c.add_argument("--body", required=True, help="the comment in Markdown")

    for name, text in (("follow", "follow a remote actor"), ("unfollow", "stop following a remote actor")):
        p = sub.add_parser(name, help=text)
        p.add_argument("username")
        p.add_argument("target", metavar="HANDLE_OR_URL")

    t = sub.add_parser("timeline", help="list posts received from followed actors")
    t.add_argument("username")
    t.add_argument("--limit", type=int, default=50)

    sub.add_parser("queue", help="show deliveries by state and the latest failures")

    d = sub.add_parser("domain", help="federation policy: block, allow, list, import, export")
    dsub = d.add_subparsers(dest="action", metavar="ACTION", parser_class=d.__class__)
    dsub.required = True
    for action in ("block", "unblock", "allow", "disallow"):
        dp = dsub.add_parser(action, help=f"{action} a domain (subdomains included)")
        dp.add_argument("domain")
    dsub.add_parser("list", help="list the rules in force")
    imp = dsub.add_parser("import", help="import a Mastodon domain-block CSV")
    imp.add_argument("file")
    dsub.add_parser("export", help="print the blocks as a Mastodon domain-block CSV")

    for name, text in (("block", "block one remote actor"), ("unblock", "lift an actor block")):
        p = sub.add_parser(name, help=text)
        p.add_argument("target", metavar="USERNAME_OR_HANDLE")

    sub.add_parser("reports", help="list reports (Flag activities) from other servers")


@command("comment")
async def _comment(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.social import comment

    print(await comment(rt, ActorDirectory(rt), args.username, args.url, args.body))


@command("follow")
async def _follow(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.social import follow

    uri = await follow(rt, ActorDirectory(rt), args.username, args.target)
    print(f"follow request sent to {uri}")


@command("unfollow")
async def _unfollow(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.social import unfollow

    uri = await unfollow(rt, ActorDirectory(rt), args.username, args.target)
    print(f"unfollowed {uri}")


@command("timeline")
async def _timeline(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.social import timeline

    rows = await timeline(rt, args.username, max(1, min(args.limit, 1000)))
    if not rows:
        print("no posts yet")
    for row in rows:
        text = plain_text(row["content_html"])
        text = text if len(text) <= 200 else text[:200] + "…"
        print(f"{_when(row['published'])}  {row['handle'] or ''}  {row['url'] or row['ap_id']}\n    {text}")


@command("queue")
async def _queue(rt: Runtime, args: argparse.Namespace) -> None:
    from .store import deliveries

    counts = await deliveries.summary(rt.db)
    print("deliveries by state:")
    if not counts:
        print("  (none)")
    for row in counts:
        print(f"  {row['state']:<8} {row['n']}")
    rows = await deliveries.failures(rt.db)
    if rows:
        print("recent failures and retries:")
    for row in rows:
        status = row["last_status"] if row["last_status"] is not None else "-"
        retry = f" next {_when(row['next_attempt_at'])}" if row["state"] == "pending" else ""
        print(f"  #{row['id']} {row['type']} -> {row['inbox']} [{row['state']}, {row['attempts']} attempts, "
              f"status {status}{retry}] {row['last_error'] or ''}")


@command("domain block")
@command("domain unblock")
@command("domain allow")
@command("domain disallow")
async def _domain_change(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import set_domain

    print(await set_domain(rt, args.action, args.domain))


@command("domain list")
async def _domain_list(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import list_domains

    print(f"mode: {rt.config.federation.mode}")
    rules = await list_domains(rt)
    if not rules:
        print("no domain rules")
    for rule in rules:
        print(f"{rule.kind}\t{rule.domain}\t{rule.source}")


@command("domain import")
async def _domain_import(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import import_domains

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"file not found: {args.file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {args.file}: {exc}") from None
    print(f"imported {await import_domains(rt, text)} domain block(s)")


@command("domain export")
async def _domain_export(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import export_domains

    sys.stdout.write(await export_domains(rt))


@command("block")
async def _block(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import block_actor

    print(f"blocked {await block_actor(rt, ActorDirectory(rt), args.target)}")


@command("unblock")
async def _unblock(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import unblock_actor

    print(f"unblocked {await unblock_actor(rt, ActorDirectory(rt), args.target)}")


@command("reports")
async def _reports(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.moderation import list_reports

    rows = await list_reports(rt)
    if not rows:
        print("no reports")
    for row in rows:
        print(f"#{row['id']} {_when(row['received_at'])} from {row['actor_uri']}\n    objects: {row['objects']}\n    {row['content']}")
