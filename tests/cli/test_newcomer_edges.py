"""What a newcomer runs into: each mistake gives one line naming the key or what to install, no traceback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_mastodon import FakeMastodon, running
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import posts
from helpers import PROCESS_TIMEOUT, cli, free_port, last_line, write_config
from hostile import one_line_error


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "a2", "http://127.0.0.1:8999")


def test_serve_with_a_port_out_of_range(config: Path) -> None:
    line = one_line_error(cli(config, "serve", "--port", "99999", check=False))
    assert "--port" in line and "65535" in line


@pytest.mark.parametrize(
    ("base_url", "words"),
    [
        ("http://127.0.0.1:99999", "bad port"),
        ("http://admin:secret@example.org", "user info"),
        ("https://example.org:0x50", "bad port"),
    ],
)
def test_base_url_with_a_bad_port_or_user_info(tmp_path: Path, base_url: str, words: str) -> None:
    config = write_config(tmp_path, base_url)
    line = one_line_error(cli(config, "member", "list", check=False))
    assert "instance.base_url" in line and words in line, line


def test_postgresql_without_asyncpg_says_what_to_install(tmp_path: Path) -> None:
    # A package named asyncpg that cannot be imported stands in for one that is not installed.
    shadow = tmp_path / "shadow" / "asyncpg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('asyncpg is not installed here')\n")
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999", database="postgresql://127.0.0.1:1/a2")
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--config", str(config), "member", "list"],
        capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(shadow.parent), "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    line = one_line_error(proc)
    assert "storage.database" in line and "fediverse-a2[postgres]" in line, line


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://a2@127.0.0.1:{free_port()}/a2"
    config = write_config(tmp_path, "http://127.0.0.1:8999", database=url)
    line = one_line_error(cli(config, "member", "list", check=False))
    assert "storage.database" in line and "cannot connect" in line, line


def test_database_folder_that_does_not_exist(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:8999", database=str(tmp_path / "no" / "such" / "db.sqlite3"))
    line = one_line_error(cli(config, "member", "list", check=False))
    assert "storage.database" in line and "does not exist" in line, line
    assert not (tmp_path / "no").exists()


def test_a_missing_data_folder_of_the_default_is_made(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:8999", database="data/db.sqlite3")
    cli(config, "member", "list")
    assert (tmp_path / "data" / "db.sqlite3").exists()


async def test_empty_post_body_is_refused(config: Path) -> None:
    cli(config, "member", "add", "alice", "--name", "Alice")
    for body in ("", "   \n\t"):
        line = one_line_error(cli(config, "post", "alice", "--title", "Leeg", "--body", body, check=False))
        assert "body must not be empty" in line
    rt = await Runtime.open(load_config(config))
    try:
        assert await posts.count_live(rt.db) == 0
    finally:
        await rt.close()


def test_block_of_a_local_member_says_so(config: Path) -> None:
    cli(config, "member", "add", "alice", "--name", "Alice")
    for target in ("alice", "@alice", "@alice@127.0.0.1:8999", "http://127.0.0.1:8999/users/alice"):
        line = one_line_error(cli(config, "block", target, check=False))
        assert "this instance" in line, (target, line)


async def test_block_by_url_unblock_by_handle_and_block_list(tmp_path: Path) -> None:
    fake = FakeMastodon("127.0.0.1")
    fake.add_user("carol", "Carol")
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")

    async def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # In a thread: the fake answers on this event loop while the command runs.
        return await asyncio.to_thread(cli, config, *args, check=check)

    async with running(fake):
        host = fake.base.removeprefix("http://")
        assert "no blocked actors" in (await run("block", "list")).stdout
        assert last_line(await run("block", fake.uri("carol"))) == f"blocked {fake.uri('carol')}"
        listing = (await run("block", "list")).stdout
        assert f"@carol@{host}\t{fake.uri('carol')}" in listing
        assert last_line(await run("unblock", f"@carol@{host}")) == f"unblocked {fake.uri('carol')}"
        assert "no blocked actors" in (await run("block", "list")).stdout
        line = one_line_error(await run("unblock", f"@carol@{host}", check=False))
        assert "is not blocked" in line


def test_every_command_answers_help_without_a_database(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fediverse_a2", "--help"],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        cwd=tmp_path,
    )
    assert proc.returncode == 0
    for name in ("serve", "member", "post", "domain", "block", "queue"):
        assert name in proc.stdout
    assert not (tmp_path / "data").exists()
