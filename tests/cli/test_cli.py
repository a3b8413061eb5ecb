"""The CLI: members, posts, keys, and one-line errors with a non-zero exit code."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fediverse_a2.config import load_config
from helpers import cli, last_line, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:8999")


def _one_line_error(proc, code: int = 1) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_member_add_creates_actor_and_private_key(config: Path) -> None:
    proc = cli(config, "member", "add", "alice", "--name", "Alice de Vries", "--summary", "Beleidsmedewerker")
    assert last_line(proc) == "http://127.0.0.1:8999/users/alice"
    keys = load_config(config).keys_path
    key = keys / "alice.pem"
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The instance actor's key is created on first use too.
    assert stat.S_IMODE((keys / "instance-actor.pem").stat().st_mode) == 0o600
    listing = cli(config, "member", "list").stdout
    assert "alice\tAlice de Vries\thttp://127.0.0.1:8999/users/alice" in listing


@pytest.mark.parametrize("username", ["Alice", "a-b", "", "x" * 31, "../../etc/passwd", "al ice", "ålice"])
def test_invalid_usernames_are_refused(config: Path, username: str) -> None:
    line = _one_line_error(cli(config, "member", "add", username, "--name", "X", check=False))
    assert "invalid username" in line
    keys = load_config(config).keys_path
    assert sorted(p.name for p in keys.glob("*.pem")) == ["instance-actor.pem"]


def test_taken_username_is_refused(config: Path) -> None:
    cli(config, "member", "add", "bob", "--name", "Bob")
    line = _one_line_error(cli(config, "member", "add", "bob", "--name", "Bob 2", check=False))
    assert line == "fediverse-a2: username 'bob' is already taken"


def test_post_prints_url_last_and_reads_body_file(config: Path, tmp_path: Path) -> None:
    cli(config, "member", "add", "carla", "--name", "Carla")
    url = last_line(cli(config, "post", "carla", "--title", "Eerste", "--body", "Hallo *wereld*"))
    assert url == "http://127.0.0.1:8999/posts/1"
    body = tmp_path / "body.md"
    body.write_text("# Kop\n\nTekst uit een bestand.\n")
    assert last_line(cli(config, "post", "carla", "--title", "Tweede", "--body-file", str(body))).endswith("/posts/2")


def test_post_errors_are_one_line(config: Path, tmp_path: Path) -> None:
    line = _one_line_error(cli(config, "post", "nobody", "--title", "T", "--body", "x", check=False))
    assert line == "fediverse-a2: no member named 'nobody'"
    cli(config, "member", "add", "dirk", "--name", "Dirk")
    line = _one_line_error(
        cli(config, "post", "dirk", "--title", "T", "--body-file", str(tmp_path / "missing.md"), check=False)
    )
    assert "body file not found" in line
    line = _one_line_error(cli(config, "post", "dirk", "--title", "  ", "--body", "x", check=False))
    assert "--title must not be empty" in line


def test_usage_errors_are_one_line(config: Path) -> None:
    line = _one_line_error(cli(config, "post", "dirk", "--title", "T", check=False), code=2)
    assert "--body" in line
    line = _one_line_error(cli(config, "frobnicate", check=False), code=2)
    assert "invalid choice" in line


def test_edit_and_delete_require_a_local_post(config: Path) -> None:
    line = _one_line_error(cli(config, "edit", "http://elsewhere.test/posts/1", "--title", "X", check=False))
    assert "not a post on this instance" in line
    line = _one_line_error(cli(config, "delete", "http://127.0.0.1:8999/posts/99", check=False))
    assert "not a post on this instance" in line


async def test_serve_listens_on_the_base_url_port_by_default(tmp_path: Path) -> None:
    import subprocess
    import sys

    import httpx

    from helpers import free_port, wait_for

    port = free_port()
    config = write_config(tmp_path / "inst", f"http://127.0.0.1:{port}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        async def up() -> bool:
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    return (await client.get(f"http://127.0.0.1:{port}/.well-known/nodeinfo")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(up, timeout=20, what="serve on the base_url's port")
    finally:
        proc.terminate()
        proc.wait(10)
