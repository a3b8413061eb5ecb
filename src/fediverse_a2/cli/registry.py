"""How the command groups register their commands: parsers and handlers in one place."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from ..config import Config
from ..i18n import translate
from ..runtime import Runtime

__all__ = ["DirectHandler", "Handler", "Parser", "Registry", "count", "port_number", "speak"]

# A command that runs on an opened Runtime, or (serve, worker, backup) one that runs on the config alone.
Handler = Callable[[Runtime, argparse.Namespace], Awaitable[None]]
DirectHandler = Callable[[Config, argparse.Namespace], None]


# argparse's own texts (usage, errors, section titles) by their English source text, as argparse
# passes them to gettext, and the catalog keys that say them; argparse keeps its %-placeholders.
ARGPARSE_TEXTS = {
    "usage: ": "cli_argparse_usage",
    "positional arguments": "cli_argparse_positionals",
    "options": "cli_argparse_options",
    "show this help message and exit": "cli_argparse_help",
    "argument %(argument_name)s: %(message)s": "cli_argparse_argument",
    "the following arguments are required: %s": "cli_argparse_required",
    "one of the arguments %s is required": "cli_argparse_one_required",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli_argparse_invalid_choice",
    "invalid %(type)s value: %(value)r": "cli_argparse_invalid_value",
    "unrecognized arguments: %s": "cli_argparse_unrecognized",
    "not allowed with argument %s": "cli_argparse_not_allowed_with",
    "expected one argument": "cli_argparse_expected_one",
    "expected at least one argument": "cli_argparse_expected_at_least_one",
    "ambiguous option: %(option)s could match %(matches)s": "cli_argparse_ambiguous",
}

# The language argparse speaks in this process (see `speak`); the command line speaks English by default.
_argparse_language = ["en"]


def _argparse_gettext(message: str) -> str:
    key = ARGPARSE_TEXTS.get(message)
    return message if key is None else translate(_argparse_language[0], key)


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return _argparse_gettext(singular if n == 1 else plural)


def speak(language: str) -> None:
    """Let argparse say its own texts in language, through the catalogs.

    argparse looks its texts up with the module-level gettext functions `_` and `ngettext`
    (its translation hook); those are replaced once, and then follow the language set here.
    """
    _argparse_language[0] = language
    setattr(argparse, "_", _argparse_gettext)  # noqa: B010 - argparse has no public setter
    setattr(argparse, "ngettext", _argparse_ngettext)  # noqa: B010


class Parser(argparse.ArgumentParser):
    """argparse, but a bad call ends in one line on stderr, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        line = translate(_argparse_language[0], "cli_see_help", message=message)
        self.exit(2, f"{self.prog}: {line}\n")


def port_number(value: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    language = _argparse_language[0]
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(translate(language, "cli_not_a_port", value=repr(value))) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(translate(language, "cli_port_range", port=str(port)))
    return port


def count(value: str) -> int:
    """An argparse type: a count or an id, 1 or more (a negative or zero count is a mistake, not "none")."""
    language = _argparse_language[0]
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(translate(language, "cli_not_a_number", value=repr(value))) from None
    if number < 1:
        raise argparse.ArgumentTypeError(translate(language, "cli_at_least_one", number=str(number)))
    return number


class Registry:
    """The command tree: `command("member add", …)` adds the parser and remembers the handler.

    Help texts are catalog keys (`cli_help_…`), said in the command line's language.
    """

    def __init__(self, parser: argparse.ArgumentParser, language: str = "en") -> None:
        self.language = language
        self._top = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
        self._top.required = True
        self._groups: dict[str, Any] = {}
        self.handlers: dict[str, Handler] = {}
        self.direct: dict[str, DirectHandler] = {}

    def text(self, key: str, **values: str | int) -> str:
        """A help text in the command line's language."""
        return translate(self.language, key, **values)

    def group(self, name: str, help: str) -> None:
        """A command with actions (`member add`, `member list`, ...); help is a catalog key."""
        parser = self._top.add_parser(name, help=self.text(help), description=self.text(help))
        actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
        actions.required = True
        self._groups[name] = actions

    def _parser(self, name: str, help: str) -> argparse.ArgumentParser:
        group, _, action = name.partition(" ")
        text = self.text(help)
        if action:
            return self._groups[group].add_parser(action, help=text, description=text)
        return self._top.add_parser(group, help=text, description=text)

    def command(self, name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
        """A command that runs on a Runtime (help: a catalog key); returns its parser for the arguments."""
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
