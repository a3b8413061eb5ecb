"""`fediverse-a2 group …`: the network group and topic groups (FEP-1b12)."""

from __future__ import annotations

import argparse

from ..runtime import Runtime
from ..services import groups
from ..store.groups import RULES
from .common import say
from .registry import Registry

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    group = await groups.add_group(rt, args.slug, args.name, args.rule, args.summary or "")
    say(args, "cli_group_created", handle=rt.urls.handle(group.username), rule=group.rule)
    print(rt.urls.actor(group.username))


async def _list(rt: Runtime, args: argparse.Namespace) -> None:
    for group in await groups.list_groups(rt):
        print(f"{group.username}\t{group.name}\t{group.rule}\t{rt.urls.actor(group.username)}")


async def _moderator(rt: Runtime, args: argparse.Namespace) -> None:
    await groups.add_moderator(rt, args.slug, args.username)
    say(args, "cli_group_moderator", name=args.username, group=args.slug)


def register(cli: Registry) -> None:
    """Add the group commands."""
    cli.group("group", "the network group and topic groups")
    add = cli.command("group add", "create a topic group (a Group actor members post into)", _add)
    add.add_argument("slug", help="the group's username: @SLUG@HOST")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--summary", help="short description")
    add.add_argument(
        "--rule", choices=RULES, default="followers", help="whose remote posts it announces (default: followers)"
    )
    cli.command("group list", "list groups: name, display name, rule, actor", _list)
    mod = cli.command("group moderator", "let a member remove posts from a group", _moderator)
    mod.add_argument("slug")
    mod.add_argument("username")
