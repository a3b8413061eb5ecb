"""`fediverse-a2 post|edit|delete|comment`: what members write."""

from __future__ import annotations

import argparse

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services.posts import delete_post, edit_post, publish_post
from ..services.social import comment, delete_comment
from .common import read_text_file
from .registry import Registry

__all__ = ["register"]


def _body(args: argparse.Namespace, required: bool) -> str | None:
    """The text from --body or --body-file."""
    if getattr(args, "body_file", None):
        return read_text_file(args.body_file, args.language, "body file")
    if args.body is None and required:
        raise UserError("give the post body with --body TEXT or --body-file PATH", key="cli_no_body")
    return str(args.body) if args.body is not None else None


async def _post(rt: Runtime, args: argparse.Namespace) -> None:
    print(await publish_post(rt, args.username, args.title, _body(args, True) or ""))


async def _edit(rt: Runtime, args: argparse.Namespace) -> None:
    body = _body(args, False)
    if args.title is None and body is None:
        raise UserError("nothing to change: give --title, --body or --body-file", key="cli_nothing_to_change")
    print(await edit_post(rt, args.url, args.title, body))


async def _delete(rt: Runtime, args: argparse.Namespace) -> None:
    if rt.urls.post_id(args.url) is not None:
        print(await delete_post(rt, args.url))
    else:
        print(await delete_comment(rt, args.url))


async def _comment(rt: Runtime, args: argparse.Namespace) -> None:
    print(await comment(rt, ActorDirectory(rt), args.username, args.url, args.body))


def register(cli: Registry) -> None:
    """Add the post, edit, delete and comment commands."""
    post = cli.command("post", "cli_help_post", _post)
    post.add_argument("username")
    post.add_argument("--title", required=True)
    body = post.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help=cli.text("cli_help_post_body"))
    body.add_argument("--body-file", metavar="PATH", help=cli.text("cli_help_post_body_file"))

    edit = cli.command("edit", "cli_help_edit", _edit)
    edit.add_argument("url", metavar="POST_URL")
    edit.add_argument("--title")
    body = edit.add_mutually_exclusive_group()
    body.add_argument("--body")
    body.add_argument("--body-file", metavar="PATH")

    delete = cli.command("delete", "cli_help_delete", _delete)
    delete.add_argument("url", metavar="URL")

    c = cli.command("comment", "cli_help_comment", _comment)
    c.add_argument("username")
    c.add_argument("url", metavar="URL")
    c.add_argument("--body", required=True, help=cli.text("cli_help_comment_body"))
