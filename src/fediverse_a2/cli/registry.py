"""How the command groups register their commands: parsers and handlers in one place."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from ..config import Config
from ..runtime import Runtime

__all__ = ["DirectHandler", "Handler", "Parser", "Registry", "count", "port_number"]

# A command that runs on an opened Runtime, or (serve, worker, backup) one that runs on the config alone.
Handler = Callable[[Runtime, argparse.Namespace], Awaitable[None]]
DirectHandler = Callable[[Config, argparse.Namespace], None]


class Parser(argparse.ArgumentParser):
    """argparse, but a bad call ends in one line on stderr, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def port_number(value: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {port}")
    return port


def count(value: str) -> int:
    """An argparse type: a count or an id, 1 or more (a negative or zero count is a mistake, not "none")."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


class Registry:
    """The command tree: `command("member add", …)` adds the parser and remembers the handler."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._top = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
        self._top.required = True
        self._groups: dict[str, Any] = {}
        self.handlers: dict[str, Handler] = {}
        self.direct: dict[str, DirectHandler] = {}

    def group(self, name: str, help: str) -> None:
        """A command with actions (`member add`, `member list`, ...)."""
        parser = self._top.add_parser(name, help=help)
        actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
        actions.required = True
        self._groups[name] = actions

    def _parser(self, name: str, help: str) -> argparse.ArgumentParser:
        group, _, action = name.partition(" ")
        if action:
            return self._groups[group].add_parser(action, help=help)
        return self._top.add_parser(group, help=help)

    def command(self, name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
        """A command that runs on a Runtime; returns its parser for the arguments."""
        self.handlers[name] = handler
        return self._parser(name, help)

    def process(self, name: str, help: str, handler: DirectHandler) -> argparse.ArgumentParser:
        """A command that runs without the CLI's Runtime: a long-lived process of its own (serve,
        worker), or one that must not open it (backup)."""
        self.direct[name] = handler
        return self._parser(name, help)

    @staticmethod
    def key(args: argparse.Namespace) -> str:
        """The registered name of the command that was called."""
        action = getattr(args, "action", None)
        return args.command if action is None else f"{args.command} {action}"
