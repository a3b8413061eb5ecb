"""Fixtures for the Fedify interop tests (helpers live in fedify_interop.py).

`peer` / `peer_pair`: loopback Fedify peers, parametrised over the pinned Fedify
versions (ids = VERSION_IDS in fedify_interop.py: fedify-1.5, fedify-1.10,
fedify-2); `a2`: a real fediverse-a2 `serve` subprocess with member `alice`.
Without node_modules the tests skip, unless FEDIVERSE_A2_INTEROP is set (CI),
in which case they fail.
"""

from __future__ import annotations

import subprocess
import urllib.parse
from collections.abc import Iterator

import pytest

from .fedify_interop import (
    A2,
    CONFIG_TEMPLATE,
    VERSION_IDS,
    Peer,
    a2_command,
    free_port,
    http,
    start_peer,
    stop_process,
    subprocess_env,
    tail,
    wait_for,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "interop: talks to a real Fedify peer on 127.0.0.1")


@pytest.fixture(scope="session", params=VERSION_IDS, ids=VERSION_IDS)
def fedify_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def peer(fedify_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """A Fedify peer of the parametrised version (one per version per session)."""
    p = start_peer(fedify_version, tmp_path_factory.mktemp(f"{fedify_version}-peer"), "peer")
    try:
        yield p
    finally:
        stop_process(p.proc)


@pytest.fixture
def peer_pair(fedify_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Peer, Peer]]:
    """Two fresh peers of the same version, for the peer-to-peer self test."""
    a = start_peer(fedify_version, tmp_path_factory.mktemp(f"{fedify_version}-self-a"), "peer-a")
    try:
        b = start_peer(fedify_version, tmp_path_factory.mktemp(f"{fedify_version}-self-b"), "peer-b")
        try:
            yield a, b
        finally:
            stop_process(b.proc)
    finally:
        stop_process(a.proc)


@pytest.fixture(scope="session")
def a2(fedify_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[A2]:
    """A fresh fediverse-a2 (one per Fedify version) with member `alice`, serving on 127.0.0.1."""
    root = tmp_path_factory.mktemp(f"a2-{fedify_version}")
    (root / "data").mkdir()
    port = free_port()
    inst = A2(root=root, port=port, log_path=root / "serve.log")
    inst.config.write_text(CONFIG_TEMPLATE.format(port=port), encoding="utf-8")
    inst.cli("member", "add", "alice", "--name", "Alice")
    inst.members["alice"] = inst.actor_url("alice")

    with inst.log_path.open("wb") as log:
        inst.proc = subprocess.Popen(
            [*a2_command(), "--config", str(inst.config), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=subprocess_env(),
        )
    proc = inst.proc
    try:

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail(
                    f"`fediverse-a2 serve` exited with {proc.returncode}:\n{tail(inst.log_path)}", pytrace=False
                )
            res = http(
                "GET",
                f"{inst.base_url}/.well-known/webfinger?resource=" + urllib.parse.quote(f"acct:{inst.handle('alice')}"),
                headers={"Accept": "application/jrd+json"},
                timeout=5,
            )
            return res.status == 200

        wait_for(up, "fediverse-a2 to serve WebFinger for alice", lambda: tail(inst.log_path), timeout=60)
        yield inst
    finally:
        stop_process(proc)
