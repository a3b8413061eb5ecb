"""`member export`, `member delete` and `member move` as real processes: what they write and change,
and one-line refusals that change nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import members, posts
from fediverse_a2.store.members import NewMember
from helpers import cli, write_config

BASE = "http://127.0.0.1:8999"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, BASE)
    cli(path, "member", "add", "alice", "--name", "Alice de Vries")
    return path


def _one_line_error(proc) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_member_export_writes_a_new_zip_and_never_overwrites(config: Path, tmp_path: Path) -> None:
    cli(config, "post", "alice", "--title", "Eerste", "--body", "Hallo *wereld*")
    target = tmp_path / "alice.zip"
    cli(config, "member", "export", "alice", str(target))
    with zipfile.ZipFile(target) as zf:
        assert orjson.loads(zf.read("actor.json"))["id"] == f"{BASE}/users/alice"
        outbox = orjson.loads(zf.read("outbox.json"))
        assert outbox["totalItems"] == 1 and outbox["orderedItems"][0]["object"]["content"].count("wereld") == 1
        assert any(name.startswith("posts/") and name.endswith(".md") for name in zf.namelist())
    before = target.read_bytes()
    assert "exists" in _one_line_error(cli(config, "member", "export", "alice", str(target), check=False))
    assert target.read_bytes() == before
    assert "no member" in _one_line_error(
        cli(config, "member", "export", "nobody", str(tmp_path / "x.zip"), check=False)
    )
    missing = tmp_path / "no" / "such" / "folder.zip"
    _one_line_error(cli(config, "member", "export", "alice", str(missing), check=False))
    assert not list(tmp_path.glob(".*.partial")) and not missing.exists()


async def test_member_delete_of_an_archive_author_sends_nothing_and_makes_no_key(config: Path) -> None:
    rt = await Runtime.open(load_config(config))
    try:
        [author_id] = await members.add_many(
            rt.db, [NewMember("ning:an", "an_oud", "An van Vroeger", "an@example.org", "member", "left", True, 1.0e9)]
        )
        assert author_id is not None
        post_id = await posts.create(rt.db, author_id, "Oud stuk", "Uit het archief", "<p>Uit het archief</p>")
    finally:
        await rt.close()
    done = cli(config, "member", "delete", "an_oud")
    assert "deleted an_oud" in done.stdout and "queued" not in done.stdout  # no server ever knew this account
    assert not (load_config(config).keys_path / "an_oud.pem").exists()
    rt = await Runtime.open(load_config(config))
    try:
        author = await members.by_username(rt.db, "an_oud")
        assert author is not None and author.is_deleted and author.email is None and author.name == ""
        post = await posts.by_id(rt.db, post_id)
        assert post is not None and post.deleted_at is not None and post.body_md == ""
    finally:
        await rt.close()
    # The username is never given out again, and deleting twice says so.
    assert "taken" in _one_line_error(cli(config, "member", "add", "an_oud", "--name", "Iemand anders", check=False))
    assert "deleted" in _one_line_error(cli(config, "member", "delete", "an_oud", check=False))
    assert "deleted" in _one_line_error(cli(config, "member", "export", "an_oud", "/tmp/never.zip", check=False))


def test_member_delete_without_followers_drops_the_key_at_once(config: Path) -> None:
    key = load_config(config).keys_path / "alice.pem"
    assert key.exists()
    cli(config, "member", "delete", "alice")
    assert not key.exists()
    listing = cli(config, "member", "list").stdout
    assert "alice" in listing and "deleted" in listing


async def test_member_move_to_a_member_here_needs_their_alias(config: Path) -> None:
    cli(config, "member", "add", "bob", "--name", "Bob")
    line = _one_line_error(cli(config, "member", "move", "alice", "@bob@127.0.0.1:8999", check=False))
    assert "alsoKnownAs" in line
    assert "itself" in _one_line_error(cli(config, "member", "move", "alice", f"{BASE}/users/alice", check=False))
    rt = await Runtime.open(load_config(config))
    try:
        bob = await members.by_username(rt.db, "bob")
        assert bob is not None
        await members.set_aliases(rt.db, bob.id, [f"{BASE}/users/alice"])
    finally:
        await rt.close()
    moved = cli(config, "member", "move", "alice", "@bob@127.0.0.1:8999")
    assert f"{BASE}/users/bob" in moved.stdout
    rt = await Runtime.open(load_config(config))
    try:
        alice = await members.by_username(rt.db, "alice")
        assert alice is not None and alice.moved_to == f"{BASE}/users/bob"
        kinds = [
            str(r[0]) for r in await rt.db.fetchall("SELECT type FROM activities WHERE member_id = ?", (alice.id,))
        ]
        assert "Move" in kinds
    finally:
        await rt.close()
