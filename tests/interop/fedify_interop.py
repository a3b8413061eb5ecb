"""Helpers for the Fedify interop tests: loopback Fedify peers and a real fediverse-a2.

Everything runs on 127.0.0.1.  The peers are the Node programs in
tests/interop/fedify-*/peer.mjs (see README.md next to this file); fediverse-a2
runs as its own `serve` subprocess with a throw-away config.

When a peer folder has no node_modules the tests are skipped, unless the
environment variable FEDIVERSE_A2_INTEROP is set (CI sets it), in which case
they fail: CI must never silently skip the interop suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# id -> (folder, Node major version the peer must run on)
VERSIONS: dict[str, tuple[Path, int]] = {
    "fedify-1.5": (HERE / "fedify-1.5", 20),
    "fedify-1.10": (HERE / "fedify-1.10", 22),
    "fedify-2": (HERE / "fedify-2", 24),
}
VERSION_IDS = list(VERSIONS)

DEADLINE = 20.0  # seconds a federated effect may take to show up
POLL = 0.1  # seconds between two looks

T = TypeVar("T")

# Plain urllib without any proxy from the environment: all traffic is loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def interop_required() -> bool:
    return bool(os.environ.get("FEDIVERSE_A2_INTEROP"))


def unavailable(reason: str) -> None:
    """Skip locally, fail loudly in CI (FEDIVERSE_A2_INTEROP set)."""
    if interop_required():
        pytest.fail(f"FEDIVERSE_A2_INTEROP is set but {reason}", pytrace=False)
    pytest.skip(f"{reason} (run tests/interop/install.sh; set FEDIVERSE_A2_INTEROP=1 to make this an error)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(key, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.pop("FEDIVERSE_A2_CONFIG", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> HttpResult:
    """One HTTP request to a loopback URL; never raises on an HTTP error status."""
    host = urllib.parse.urlsplit(url).hostname
    assert host in ("127.0.0.1", "localhost", "::1"), f"refusing non-loopback URL {url}"
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return HttpResult(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpResult(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def wait_for(
    check: Callable[[], T | None],
    what: str,
    diagnostics: Callable[[], str] = lambda: "",
    timeout: float = DEADLINE,
    interval: float = POLL,
) -> T:
    """Poll `check` until it returns something truthy; fail with diagnostics at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:  # a service that is still starting, etc.
            last_error = exc
        if time.monotonic() >= deadline:
            extra = f"\nlast error: {last_error!r}" if last_error else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{extra}\n{diagnostics()}", pytrace=False)
        time.sleep(interval)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- peers


@dataclass
class Peer:
    """A running Fedify peer and its control API."""

    version_id: str
    fedify_version: str
    node_version: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    username: str = "peer"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor_url(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def handle(self) -> str:
        return f"{self.username}@127.0.0.1:{self.port}"

    @property
    def rfc9421_capable(self) -> bool:
        major, minor = (int(x) for x in self.fedify_version.split(".")[:2])
        return (major, minor) >= (1, 6)

    def get(self, path: str) -> Any:
        res = http("GET", self.base_url + path)
        assert res.status == 200, f"peer GET {path}: {res.status} {res.text[:2000]}"
        return res.json()

    def post(self, path: str, body: dict[str, Any], expect_ok: bool = True) -> Any:
        res = http("POST", self.base_url + path, body=body)
        try:
            data = res.json()
        except ValueError:
            data = {"ok": False, "status": res.status, "text": res.text[:2000]}
        if expect_ok and (res.status != 200 or data.get("ok") is False):
            pytest.fail(
                f"peer POST {path} {body!r} failed ({res.status}):\n"
                f"{json.dumps(data, indent=1)[:6000]}\n{self.diagnostics()}",
                pytrace=False,
            )
        return data

    def inbox(self) -> dict[str, Any]:
        return self.get("/control/inbox")

    def activities(self) -> list[dict[str, Any]]:
        return self.inbox()["activities"]

    def announces(self) -> list[dict[str, Any]]:
        """Announce activities that reached the inbox (see /control/announces in README.md)."""
        return self.get("/control/announces")["announces"]

    def log(self) -> dict[str, Any]:
        return self.get("/control/log")

    def specs(self) -> dict[str, Any]:
        return self.get("/control/specs")

    def wait_activity(
        self, pred: Callable[[dict[str, Any]], bool], what: str, extra: Callable[[], str] = lambda: ""
    ) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((a for a in self.activities() if pred(a)), None)

        return wait_for(find, f"{what} in the {self.version_id} peer's inbox", lambda: self.diagnostics() + extra())

    def diagnostics(self) -> str:
        out = [
            f"--- {self.version_id} peer (Fedify {self.fedify_version}, Node {self.node_version}) on {self.base_url}"
        ]
        try:
            log = self.log()
            inbox = self.get("/control/inbox?raw=0")
            out.append("errors: " + json.dumps(log["errors"][-15:], indent=1)[:6000])
            out.append(
                "inbox failures (rejected inbox POSTs, with Fedify's log lines): "
                + json.dumps(log["inbox_failures"][-10:], indent=1)[:6000]
            )
            out.append("blocked non-loopback fetches: " + json.dumps(log["blocked_fetches"][-10:], indent=1)[:2000])
            out.append("recent outgoing requests: " + json.dumps(log["outgoing"][-12:], indent=1)[:5000])
            out.append("recent incoming requests: " + json.dumps(log["requests"][-12:], indent=1)[:5000])
            keys = ("type", "id", "actor", "object", "verified_by", "http_signature")
            recent = [{k: a.get(k) for k in keys} for a in inbox["activities"][-10:]]
            out.append("inbox: " + json.dumps(recent, indent=1)[:5000])
            out.append(
                "followers: " + json.dumps(inbox["followers"]) + "\nfollowing: " + json.dumps(inbox["following"])
            )
        except Exception as exc:  # the peer may be dead; show its output instead
            out.append(f"(control API unavailable: {exc!r})")
        out.append("peer output:\n" + tail(self.log_path, 30))
        return "\n".join(out)


def _node_for(version_id: str) -> tuple[str, str]:
    folder, major = VERSIONS[version_id]
    candidates: list[str] = []
    if major != 20:
        # fedify-1.10 needs Node 22 and fedify-2 Node 24, each installed into its
        # folder from the npm package `node`.
        for rel in ("node_modules/.bin/node", "node_modules/node/bin/node"):
            if (folder / rel).exists():
                candidates.append(str(folder / rel))
    else:
        found = shutil.which("node")
        if found:
            candidates.append(found)
    for node in candidates:
        try:
            version = subprocess.run(
                [node, "--version"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if int(version.lstrip("v").split(".")[0]) >= major:
            return node, version
    unavailable(f"no Node >= {major} for {version_id} (looked at {candidates or 'PATH'})")
    raise AssertionError("unreachable")


def _check_install(version_id: str) -> str:
    folder, _ = VERSIONS[version_id]
    pinned = json.loads((folder / "package.json").read_text())["dependencies"]["@fedify/fedify"]
    installed_pkg = folder / "node_modules" / "@fedify" / "fedify" / "package.json"
    if not installed_pkg.exists():
        unavailable(f"{folder.relative_to(REPO)}/node_modules is missing")
    installed = json.loads(installed_pkg.read_text())["version"]
    if installed != pinned:
        unavailable(f"{folder.relative_to(REPO)} has @fedify/fedify {installed} installed but pins {pinned}")
    return installed


def start_peer(
    version_id: str,
    tmp: Path,
    name: str,
    *,
    username: str = "peer",
    first_knock: str | None = None,
    actor_type: str = "Person",
) -> Peer:
    """Start a peer; `first_knock` (Fedify >= 1.7) picks the spec it signs with first,
    `actor_type` "Group" makes its actor a Group (e.g. username "netwerk")."""
    folder, _ = VERSIONS[version_id]
    fedify_version = _check_install(version_id)
    node, node_version = _node_for(version_id)
    port = free_port()
    log_path = tmp / f"{name}.log"
    cmd = [
        node,
        "peer.mjs",
        "--port",
        str(port),
        "--name",
        f"Fedify {fedify_version} {name}",
        "--username",
        username,
        "--actor-type",
        actor_type,
    ]
    if first_knock is not None:
        cmd += ["--first-knock", first_knock]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=subprocess_env(),
        )
    peer = Peer(version_id, fedify_version, node_version, port, proc, log_path, username)

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"{version_id} peer exited with {proc.returncode}:\n{tail(log_path)}", pytrace=False)
        return http("GET", peer.base_url + "/control/health", timeout=5).status == 200

    try:
        wait_for(healthy, f"the {version_id} peer to become healthy", lambda: tail(log_path), timeout=60)
        wait_for(
            lambda: "ready" in log_path.read_text(errors="replace"),
            f"the {version_id} peer to print ready",
            lambda: tail(log_path),
            timeout=10,
        )
        health = peer.get("/control/health")
        assert health["fedify"] == fedify_version, health
        assert health["node"] == node_version, health
        assert health["actor"] == peer.actor_url, health
    except BaseException:
        stop_process(proc)
        raise
    return peer


# ------------------------------------------------------------------ fediverse-a2


def a2_command() -> list[str]:
    script = Path(sys.executable).parent / "fediverse-a2"
    if script.exists():
        return [str(script)]
    found = shutil.which("fediverse-a2")
    return [found] if found else [sys.executable, "-m", "fediverse_a2"]


@dataclass
class A2:
    """A fediverse-a2 instance: `serve` subprocess plus its CLI."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=Path)
    members: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    def actor_url(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def handle(self, username: str) -> str:
        return f"{username}@127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*a2_command(), "--config", str(self.config), *args]
        proc = subprocess.run(
            cmd,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=subprocess_env(),
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"`fediverse-a2 {' '.join(args)}` exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}\n"
                f"server log:\n{tail(self.log_path, 40)}",
                pytrace=False,
            )
        return proc

    def cli_last_line(self, *args: str) -> str:
        out = self.cli(*args).stdout.strip().splitlines()
        assert out, f"`fediverse-a2 {' '.join(args)}` printed nothing"
        return out[-1].strip()

    def get(self, url: str, accept: str = "application/activity+json") -> HttpResult:
        if url.startswith("/"):
            url = self.base_url + url
        return http("GET", url, headers={"Accept": accept})

    def get_json(self, url: str) -> Any:
        res = self.get(url)
        assert res.status == 200, f"GET {url} (activity+json): {res.status} {res.text[:1000]}"
        return res.json()

    def diagnostics(self) -> str:
        out = [f"--- fediverse-a2 on {self.base_url} (config {self.config})"]
        if self.proc is not None and self.proc.poll() is not None:
            out.append(f"serve exited with {self.proc.returncode}")
        try:
            q = self.cli("queue", check=False, timeout=60)
            out.append("fediverse-a2 queue:\n" + (q.stdout + q.stderr)[-3000:])
        except (OSError, subprocess.SubprocessError) as exc:
            out.append(f"(queue unavailable: {exc!r})")
        out.append("serve log:\n" + tail(self.log_path, 60))
        return "\n".join(out)


CONFIG_TEMPLATE = """\
[instance]
base_url = "http://127.0.0.1:{port}"
name = "Test"
language = "nl"

[storage]
database = "data/db.sqlite3"
keys_dir = "keys"

[federation]
mode = "open"
allow = []
block = []
allow_private_network = true
"""


# ----------------------------------------------------------------- small helpers


def id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        v = value.get("id") or value.get("@id") or value.get("href")
        return v if isinstance(v, str) else None
    return None


def strip_tags(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
