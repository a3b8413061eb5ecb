"""Harness for tests against a real ActivityRelay (PyPI `activityrelay`, pinned 0.3.5) on loopback.

The relay speaks https only and builds every URL as ``https://DOMAIN/...`` on port 443, so each
party (the relay and every subscriber under test) gets a loopback address of its own
(127.0.0.21, 127.0.0.22, ...) with a `TlsFront` on port 443: a pure-asyncio TLS terminator
that pipes the bytes to a plain-HTTP upstream on 127.0.0.1:PORT. Certificates come from a
throw-away `trustme` CA (`LoopbackCA`); the relay trusts it through SSL_CERT_FILE (aiohttp
uses `ssl.create_default_context()`, whose default verify paths honour that variable).

Nothing here imports fediverse_a2. The relay runs from its own venv, `.venv-relay/`, made by
`tests/relay/install.sh`; without it the fixtures skip, unless FEDIVERSE_A2_RELAY=1 (CI),
in which case they fail.

API (see tests/test_relay_harness.py for a use):

- `LoopbackCA(folder)`: the test CA; `.ca_file` (PEM, for SSL_CERT_FILE / `federation.ca_file`),
  `.server_context(host)`, `.client_context()`.
- `reserve_https_address()`: a free 127.0.0.N with port 443 bound (kept for the TlsFront).
- `TlsFront(upstream_port, ssl_context, address=... | sock=...)`: start()/stop() or `with`.
- `AsgiServer(app)`: an ASGI app on 127.0.0.1:<free port> under uvicorn, in a thread.
- `https_party(app, ca)`: context manager, app + TlsFront -> `Party` (origin https://127.0.0.N).
- `front_port(port, ca)`: context manager, a TlsFront for any HTTP server already on 127.0.0.1:port.
- `start_relay(folder, ca)`: context manager -> `Relay` (origin, actor, inbox, log).
- fixtures `relay_ca`, `relay`, `party_factory` (import `relay_ca_fixture` etc. into a test module).
- `require_relay()`, `wait_for()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
RELAY_FILES = ROOT / "tests" / "relay"
RELAY_VERSION = "0.3.5"
ENV = "FEDIVERSE_A2_RELAY"
RELAY_VENV = Path(os.environ.get("FEDIVERSE_A2_RELAY_VENV", str(ROOT / ".venv-relay")))
RELAY_PYTHON = RELAY_VENV / "bin" / "python"
HTTPS_PORT = 443
# 127.0.0.1 is left alone: the plain-HTTP upstreams listen there.
ADDRESS_RANGE = range(21, 255)
ACTIVITY_JSON = "application/activity+json"


# --- availability ---------------------------------------------------------------------------


def relay_missing_reason() -> str | None:
    """Why the relay cannot run here, or None when `.venv-relay` has activityrelay 0.3.5."""
    if not RELAY_PYTHON.exists():
        return f"{RELAY_VENV} is missing (run tests/relay/install.sh)"
    package = RELAY_VENV / "lib"
    if not any(package.glob(f"python3*/site-packages/activityrelay-{RELAY_VERSION}.dist-info")):
        return f"{RELAY_VENV} has no activityrelay {RELAY_VERSION} (run tests/relay/install.sh)"
    return None


def require_relay() -> None:
    """Skip the test when the relay is not installed; fail instead when FEDIVERSE_A2_RELAY=1 (CI)."""
    reason = relay_missing_reason()
    if reason is None:
        return
    if os.environ.get(ENV) == "1":
        pytest.fail(f"{ENV}=1 but {reason}")
    pytest.skip(reason)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0, diag: Callable[[], str] | None = None) -> Any:
    """Poll `check` until it returns something truthy (returned); fail with `diag()` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f"\n{diag()}" if diag is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(0.05)


# --- certificates ---------------------------------------------------------------------------


class LoopbackCA:
    """A throw-away CA (trustme) that issues a certificate per host name or IP literal."""

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA(organization_name="fediverse-a2 relay tests")
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self, *hosts: str) -> ssl.SSLContext:
        """A server context with a certificate for `hosts` (IP literals become IP SANs)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*hosts).configure_cert(ctx)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA only (and checks host names)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(verify=self.client_context(), timeout=10.0, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=self.client_context(), timeout=10.0, **kwargs)


# --- addresses ------------------------------------------------------------------------------


def reserve_https_address(port: int = HTTPS_PORT) -> tuple[str, socket.socket]:
    """A loopback address 127.0.0.N (N >= 21) whose `port` this process could bind: with the bound socket.

    The socket is bound and listening, so a parallel test run cannot take the address
    between this call and the TlsFront that serves it (hand the socket to `TlsFront(sock=...)`).
    """
    last: OSError | None = None
    for n in ADDRESS_RANGE:
        address = f"127.0.0.{n}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # see helpers.free_socket
        # Lets a port in TIME_WAIT be bound again; a socket listening there still makes bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.setblocking(False)
        return address, sock
    raise RuntimeError(f"no loopback address with a free port {port} in 127.0.0.21-254: {last}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def origin_of(address: str, port: int = HTTPS_PORT) -> str:
    return f"https://{address}" if port == HTTPS_PORT else f"https://{address}:{port}"


# --- TLS front ------------------------------------------------------------------------------


class TlsFront:
    """TLS on `address:port` (default 443), each connection piped byte for byte to 127.0.0.1:upstream_port.

    Runs its own asyncio loop in a daemon thread, so sync and async tests can use it alike.
    The request bytes (Host header included) reach the upstream as the client sent them.
    Failures (handshakes, refused upstreams) are kept in `errors` rather than logged.
    """

    def __init__(
        self,
        upstream_port: int,
        ssl_context: ssl.SSLContext,
        *,
        address: str | None = None,
        port: int = HTTPS_PORT,
        sock: socket.socket | None = None,
        upstream_host: str = "127.0.0.1",
    ) -> None:
        if sock is None and address is None:
            raise ValueError("TlsFront needs an address or a bound socket")
        if sock is not None:
            address, port = sock.getsockname()[:2]
        assert address is not None
        self.address: str = address
        self.port: int = port
        self.upstream = (upstream_host, upstream_port)
        self.ssl_context = ssl_context
        self.connections = 0
        self.errors: list[str] = []
        self._sock = sock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def origin(self) -> str:
        return origin_of(self.address, self.port)

    def start(self) -> TlsFront:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._on_loop_error)
        self._loop = loop
        if self._sock is not None:
            start = asyncio.start_server(self._handle, sock=self._sock, ssl=self.ssl_context)
        else:
            start = asyncio.start_server(
                self._handle, self.address, self.port, ssl=self.ssl_context, reuse_address=True
            )
        self._server = loop.run_until_complete(start)
        self._thread = threading.Thread(target=loop.run_forever, name=f"TlsFront {self.origin}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> TlsFront:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(f"{context.get('message')}: {context.get('exception')!r}")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError as exc:
                self.errors.append(f"upstream {self.upstream}: {exc!r}")
                return
            try:
                await asyncio.gather(self._pipe(reader, up_writer, True), self._pipe(up_reader, writer, False))
            finally:
                up_writer.close()
                with contextlib.suppress(Exception):
                    await up_writer.wait_closed()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, half_close: bool) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            # The upstream is plain TCP and can be half-closed; a TLS stream cannot.
            with contextlib.suppress(Exception):
                if half_close and dst.can_write_eof():
                    dst.write_eof()
                else:
                    dst.close()


# --- local HTTP apps ------------------------------------------------------------------------


class AsgiServer:
    """An ASGI app served by uvicorn on 127.0.0.1:<free port>, in a thread with its own loop."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # as helpers.free_socket
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", loop="asyncio", ws="none", access_log=False)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> AsgiServer:
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=f"uvicorn :{self.port}", daemon=True
        )
        self._thread.start()
        wait_for(lambda: self.server.started, f"uvicorn on 127.0.0.1:{self.port}", timeout=10)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = None
        self.sock.close()

    def __enter__(self) -> AsgiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Party:
    """A local app reachable as `origin` (https://127.0.0.N, port 443) through its TlsFront."""

    address: str
    front: TlsFront
    server: AsgiServer | None = None

    @property
    def origin(self) -> str:
        return self.front.origin

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"


@contextlib.contextmanager
def front_port(
    upstream_port: int, ca: LoopbackCA, address: str | None = None, sock: socket.socket | None = None
) -> Iterator[Party]:
    """https://127.0.0.N -> any plain-HTTP server already on 127.0.0.1:upstream_port.

    N is `address`, or that of `sock` (from `reserve_https_address()`, when the server must know
    its origin before it starts, like a `fediverse-a2 serve` subprocess), or a free one.
    """
    if sock is None and address is None:
        address, sock = reserve_https_address()
    if sock is not None:
        address = sock.getsockname()[0]
    assert address is not None
    front = TlsFront(upstream_port, ca.server_context(address), address=address, sock=sock)
    with front:
        yield Party(address, front)


@contextlib.contextmanager
def https_party(app: Any, ca: LoopbackCA, address: str | None = None) -> Iterator[Party]:
    """Serve an ASGI app on 127.0.0.1 and put a TlsFront on https://127.0.0.N in front of it."""
    with AsgiServer(app) as server, front_port(server.port, ca, address) as party:
        party.server = server
        yield party


# --- the relay ------------------------------------------------------------------------------


def rsa_private_pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode("ascii")


@dataclass
class Relay:
    """A running ActivityRelay: its own URLs and where its config, database and log are."""

    domain: str
    port: int
    folder: Path
    config: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    front: TlsFront
    private_key: str = field(repr=False)
    env: dict[str, str] = field(repr=False)

    @property
    def origin(self) -> str:
        return f"https://{self.domain}"

    @property
    def actor(self) -> str:
        return f"{self.origin}/actor"

    @property
    def inbox(self) -> str:
        return f"{self.origin}/inbox"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        tail = "\n".join(self.log().splitlines()[-lines:])
        errors = "\n".join(self.front.errors[-10:])
        return f"--- relay log ({self.log_path}), last {lines} lines:\n{tail}\n--- TlsFront errors:\n{errors}"

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run `activityrelay -c CONFIG ARGS...` (e.g. `software ban NAME`) against this relay's files."""
        return subprocess.run(
            [str(RELAY_VENV / "bin" / "activityrelay"), "-c", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            stdin=subprocess.DEVNULL,
        )

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM (the relay stops its push workers), then SIGKILL to its process group if needed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        # The push workers are children in the relay's own session: end any that outlived it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode


def relay_env(ca: LoopbackCA) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "REQUESTS_CA"))}
    env.pop("DOCKER_RUNNING", None)  # the relay would force /data paths and port 8080
    env.pop("LOG_FILE", None)
    env["PATH"] = f"{RELAY_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # aiohttp verifies with ssl.create_default_context(): OpenSSL's default verify paths honour these.
    env["SSL_CERT_FILE"] = str(ca.ca_file)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@contextlib.contextmanager
def start_relay(
    folder: Path,
    ca: LoopbackCA,
    *,
    address: str | None = None,
    log_level: str = "VERBOSE",
    workers: int = 1,
    timeout: float = 30.0,
) -> Iterator[Relay]:
    """Start ActivityRelay 0.3.5 as https://127.0.0.N (its own address, port 443) with config and data in `folder`.

    The relay listens on 127.0.0.1:<free port>; a TlsFront with a certificate from `ca` serves
    its domain. Yields once GET https://DOMAIN/actor answers 200 through the front.
    `log_level`: DEBUG also logs every payload the relay receives and relays.
    """
    require_relay()
    folder.mkdir(parents=True, exist_ok=True)
    if address is None:
        address, sock = reserve_https_address()
        front = TlsFront(0, ca.server_context(address), sock=sock)
    else:
        front = TlsFront(0, ca.server_context(address), address=address)
    port = free_port()
    front.upstream = ("127.0.0.1", port)
    config = folder / "relay.yaml"
    template = (RELAY_FILES / "relay.yaml.template").read_text(encoding="utf-8")
    config.write_text(
        template.format(port=port, domain=address, workers=workers, sqlite_path=folder / "relay.sqlite3"),
        encoding="utf-8",
    )
    private_key = rsa_private_pem()
    key_file = folder / "relay-key.pem"
    key_file.write_text(private_key, encoding="ascii")
    log_path = folder / "relay.log"
    env = relay_env(ca)
    with front, log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(RELAY_PYTHON), str(RELAY_FILES / "bootstrap.py"), str(config), str(key_file), log_level],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        relay = Relay(address, port, folder, config, log_path, proc, front, private_key, env)
        try:
            with ca.client() as client:

                def ready() -> bool:
                    if proc.poll() is not None:
                        raise AssertionError(f"relay exited with {proc.returncode}\n{relay.log_tail()}")
                    try:
                        return client.get(relay.actor, headers={"Accept": ACTIVITY_JSON}).status_code == 200
                    except httpx.HTTPError:
                        return False

                wait_for(ready, f"the relay at {relay.actor}", timeout=timeout, diag=relay.log_tail)
            yield relay
        finally:
            relay.stop()


# --- pytest fixtures ------------------------------------------------------------------------
# A test module gets them by importing the functions (`from relay_harness import relay_fixture`, with a noqa F401)
# and asks for them by their fixture names: `relay_ca`, `relay`, `party_factory`.


@pytest.fixture(scope="session", name="relay_ca")
def relay_ca_fixture(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    """The session's throw-away CA (its PEM is `relay_ca.ca_file`)."""
    return LoopbackCA(tmp_path_factory.mktemp("relay-ca"))


def report_if_failed(request: pytest.FixtureRequest, failed_before: int, title: str, text: Callable[[], str]) -> None:
    """In a fixture's teardown: when the test failed, print `text()` on the terminal (past output capture)."""
    if request.session.testsfailed <= failed_before:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reporter.ensure_newline()
    reporter.write_sep("-", f"{title} ({request.node.nodeid})")
    reporter.write_line(text())


@pytest.fixture(name="relay")
def relay_fixture(relay_ca: LoopbackCA, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """A fresh ActivityRelay for one test; its log is printed when the test fails."""
    failed_before = request.session.testsfailed
    with start_relay(tmp_path / "relay", relay_ca) as r:
        yield r
        report_if_failed(request, failed_before, f"relay log {r.origin}", lambda: r.log_tail(200))


@pytest.fixture(name="party_factory")
def party_factory_fixture(relay_ca: LoopbackCA) -> Iterator[Callable[[Any], Party]]:
    """`party_factory(app)` -> a `Party` serving the ASGI app at https://127.0.0.N; all stopped after the test."""
    with contextlib.ExitStack() as stack:

        def make(app: Any) -> Party:
            return stack.enter_context(https_party(app, relay_ca))

        yield make
