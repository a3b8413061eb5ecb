"""`fediverse-a2 group …`: the network group and topic groups (FEP-1b12)."""

from __future__ import annotations

import argparse

from ..runtime import Runtime
from ..services import groups
from ..store.groups import RULES, VISIBILITIES
from .common import say
from .registry import Registry

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    group = await groups.add_group(rt, args.slug, args.name, args.rule, args.summary or "", args.visibility)
    if group.members_only:
        say(args, "cli_group_created_members_only", group=group.username)
        print(groups.page_url(rt, group.username))
        return
    say(args, "cli_group_created", handle=rt.urls.handle(group.username), rule=group.rule)
    print(rt.urls.actor(group.username))


async def _list(rt: Runtime, args: argparse.Namespace) -> None:
    for group in await groups.list_groups(rt):
        print(f"{group.username}\t{group.name}\t{group.rule}\t{group.visibility}\t{rt.urls.actor(group.username)}")


async def _member(rt: Runtime, args: argparse.Namespace) -> None:
    added = await groups.add_member(rt, args.slug, args.username)
    say(args, "cli_group_member_added" if added else "cli_group_member_already", name=args.username, group=args.slug)


async def _moderator(rt: Runtime, args: argparse.Namespace) -> None:
    await groups.add_moderator(rt, args.slug, args.username)
    say(args, "cli_group_moderator", name=args.username, group=args.slug)


def register(cli: Registry) -> None:
    """Add the group commands."""
    cli.group("group", "cli_help_group")
    add = cli.command("group add", "cli_help_group_add", _add)
    add.add_argument("slug", help=cli.text("cli_help_group_add_slug"))
    add.add_argument("--name", required=True, help=cli.text("cli_help_display_name"))
    add.add_argument("--summary", help=cli.text("cli_help_group_add_summary"))
    add.add_argument("--rule", choices=RULES, default="followers", help=cli.text("cli_help_group_add_rule"))
    add.add_argument(
        "--visibility", choices=VISIBILITIES, default="public",
        help=cli.text("cli_help_group_add_visibility"),
    )  # fmt: skip
    cli.command("group list", "cli_help_group_list", _list)
    member = cli.command("group member", "cli_help_group_member", _member)
    member.add_argument("slug")
    member.add_argument("username")
    mod = cli.command("group moderator", "cli_help_group_moderator", _moderator)
    mod.add_argument("slug")
    mod.add_argument("username")
