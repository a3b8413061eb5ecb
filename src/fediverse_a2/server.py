"""`fediverse-a2 serve` and `fediverse-a2 worker`: the long-running processes.

`serve` runs uvicorn around the app, with the Runtime opened in its event loop. Its
background work (inbox processing, delivery, housekeeping, mail) runs where
server.background says: in a `worker` child process (background.py; the default on a
machine with more than one core), inline in the web process, or not at all. With
`--workers N` (PostgreSQL only) it starts N web processes sharing one port through
SO_REUSEPORT; their queues are claimed with SKIP LOCKED, so they never do the same work.
`worker` runs only the background workers, for scaling them out separately.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from . import metrics
from .app import create_app
from .background.child import WorkerChild
from .background.workers import Workers
from .config import Config
from .errors import UserError
from .hosts import format_authority, origin_of
from .i18n import translate
from .runtime import Runtime
from .store import members

__all__ = ["run_worker", "serve"]


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
        address = format_authority(host, port)
        raise UserError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            key="cli_cannot_listen",
            values={"address": address, "reason": str(exc.strerror)},
        ) from None
    return sock


class _Terminated:
    """SIGTERM noted, not obeyed at once: uvicorn re-raises the signal when it has shut down, and
    with the default handler that would end the process before `_serve` stops its worker child
    (which the kernel then kills, orphaning the child's signing processes). `serve` re-raises it
    itself once everything has stopped, so the exit status still says SIGTERM."""

    def __init__(self) -> None:
        self.received = False
        self.server: uvicorn.Server | None = None  # told to stop, once there is one

    def __call__(self, signum: int, frame: object) -> None:
        self.received = True
        if self.server is not None:
            self.server.should_exit = True


async def _serve(
    config: Config, host: str, port: int, reuse_port: bool, terminated: _Terminated, language: str
) -> None:
    sock = _socket(host, port, reuse_port)
    mode = config.server.background_here(os.cpu_count())
    rt = await Runtime.open(config)  # migrates before any worker process opens the database
    child = WorkerChild(_config_file(config)) if mode == "process" else None
    watching: asyncio.Task[None] | None = None
    try:
        if await members.count(rt.db) == 0:
            print(translate(language, "cli_serve_no_members"), file=sys.stderr, flush=True)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(rt, run_workers=mode == "inline"),
                log_level="info",
                access_log=config.server.access_log,
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        terminated.server = server  # a SIGTERM during start-up stops it as soon as it runs
        server.should_exit = terminated.received
        if child is not None:
            child.start()
            watching = asyncio.get_running_loop().create_task(child.watch())
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise walk it again and again under load.
        gc.collect()
        gc.freeze()
        where = translate(language, _BACKGROUND_WHERE[mode])
        line = translate(language, "cli_serving", where=_where(config, host, port, language), background=where)
        print(line, file=sys.stderr, flush=True)
        await server.serve(sockets=[sock])
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if child is not None:
            await asyncio.to_thread(child.stop)
        sock.close()
        await rt.close()


# Where serve's background work runs, as its first line says (config.server.background_here).
_BACKGROUND_WHERE = {
    "process": "cli_serving_background_process",
    "inline": "cli_serving_background_inline",
    "none": "cli_serving_background_none",
}


def _where(config: Config, host: str, port: int, language: str) -> str:
    """The address to name: base_url, and the socket only when it is another address (behind a proxy)."""
    bound = f"http://{format_authority(host, port)}"
    public = config.instance.base_url
    if origin_of(bound) == origin_of(public):
        return public
    return translate(language, "cli_serving_behind_proxy", url=public, bound=bound)


def _config_file(config: Config) -> Path:
    return config.source or config.root / "config.toml"


def _run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, on uvloop when it is installed (as uvicorn itself would pick it)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def serve(
    config: Config,
    host: str | None,
    port: int | None,
    workers: int = 1,
    reuse_port: bool = False,
    background: str | None = None,
    language: str = "en",
) -> None:
    """Run the web server and the background work until interrupted; it says what it does in language."""
    host = host or config.listen[0]
    port = port or config.listen[1]
    # The runtime learns where it listens (the HTTP client never fetches that address).
    config = dataclasses.replace(config, server=dataclasses.replace(config.server, host=host, port=port))
    if background is not None:
        config = dataclasses.replace(config, server=dataclasses.replace(config.server, background=background))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers < 1:
        raise UserError("--workers must be at least 1", key="cli_workers_at_least_one")
    if workers > 1 and not config.storage.is_postgres:
        raise UserError(
            '--workers above 1 needs PostgreSQL (storage.database = "postgresql://…"); SQLite has one writer',
            key="cli_workers_need_postgres",
        )
    processes = workers + (1 if config.server.background_here(os.cpu_count()) == "process" else 0)
    terminated = _Terminated()
    with _shared_counts(processes):
        if workers > 1:
            _run(_supervise(config, host, port, workers))
            return
        previous = signal.signal(signal.SIGTERM, terminated)
        try:
            _run(_serve(config, host, port, reuse_port, terminated, language))
        finally:
            signal.signal(signal.SIGTERM, previous)
    if terminated.received:  # only now: the counts' folder is gone too
        signal.raise_signal(signal.SIGTERM)


_COUNTS = "fediverse-a2-metrics-"


def _sweep_counts() -> None:
    """Remove the count folders of serves that ended without removing theirs (a kill -9)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_COUNTS}*-*"):
        pid = folder.name.removeprefix(_COUNTS).split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's serve


@contextlib.contextmanager
def _shared_counts(processes: int) -> Iterator[None]:
    """With more than one process, their counts for /metrics go into one folder (metrics.py),
    made for this serve and removed when it ends; one the admin (or our own parent) set is used
    as it is."""
    if processes < 2 or metrics.shared_folder() is not None:
        yield
        return
    _sweep_counts()
    folder = Path(tempfile.mkdtemp(prefix=f"{_COUNTS}{os.getpid()}-"))
    metrics.share_between_processes(folder)
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _supervise(config: Config, host: str, port: int, workers: int) -> None:
    """Start `workers` web processes on one port (and the worker process) and stop them together."""
    mode = config.server.background_here(os.cpu_count())
    # One worker process for all the web processes; each web process runs its own loops
    # only with background = "inline".
    web_mode = "inline" if mode == "inline" else "none"
    rt = await Runtime.open(config)  # migrate once, before the children start
    await rt.close()
    command = [sys.executable, "-m", "fediverse_a2", "--config", str(_config_file(config)), "serve"]
    command += ["--host", host, "--port", str(port), "--reuse-port", "--background", web_mode]
    children = [subprocess.Popen(command) for _ in range(workers)]
    child = WorkerChild(_config_file(config)) if mode == "process" else None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    watching = None
    if child is not None:
        child.start()
        watching = loop.create_task(child.watch())
    try:
        while not stopping.is_set() and all(c.poll() is None for c in children):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await stopping.wait()
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        for web in children:
            if web.poll() is None:
                web.terminate()
        codes = [await asyncio.to_thread(web.wait) for web in children]
        if child is not None:
            await asyncio.to_thread(child.stop)
    # A child that we stopped ends with -SIGTERM (uvicorn re-raises it after a clean shutdown).
    if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
        raise SystemExit(1)


async def _work(config: Config, language: str) -> None:
    rt = await Runtime.open(config)
    workers = Workers(rt)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await workers.start()
        print(translate(language, "cli_worker_running"), file=sys.stderr, flush=True)
        await stopping.wait()
    finally:
        await workers.stop()
        await rt.close()


def run_worker(config: Config, language: str = "en") -> None:
    """Run only the background workers until SIGTERM or Ctrl-C; it says so in language."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _run(_work(config, language))
