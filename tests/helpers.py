"""Test helpers: config files, real servers on 127.0.0.1, the CLI as a subprocess, polling."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_a2.app import create_app
from fediverse_a2.config import Config, load_config
from fediverse_a2.runtime import Runtime

AP = "application/activity+json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # shared by tests in every folder
REPO = Path(__file__).resolve().parent.parent
# How long a command or a starting `serve` may take before a test gives up on it: a guard against
# a hung process, never a measure. CI shares two cores, and a loaded machine takes 15 s and more
# to start one Python process that imports the whole package.
PROCESS_TIMEOUT = 300.0


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, base_url: str, *, database: str | None = None, **sections: dict[str, Any]) -> Path:
    """Write a config.toml for a test instance; `database` (a URL) replaces the SQLite file,
    sections override the defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, dict[str, Any]] = {
        "instance": {"base_url": base_url, "name": "Test A2", "language": "nl"},
        "storage": {"database": database or "data/db.sqlite3", "keys_dir": "keys"},
        "federation": {"mode": "open", "allow_private_network": True},
        "server": {"poll_interval": 0.1},
        "delivery": {"lease_seconds": 5},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    lines = []
    for name, values in data.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines))
    return path


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket bound to a free port (no race: uvicorn takes it as is).

    Made with proto IPPROTO_TCP, as `serve` makes its own: asyncio sets TCP_NODELAY only on
    accepted sockets whose proto says TCP, and without it every response written in two parts
    (head, then body) waited about 40 ms for the client's delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class CountingSink:
    """An inbox server on 127.0.0.1 that accepts every POST (202, after `delay` seconds) and counts
    them per path."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sock = free_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.app = Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    async def inbox(self, request: Request) -> Response:
        await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow remote, so a fan-out takes a while
        self.hits[request.url.path] += 1
        return Response(status_code=202)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for subprocess servers)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """An in-process instance served by uvicorn on 127.0.0.1."""

    rt: Runtime
    app: Any
    base_url: str
    config_path: Path

    @property
    def workers(self) -> Any:
        return self.app.state.workers

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10, **kwargs)


@contextlib.asynccontextmanager
async def live_server(
    folder: Path,
    *,
    run_workers: bool = False,
    host: str = "127.0.0.1",
    database: str | None = None,
    wrap: Callable[[Any], Any] | None = None,
    **sections: dict[str, Any],
) -> AsyncIterator[LiveServer]:
    """Start an instance in this event loop; workers only run when asked (tests step them).

    `wrap` puts an ASGI app around the instance's (to watch the requests it gets)."""
    sock = free_socket(host)
    port = sock.getsockname()[1]
    base_url = f"http://{host}:{port}"
    config_path = write_config(folder, base_url, database=database, **sections)
    config = load_config(config_path)
    rt = await Runtime.open(config)
    app = create_app(rt, run_workers=run_workers)
    served = wrap(app) if wrap is not None else app
    # As `serve` runs it: uvicorn's own X-Forwarded-For handling off (server.trusted_proxies decides).
    server = uvicorn.Server(uvicorn.Config(served, log_level="warning", lifespan="on", proxy_headers=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield LiveServer(rt, app, base_url, config_path)
    finally:
        server.should_exit = True
        await task
        sock.close()
        await rt.close()


def cli(
    config_path: Path, *args: str, check: bool = True, timeout: float = PROCESS_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run `python -m fediverse_a2 --config PATH ARGS...` as a real process."""
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"command {args} failed ({proc.returncode}): {proc.stderr}")
    return proc


def kill_at_line(argv: list[str], prefix: str, timeout: float = 60) -> int:
    """Run a command and SIGKILL it (as in a crash: no clean shutdown) once it prints a line on
    stderr that starts with `prefix`; its exit status. It is killed also when the test fails."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(prefix):
                proc.kill()
                break
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout)
        if proc.stderr is not None:
            proc.stderr.close()


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The last non-empty line a command printed."""
    return [line for line in proc.stdout.splitlines() if line.strip()][-1].strip()


async def wait_for(
    condition: Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll an async condition until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


class ServiceProcess:
    """`fediverse-a2 serve` as a real subprocess, configured in its own folder."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        database: str | None = None,
        port: int | None = None,
        **sections: dict[str, Any],
    ) -> None:
        self.host = host
        self.port = port or free_port(host)  # a given port: another instance folder at the same address
        self.base_url = f"http://{host}:{self.port}"
        self.folder = folder
        self.config_path = write_config(folder, self.base_url, database=database, **sections)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "serve.log"

    def config(self) -> Config:
        return load_config(self.config_path)

    async def start(self) -> None:
        """Start serving and wait until it answers."""
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fediverse_a2",
                "--config",
                str(self.config_path),
                "serve",
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        async def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    r = await client.get(f"{self.base_url}/.well-known/nodeinfo")
                    return r.status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(up, timeout=PROCESS_TIMEOUT, what=f"{self.base_url} to come up")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cli(self.config_path, *args, check=check)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


async def db_value(server: ServiceProcess, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value from a running instance's database (WAL lets us read beside the server)."""
    rt = await Runtime.open(server.config())
    try:
        return await rt.db.fetchval(sql, params)
    finally:
        await rt.close()


@contextlib.asynccontextmanager
async def serving(target: Any) -> AsyncIterator[Any]:
    """Serve `target.app` on its pre-bound `target.sock` in this event loop while the block runs."""
    server = uvicorn.Server(uvicorn.Config(target.app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[target.sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield target
    finally:
        server.should_exit = True
        await task
        target.sock.close()


Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(routes: Reply | dict[str, Reply]) -> AsyncIterator[int]:
    """A bare TCP server on 127.0.0.1 for misbehaving remotes no HTTP framework would let us write.

    `routes` maps request paths to replies; a single reply answers every path.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            reply = routes if callable(routes) else routes[head.split(b" ", 2)[1].decode()]
            await reply(writer)
        except (ConnectionError, asyncio.IncompleteReadError, KeyError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
