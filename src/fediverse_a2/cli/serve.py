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

    serve(config, args.host, args.port, args.workers, args.reuse_port, args.background)


def _worker(config: Config, args: argparse.Namespace) -> None:
    from ..server import run_worker

    run_worker(config)


def register(cli: Registry) -> None:
    """Add serve and worker."""
    p = cli.process("serve", "run the web server and the background workers", _serve)
    p.add_argument("--host", help="address to listen on (default [server] host)")
    p.add_argument("--port", type=port_number, help="port to listen on (default [server] port)")
    p.add_argument("--workers", type=count, default=1, help="processes sharing the port (PostgreSQL only)")
    p.add_argument(
        "--background",
        choices=BACKGROUND_MODES,
        help="where the background work runs (default [server] background: auto)",
    )
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    cli.process("worker", "run only the background workers (inbox processing, delivery)", _worker)
