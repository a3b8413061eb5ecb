"""The `fediverse-a2` command: parses arguments, opens a Runtime and calls into services.

Each command group is a module with a `register(registry)` function; `GROUPS` lists them,
in the order `--help` shows them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..config import Config, ConfigError, config_path, load_config
from ..errors import UserError
from ..i18n import environment_language, has_text, translate
from ..runtime import Runtime
from . import backup, events, federation, groups, imports, members, moderation, posts, relays, serve
from .common import os_message
from .registry import Handler, Parser, Registry, speak

__all__ = ["GROUPS", "PROG", "build_parser", "main"]

PROG = "fediverse-a2"
GROUPS = (serve, members, posts, events, federation, moderation, imports, groups, relays, backup)


def build_parser(language: str = "en") -> tuple[argparse.ArgumentParser, Registry]:
    """The full argument parser (also documented in the README) and its registry.

    Its help texts and argparse's own messages are in `language`; handlers find it in `args.language`.
    """
    speak(language)
    parser = Parser(prog=PROG, description=translate(language, "cli_help_description"))
    parser.set_defaults(language=language)
    parser.add_argument("--config", metavar="PATH", help=translate(language, "cli_help_config"))
    registry = Registry(parser, language)
    for group in GROUPS:
        group.register(registry)
    return parser, registry


async def _run(config: Config, handler: Handler, args: argparse.Namespace) -> None:
    rt = await Runtime.open(config)
    try:
        await handler(rt, args)
    finally:
        await rt.close()


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"{PROG}: {message}", file=sys.stderr)
    raise SystemExit(code)


def user_message(exc: UserError, language: str) -> str:
    """A refusal in the command line's language: its interface text, or (in English) the service's own words.

    The service's message is the English source text and often names what was refused; the
    catalog's text is the page's wording, used for a language the message is not written in.
    A refusal without such a text says so in the language, with the service's words after it.
    """
    if language == "en":
        return str(exc)
    if exc.key is not None and has_text(exc.key):
        return translate(language, exc.key, **exc.values)
    return translate(language, "cli_refused", message=str(exc))


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def _reader_left() -> NoReturn:
    """The reader of our output went away (`import map | head -1`): stop quietly, as `cat` does.

    What is still buffered for stdout would fail again at exit; it goes to /dev/null instead."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and `python -m fediverse_a2`."""
    language = environment_language(os.environ)
    parser, registry = build_parser(language)
    args = parser.parse_args(argv)
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        _fail(translate(language, "cli_config_error", message=str(exc)), 2)
    name = registry.key(args)
    try:
        if name in registry.direct:
            registry.direct[name](config, args)
        else:
            asyncio.run(_run(config, registry.handlers[name], args))
    except UserError as exc:
        _fail(user_message(exc, language))
    except ConfigError as exc:
        _fail(translate(language, "cli_config_error", message=str(exc)), 2)
    except KeyboardInterrupt:
        _fail(translate(language, "cli_interrupted"), 130)
    except BrokenPipeError as exc:
        if _stdout_closed():
            _reader_left()
        _fail(os_message(exc, language))
    except OSError as exc:
        _fail(os_message(exc, language))
