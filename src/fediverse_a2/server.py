"""`fediverse-a2 serve` and `fediverse-a2 worker`: the long-running processes.

`serve` runs uvicorn around the app, with the Runtime opened in its event loop. With
`--workers N` (PostgreSQL only) it starts N such processes sharing one port through
SO_REUSEPORT; their queues are claimed with SKIP LOCKED, so they never do the same work.
`worker` runs only the background workers, for scaling them out separately.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import subprocess
import sys
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from .app import create_app
from .config import Config
from .errors import UserError
from .federation.workers import Workers
from .runtime import Runtime
from .store import members

__all__ = ["run_worker", "serve"]

NO_MEMBERS = (
    "No members yet. Add one with:\n"
    '  fediverse-a2 member add USERNAME --name "Display Name"\n'
    "then publish with:\n"
    '  fediverse-a2 post USERNAME --title "Title" --body "Text in Markdown"'
)


def _socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP. Without it Nagle's algorithm holds the second write of a response (h11 writes
    # headers and body apart) until the client's delayed ACK: +40 ms per keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


async def _serve(config: Config, host: str, port: int, reuse_port: bool) -> None:
    sock = _socket(host, port, reuse_port)
    rt = await Runtime.open(config)
    try:
        if await members.count(rt.db) == 0:
            print(NO_MEMBERS, file=sys.stderr, flush=True)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(rt),
                log_level="info",
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise walk it again and again under load.
        gc.collect()
        gc.freeze()
        print(f"fediverse-a2 serving {config.instance.base_url} on http://{host}:{port}", file=sys.stderr, flush=True)
        await server.serve(sockets=[sock])
    finally:
        sock.close()
        await rt.close()


def _run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, on uvloop when it is installed (as uvicorn itself would pick it)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def serve(config: Config, host: str | None, port: int | None, workers: int = 1, reuse_port: bool = False) -> None:
    """Run the web server and the workers until interrupted."""
    host = host or config.server.host
    port = port or config.server.port or urlsplit(config.instance.base_url).port or 8000
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers < 1:
        raise UserError("--workers must be at least 1")
    if workers == 1:
        _run(_serve(config, host, port, reuse_port))
        return
    if not config.storage.is_postgres:
        raise UserError(
            '--workers above 1 needs PostgreSQL (storage.database = "postgresql://…"); SQLite has one writer'
        )
    _supervise(config, host, port, workers)


def _supervise(config: Config, host: str, port: int, workers: int) -> None:
    """Start `workers` serve processes on one port and stop them together."""
    config_file = str(config.source or config.root / "config.toml")
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fediverse_a2",
                "--config",
                config_file,
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--reuse-port",
            ]
        )
        for _ in range(workers)
    ]

    def stop(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        codes = [child.wait() for child in children]
    finally:
        stop(0, None)
    # A child that we stopped ends with -SIGTERM (uvicorn re-raises it after a clean shutdown).
    if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
        raise SystemExit(1)


async def _work(config: Config) -> None:
    rt = await Runtime.open(config)
    workers = Workers(rt)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await workers.start()
        print("fediverse-a2 worker running (inbox processing and delivery)", file=sys.stderr, flush=True)
        await stopping.wait()
    finally:
        await workers.stop()
        workers.deliverer.close()
        await rt.close()


def run_worker(config: Config) -> None:
    """Run only the background workers until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _run(_work(config))
