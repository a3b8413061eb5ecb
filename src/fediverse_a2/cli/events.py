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
    cli.group("event", "events members organise (federated as ActivityPub Events)")
    add = cli.command("event add", "create an event and send it to the member's followers; prints its URL", _add)
    add.add_argument("username")
    add.add_argument("--title", required=True)
    add.add_argument(
        "--start", required=True, metavar="ISO", help="start, ISO 8601; without an offset: in instance.timezone"
    )
    add.add_argument(
        "--end", required=True, metavar="ISO", help="end, ISO 8601; without an offset: in instance.timezone"
    )
    add.add_argument("--location", metavar="L", help="where: the place's name (and address)")
    add.add_argument("--body", metavar="TEXT", help="the description, in Markdown")
