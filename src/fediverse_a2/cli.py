"""The `fediverse-a2` command: parses arguments, opens a Runtime and calls into services."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import NoReturn

from .config import Config, ConfigError, config_path, load_config
from .errors import UserError
from .runtime import Runtime

__all__ = ["main"]

PROG = "fediverse-a2"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad call ends in one line on stderr, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _body(args: argparse.Namespace, required: bool) -> str | None:
    """The post body from --body or --body-file."""
    if getattr(args, "body_file", None):
        path = Path(args.body_file)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"body file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read body file {path}: {exc}") from None
    if args.body is None and required:
        raise UserError("give the post body with --body TEXT or --body-file PATH")
    return args.body


Handler = Callable[[Runtime, argparse.Namespace], Awaitable[None]]
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register an async handler for a (sub)command name like 'member add'."""

    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = fn
        return fn

    return register


@command("member add")
async def _member_add(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.members import add_member

    member = await add_member(rt, args.username, args.name, args.summary or "")
    print(f"created {rt.urls.handle(member.username)}")
    print(rt.urls.actor(member.username))


@command("member list")
async def _member_list(rt: Runtime, args: argparse.Namespace) -> None:
    from .store import members

    for member in await members.list_all(rt.db):
        print(f"{member.username}\t{member.name}\t{rt.urls.actor(member.username)}")


@command("post")
async def _post(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.posts import publish_post

    print(await publish_post(rt, args.username, args.title, _body(args, True) or ""))


@command("edit")
async def _edit(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.posts import edit_post

    body = _body(args, False)
    if args.title is None and body is None:
        raise UserError("nothing to change: give --title, --body or --body-file")
    print(await edit_post(rt, args.url, args.title, body))


@command("delete")
async def _delete(rt: Runtime, args: argparse.Namespace) -> None:
    from .services.posts import delete_post
    from .services.social import delete_comment

    if rt.urls.post_id(args.url) is not None:
        print(await delete_post(rt, args.url))
    else:
        print(await delete_comment(rt, args.url))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also documented in the README)."""
    parser = _Parser(prog=PROG, description="A small self-hosted ActivityPub service for Ambtenaar 2.0.")
    parser.add_argument("--config", metavar="PATH", help="config file (default ./config.toml or $FEDIVERSE_A2_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    serve = sub.add_parser("serve", help="run the web server and the background workers")
    serve.add_argument("--host", help="address to listen on (default [server] host)")
    serve.add_argument("--port", type=int, help="port to listen on (default [server] port)")
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port (PostgreSQL only)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("worker", help="run only the background workers (inbox processing, delivery)")

    member = sub.add_parser("member", help="manage members")
    msub = member.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    msub.required = True
    add = msub.add_parser("add", help="create a member and its key pair")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--summary", help="short profile text")
    msub.add_parser("list", help="list members")

    post = sub.add_parser("post", help="publish a blog post (Markdown); prints its URL")
    post.add_argument("username")
    post.add_argument("--title", required=True)
    group = post.add_mutually_exclusive_group(required=True)
    group.add_argument("--body", help="the post text in Markdown")
    group.add_argument("--body-file", metavar="PATH", help="read the post text from a file")

    edit = sub.add_parser("edit", help="change a post and send an Update")
    edit.add_argument("url", metavar="POST_URL")
    edit.add_argument("--title")
    egroup = edit.add_mutually_exclusive_group()
    egroup.add_argument("--body")
    egroup.add_argument("--body-file", metavar="PATH")

    delete = sub.add_parser("delete", help="delete a post or a member's comment and send a Delete")
    delete.add_argument("url", metavar="URL")

    from .cli_federation import add_federation_commands

    add_federation_commands(sub)
    return parser


async def _run(config: Config, name: str, args: argparse.Namespace) -> None:
    rt = await Runtime.open(config)
    try:
        await _COMMANDS[name](rt, args)
    finally:
        await rt.close()


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"{PROG}: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and `python -m fediverse_a2`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        _fail(str(exc), 2)
    name = args.command if getattr(args, "action", None) is None else f"{args.command} {args.action}"
    try:
        if args.command == "serve":
            from .server import serve

            serve(config, args.host, args.port, args.workers, args.reuse_port)
            return
        if args.command == "worker":
            from .server import run_worker

            run_worker(config)
            return
        if name not in _COMMANDS:  # pragma: no cover - the parser only offers registered names
            _fail(f"unknown command {name}", 2)
        asyncio.run(_run(config, name, args))
    except UserError as exc:
        _fail(str(exc))
    except ConfigError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
