"""`fediverse-a2 relay add|remove|list`: the instance's relay subscriptions."""

from __future__ import annotations

import argparse

from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services.relays import add_relay, list_relays, remove_relay
from .common import say
from .registry import Registry

__all__ = ["register"]


async def _add(rt: Runtime, args: argparse.Namespace) -> None:
    relay = await add_relay(rt, ActorDirectory(rt), args.url)
    say(args, "cli_relay_subscribed", url=relay.url, state=relay.state)


async def _remove(rt: Runtime, args: argparse.Namespace) -> None:
    relay = await remove_relay(rt, args.url)
    say(args, "cli_relay_unsubscribed", url=relay.url)


async def _list(rt: Runtime, args: argparse.Namespace) -> None:
    relays = await list_relays(rt)
    if not relays:
        say(args, "cli_no_relays")
    for relay in relays:
        print(f"{relay.url} {relay.state}")


def register(cli: Registry) -> None:
    """Add relay add, relay remove and relay list."""
    cli.group("relay", "cli_help_relay")
    text = "cli_help_relay_add"
    cli.command("relay add", text, _add).add_argument("url", metavar="URL")
    cli.command("relay remove", "cli_help_relay_remove", _remove).add_argument("url", metavar="URL")
    cli.command("relay list", "cli_help_relay_list", _list)
