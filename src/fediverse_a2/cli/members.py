"""`fediverse-a2 member …`: members and their accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..i18n import translate
from ..models import ROLES
from ..runtime import Runtime
from ..services import accounts
from ..services.erasure import erase_account
from ..services.export import export_to_file
from ..services.members import add_member, require_member
from ..services.membership import approve, pending_requests, reject
from ..services.moving import move_account
from ..store import members
from .common import say, when
from .registry import Registry, count

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    member = await add_member(rt, args.username, args.name, args.summary or "")
    say(args, "cli_member_created", handle=rt.urls.handle(member.username))
    print(rt.urls.actor(member.username))


async def _list(rt: Runtime, args: argparse.Namespace) -> None:
    for member in await members.list_all(rt.db):
        flags = [] if member.can_sign_in else [member.state if member.state != "active" else "disabled"]
        extra = f"\t{member.role}" + (f"\t{','.join(flags)}" if flags else "")
        print(f"{member.username}\t{member.name}\t{rt.urls.actor(member.username)}{extra}")


def _read_password(language: str) -> str:
    """The new password: typed without echo on a terminal, else one line from standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(translate(language, "cli_new_password"))
        if getpass.getpass(translate(language, "cli_password_again")) != first:
            raise UserError("the two passwords differ", key="passwords_differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _password(rt: Runtime, args: argparse.Namespace) -> None:
    member = await require_member(rt, args.username)
    await accounts.set_password(rt, member, _read_password(args.language))
    say(args, "cli_password_set", name=member.username)


async def _invite(rt: Runtime, args: argparse.Namespace) -> None:
    print(await accounts.invite_member(rt, args.username))


async def _role(rt: Runtime, args: argparse.Namespace) -> None:
    member = await accounts.set_role(rt, args.username, args.role)
    say(args, "cli_role_set", name=member.username, role=args.role)


async def _disable(rt: Runtime, args: argparse.Namespace) -> None:
    member = await accounts.set_disabled(rt, args.username, args.action == "disable")
    say(args, "cli_member_disabled" if args.action == "disable" else "cli_member_enabled", name=member.username)


async def _requests(rt: Runtime, args: argparse.Namespace) -> None:
    waiting = await pending_requests(rt)
    if not waiting:
        say(args, "cli_no_requests")
    for r in waiting:
        print(f"#{r.id}\t{when(r.created_at)}\t{r.name}\t{r.email}\t{r.organisation}\n    {r.motivation}")


async def _approve(rt: Runtime, args: argparse.Namespace) -> None:
    member, link = await approve(rt, args.id, None, args.username)
    say(args, "cli_invited", handle=rt.urls.handle(member.username))
    print(link)


async def _reject(rt: Runtime, args: argparse.Namespace) -> None:
    await reject(rt, args.id, None)
    say(args, "cli_request_rejected", id=str(args.id))


async def _export(rt: Runtime, args: argparse.Namespace) -> None:
    member = await require_member(rt, args.username)
    await export_to_file(rt, member, Path(args.file))
    say(args, "cli_exported", name=member.username, file=args.file)


async def _delete(rt: Runtime, args: argparse.Namespace) -> None:
    member = await require_member(rt, args.username)
    if sys.stdin.isatty():
        typed = input(translate(args.language, "cli_delete_confirm", name=member.username)).strip()
        if typed != member.username:
            raise UserError("not confirmed; nothing was deleted", key="cli_not_confirmed")
    erased = await erase_account(rt, member, "cli")
    say(args, "cli_deleted", name=member.username)
    if erased.inboxes:
        say(args, "cli_delete_queued", actor=erased.actor, n=erased.inboxes)


async def _move(rt: Runtime, args: argparse.Namespace) -> None:
    target = await move_account(rt, ActorDirectory(rt), args.username, args.target)
    say(args, "cli_moved", name=args.username, target=target)


def register(cli: Registry) -> None:
    """Add the member commands."""
    cli.group("member", "cli_help_member")
    add = cli.command("member add", "cli_help_member_add", _add)
    add.add_argument("username")
    add.add_argument("--name", required=True, help=cli.text("cli_help_display_name"))
    add.add_argument("--summary", help=cli.text("cli_help_member_add_summary"))
    cli.command("member list", "cli_help_member_list", _list)
    cli.command("member password", "cli_help_member_password", _password).add_argument("username")
    cli.command("member invite", "cli_help_member_invite", _invite).add_argument("username")
    role = cli.command("member role", "cli_help_member_role", _role)
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    for action, text in (("disable", "cli_help_member_disable"), ("enable", "cli_help_member_enable")):
        cli.command(f"member {action}", text, _disable).add_argument("username")
    cli.command("member requests", "cli_help_member_requests", _requests)
    approve_cmd = cli.command("member approve", "cli_help_member_approve", _approve)
    approve_cmd.add_argument("id", type=count)
    approve_cmd.add_argument("--username", help=cli.text("cli_help_member_approve_username"))
    cli.command("member reject", "cli_help_member_reject", _reject).add_argument("id", type=count)
    export = cli.command("member export", "cli_help_member_export", _export)
    export.add_argument("username")
    export.add_argument("file", help=cli.text("cli_help_member_export_file"))
    cli.command("member delete", "cli_help_member_delete", _delete).add_argument("username")
    move = cli.command("member move", "cli_help_member_move", _move)
    move.add_argument("username")
    move.add_argument("target", help=cli.text("cli_help_member_move_target"))
