"""`fediverse-a2 serve` and `fediverse-a2 worker`: the long-running processes."""

from __future__ import annotations

import argparse

from ..config import BACKGROUND_MODES, Config
from .registry import Registry, count, port_number

__all__ = ["register"]


# server (uvicorn, the app, the workers) is imported only by the commands that run it: the
# other commands start in a fraction of the time without it. It imports nothing of cli.


def _serve(config: Config, args: argparse.Namespace) -> None:
    from ..server import serve

    serve(config, args.host, args.port, args.workers, args.reuse_port, args.background, args.language)


def _worker(config: Config, args: argparse.Namespace) -> None:
    from ..server import run_worker

    run_worker(config, args.language)


def register(cli: Registry) -> None:
    """Add serve and worker."""
    p = cli.process("serve", "cli_help_serve", _serve)
    p.add_argument("--host", help=cli.text("cli_help_serve_host"))
    p.add_argument("--port", type=port_number, help=cli.text("cli_help_serve_port"))
    p.add_argument("--workers", type=count, default=1, help=cli.text("cli_help_serve_workers"))
    p.add_argument(
        "--background",
        choices=BACKGROUND_MODES,
        help=cli.text("cli_help_serve_background"),
    )
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    cli.process("worker", "cli_help_worker", _worker)
