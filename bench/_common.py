"""Shared pieces of the benchmarks: config files, `serve` as a subprocess, a raw HTTP/1.1
client, reading RSS, timing helpers.

Every server started here listens on 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"

# An installed server has its bytecode compiled; an environment with PYTHONDONTWRITEBYTECODE set
# (as this machine's is) makes every process a bench starts (serve, its worker child, signing
# processes, the CLI) compile the whole package again at start-up: 0.3-0.5 s of CPU that the
# fan-out and restart figures then counted. Compiled once here; processes only read it.
compileall.compile_dir(str(BENCH_DIR.parent / "src"), quiet=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, port: int, **sections: dict[str, Any]) -> Path:
    """A config.toml for an instance at http://127.0.0.1:PORT; sections override the defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, dict[str, Any]] = {
        "instance": {"base_url": f"http://{HOST}:{port}", "name": "Bench A2", "language": "nl"},
        "storage": {"database": "data/db.sqlite3", "keys_dir": "keys"},
        "federation": {"mode": "open", "allow_private_network": True},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    lines: list[str] = []
    for name, values in data.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines))
    return path


@contextmanager
def workdir(prefix: str, keep: bool = bool(os.environ.get("BENCH_KEEP"))) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"fa2-bench-{prefix}-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


# -- processes ---------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS of a process in kB."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    except FileNotFoundError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The running processes whose parent is `pid` (e.g. the worker process `serve` starts)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def family_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of `pid` and of each of its children, by pid."""
    out = {}
    for p in [pid, *children_of(pid)]:
        try:
            out[p] = cpu_seconds(p)
        except OSError:
            continue
    return out


class Proc:
    """A child process serving HTTP on 127.0.0.1:port; its output goes to a log file."""

    def __init__(self, argv: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.argv, self.port, self.log = argv, port, log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.up_after = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, ready_path: str = "/", timeout: float = 30.0) -> float:
        """Start and wait for the first HTTP answer on ready_path; returns seconds until then."""
        with self.log.open("ab") as fh:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(self.env or {})}
            )
        deadline = self.started_at + timeout
        request = f"GET {ready_path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nConnection: close\r\n\r\n".encode()
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv} exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    sock.sendall(request)
                    if sock.recv(64).startswith(b"HTTP/1.1 "):
                        self.up_after = time.perf_counter() - self.started_at
                        return self.up_after
            except OSError:
                pass
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.argv} did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_proc(config: Path, port: int, log: Path, env: dict[str, str] | None = None) -> Proc:
    """`fediverse-a2 serve` as production runs it (a separate process)."""
    argv = [sys.executable, "-m", "fediverse_a2", "--config", str(config), "serve", "--host", HOST, "--port", str(port)]
    return Proc(argv, port, log, env)


def bare_proc(port: int, log: Path, *extra: str) -> Proc:
    """The reference: a bare Starlette + uvicorn app (bench/_bare.py) in its own process."""
    return Proc([sys.executable, str(BENCH_DIR / "_bare.py"), "--port", str(port), *extra], port, log)


def sink_proc(
    folder: Path,
    ports: int,
    ports_file: Path,
    control: int,
    exclude: int,
    pem_file: Path,
    key_id: str,
    owner: str,
    verify_every: int,
) -> Proc:
    """The delivery sink (`_sink.py`): `ports` listening ports (written to `ports_file`), never
    `exclude`, its counters on `control`, every `verify_every`-th signature verified against
    `pem_file` for `key_id` of `owner`. Start it with `.start("/stats")`."""
    argv = [sys.executable, str(Path(__file__).resolve().parent / "_sink.py")]
    argv += ["--ports", str(ports), "--ports-file", str(ports_file), "--control-port", str(control)]
    argv += ["--exclude", str(exclude), "--public-pem", str(pem_file), "--key-id", key_id, "--owner", owner]
    argv += ["--verify-every", str(verify_every)]
    return Proc(argv, control, folder / "sink.log")


def start_profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy (if installed: PATH or /tmp/pyspy) sampling `pid` until stop_profiler."""
    exe = shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy"
    env = {**os.environ, "PYTHONPATH": "/tmp/pyspy"}
    spy = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--output", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    time.sleep(0.5)
    return spy


def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    spy.wait(30)


def run_cli(config: Path, *args: str, timeout: float = 120) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"fediverse-a2 {args} failed: {proc.stderr}")
    return proc.stdout


# -- a raw HTTP/1.1 client ------------------------------------------------------------------


class HttpConn:
    """One keep-alive HTTP/1.1 connection with pre-serialised requests (cheap on the client side)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, host: str = HOST) -> HttpConn:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = b""
        return status, headers, body

    async def close(self) -> None:
        self.writer.close()
        with suppress(OSError):
            await self.writer.wait_closed()


def get_request(port: int, path: str, accept: str | None = None, user_agent: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    if accept:
        lines.append(f"Accept: {accept}")
    if user_agent:
        lines.append(f"User-Agent: {user_agent}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post_request(path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def blast(
    port: int, requests: list[bytes], connections: int = 32, timeout: float = 300.0
) -> tuple[float, Counter[int]]:
    """Send every request once over `connections` keep-alive connections; (seconds, status counts)."""
    statuses: Counter[int] = Counter()
    conns = [await HttpConn.open(port) for _ in range(connections)]
    queue = iter(requests)

    async def worker(conn: HttpConn) -> None:
        for raw in queue:
            try:
                status, _, _ = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError):
                statuses[-1] += 1
                await conn.close()
                conn = await HttpConn.open(port)
                continue
            statuses[status] += 1

    started = time.perf_counter()
    async with asyncio.timeout(timeout):
        await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - started
    for c in conns:
        await c.close()
    return elapsed, statuses


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Report:
    """Prints lines and keeps them, to save under bench/results/NAME.txt."""

    def __init__(self, name: str, save: bool) -> None:
        self.name, self.save, self.lines = name, save, []
        self.line(
            f"# {name}  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  "
            f"python {sys.version.split()[0]}  cores {os.cpu_count()}"
        )

    def line(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def write(self, suffix: str = "") -> None:
        if self.save:
            RESULTS.mkdir(exist_ok=True)
            path = RESULTS / f"{self.name}{suffix}.txt"
            path.write_text("\n".join(self.lines) + "\n")
            print(f"(saved {path.relative_to(BENCH_DIR.parent)})")


def worker_proc(config: Path, log: Path) -> Proc:
    """`fediverse-a2 worker` (background work only, no HTTP): start it with `Proc.spawn`."""
    return Proc([sys.executable, "-m", "fediverse_a2", "--config", str(config), "worker"], 0, log)


def spawn(proc: Proc) -> float:
    """Start a Proc without waiting for an HTTP answer (a process that serves none); returns perf_counter then."""
    with proc.log.open("ab") as fh:
        proc.started_at = time.perf_counter()
        proc.proc = subprocess.Popen(
            proc.argv, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(proc.env or {})}
        )
    return proc.started_at
