"""`fediverse-a2 member …`: members and their accounts."""

from __future__ import annotations

import argparse

from ..runtime import Runtime
from ..services.members import add_member
from ..store import members
from .registry import Registry

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    member = await add_member(rt, args.username, args.name, args.summary or "")
    print(f"created {rt.urls.handle(member.username)}")
    print(rt.urls.actor(member.username))


async def _list(rt: Runtime, args: argparse.Namespace) -> None:
    for member in await members.list_all(rt.db):
        print(f"{member.username}\t{member.name}\t{rt.urls.actor(member.username)}")


def register(cli: Registry) -> None:
    """Add the member commands."""
    cli.group("member", "manage members")
    add = cli.command("member add", "create a member and its key pair", _add)
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--summary", help="short profile text")
    cli.command("member list", "list members", _list)
