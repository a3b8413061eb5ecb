"""`fediverse-a2 event add`: an event organised from the command line."""

from __future__ import annotations

import argparse

from ..runtime import Runtime
from ..services.events import add_event
from .registry import Registry

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    print(
        await add_event(
            rt, args.username, args.title, args.start, args.end, location=args.location or "", body=args.body or ""
        )
    )


def register(cli: Registry) -> None:
    """Add the event commands."""
    cli.group("event", "cli_help_event")
    add = cli.command("event add", "cli_help_event_add", _add)
    add.add_argument("username")
    add.add_argument("--title", required=True)
    add.add_argument("--start", required=True, metavar="ISO", help=cli.text("cli_help_event_add_start"))
    add.add_argument("--end", required=True, metavar="ISO", help=cli.text("cli_help_event_add_end"))
    add.add_argument("--location", metavar="L", help=cli.text("cli_help_event_add_location"))
    add.add_argument("--body", metavar="TEXT", help=cli.text("cli_help_event_add_body"))
