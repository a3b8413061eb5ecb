"""Hostile and broken backup archives: `backup verify` and `backup restore` refuse each with one
line on stderr and exit 1, and a refused restore leaves the configured locations untouched.

Each archive is made from a real one (`backup create` of a small instance) by changing one
thing: a path that leaves its folder, a link, a wrong checksum or size, a member too many or
missing, a manifest that lies, a damaged stream.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import cli, write_config

Member = tuple[tarfile.TarInfo, bytes | None]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real backup of an instance with a member, a post and an uploaded-looking media file."""
    folder = tmp_path_factory.mktemp("source")
    config = write_config(folder / "a2", "http://127.0.0.1:8123")
    cli(config, "member", "add", "alice", "--name", "Alice")
    cli(config, "post", "alice", "--title", "Hoi", "--body", "Hallo")
    (folder / "a2" / "media" / "files").mkdir(parents=True)
    (folder / "a2" / "media" / "abc123.png").write_bytes(b"\x89PNG not really")
    (folder / "a2" / "media" / "files" / "notulen.pdf").write_bytes(b"%PDF-1.4 notulen")
    archive = folder / "backup.tar.gz"
    cli(config, "backup", "create", str(archive))
    return archive


def _members(archive: Path) -> list[Member]:
    out: list[Member] = []
    with tarfile.open(archive, "r:gz") as tar:
        for info in tar.getmembers():
            fh = tar.extractfile(info)
            out.append((info, fh.read() if fh else None))
    return out


def _write(path: Path, members: list[Member]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _manifest(members: list[Member]) -> dict:
    return json.loads(members[0][1] or b"")


def _with_manifest(members: list[Member], manifest: dict) -> list[Member]:
    data = json.dumps(manifest).encode()
    info = tarfile.TarInfo("manifest.json")
    info.size = len(data)
    return [(info, data), *members[1:]]


def _file(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _listed(members: list[Member], name: str, data: bytes) -> list[Member]:
    """Add a file, listed in the manifest with its true size and checksum."""
    manifest = _manifest(members)
    manifest["files"].append({"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return [*_with_manifest(members, manifest), _file(name, data)]


def _link(name: str, target: str, kind: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _traversal_listed(m: list[Member]) -> list[Member]:
    return _listed(m, "keys/../../../escaped.pem", b"key")


def _traversal_unlisted(m: list[Member]) -> list[Member]:
    return [*m, _file("media/../../escaped.txt", b"x")]


def _absolute(m: list[Member]) -> list[Member]:
    return _listed(m, "/tmp/escaped.pem", b"key")


def _hidden(m: list[Member]) -> list[Member]:
    return _listed(m, "media/.htaccess", b"x")


def _key_in_subfolder(m: list[Member]) -> list[Member]:
    return _listed(m, "keys/sub/alice.pem", b"key")


def _symlink(m: list[Member]) -> list[Member]:
    return [m[0], _link("keys/alice.pem", "/etc/passwd", tarfile.SYMTYPE), *m[1:]]


def _hardlink(m: list[Member]) -> list[Member]:
    return [m[0], _link("media/abc123.png", "/etc/passwd", tarfile.LNKTYPE), *m[1:]]


def _folder(m: list[Member]) -> list[Member]:
    info = tarfile.TarInfo("media/files")
    info.type = tarfile.DIRTYPE
    return [m[0], (info, None), *m[1:]]


def _fifo(m: list[Member]) -> list[Member]:
    info = tarfile.TarInfo("media/pipe")
    info.type = tarfile.FIFOTYPE
    return [m[0], (info, None), *m[1:]]


def _bad_checksum(m: list[Member]) -> list[Member]:
    out = list(m)
    index = next(i for i, (info, _) in enumerate(out) if info.name.startswith("keys/"))
    info, data = out[index]
    assert data is not None
    out[index] = (info, data[:-2] + b"X\n")  # same size, other bytes
    return out


def _bigger_than_listed(m: list[Member]) -> list[Member]:
    out = list(m)
    index = next(i for i, (info, _) in enumerate(out) if info.name == "media/abc123.png")
    out[index] = _file("media/abc123.png", (out[index][1] or b"") + b"more")
    return out


def _pax_bomb(m: list[Member]) -> list[Member]:
    """A listed file, whole, behind an extended header of 40 MB (tarfile reads such a header into memory)."""
    out = list(m)
    index = next(i for i, (info, _) in enumerate(out) if info.name == "media/abc123.png")
    info, data = out[index]
    info.pax_headers = {"comment": "x" * 40_000_000}
    out[index] = (info, data)
    return out


def _unlisted(m: list[Member]) -> list[Member]:
    return [*m, _file("media/extra.png", b"not in the manifest")]


def _twice(m: list[Member]) -> list[Member]:
    return [*m, m[-1]]


def _missing(m: list[Member]) -> list[Member]:
    return [member for member in m if member[0].name != "media/abc123.png"]


def _manifest_not_first(m: list[Member]) -> list[Member]:
    return [*m[1:], m[0]]


def _no_manifest(m: list[Member]) -> list[Member]:
    return m[1:]


def _manifest_not_json(m: list[Member]) -> list[Member]:
    return [_file("manifest.json", b"{not json"), *m[1:]]


def _other_format(m: list[Member]) -> list[Member]:
    return _with_manifest(m, {**_manifest(m), "format": "something-else"})


def _oversized(m: list[Member]) -> list[Member]:
    manifest = _manifest(m)
    for entry in manifest["files"]:
        if entry["path"].startswith("database/"):
            entry["size"] = 2**60  # an exabyte: more than any disk here has free
    return _with_manifest(m, manifest)


def _no_database(m: list[Member]) -> list[Member]:
    manifest = _manifest(m)
    manifest["files"] = [e for e in manifest["files"] if not e["path"].startswith("database/")]
    return [member for member in _with_manifest(m, manifest) if not member[0].name.startswith("database/")]


CASES: dict[str, tuple[Callable[[list[Member]], list[Member]], str]] = {
    "traversal-in-manifest": (_traversal_listed, "leaves its folder"),
    "traversal-in-archive": (_traversal_unlisted, "leaves its folder"),
    "absolute-path": (_absolute, "is absolute"),
    "hidden-file": (_hidden, "hidden file"),
    "key-in-subfolder": (_key_in_subfolder, "is not a database, key or media file"),
    "symlink": (_symlink, "is a link"),
    "hardlink": (_hardlink, "is a link"),
    "folder": (_folder, "is a folder"),
    "fifo": (_fifo, "is not a file"),
    "bad-checksum": (_bad_checksum, "checksum of 'keys/"),
    "bigger-than-listed": (_bigger_than_listed, "is not the size the manifest lists"),
    "pax-bomb": (_pax_bomb, "holds more than its manifest accounts for"),
    "unlisted-member": (_unlisted, "is not listed in the manifest"),
    "member-twice": (_twice, "appears twice"),
    "member-missing": (_missing, "listed file(s) not in the archive"),
    "manifest-not-first": (_manifest_not_first, "does not begin with manifest.json"),
    "no-manifest": (_no_manifest, "does not begin with manifest.json"),
    "manifest-not-json": (_manifest_not_json, "manifest.json is not JSON"),
    "other-format": (_other_format, "not a fediverse-a2 backup"),
    "oversized": (_oversized, "free"),
    "no-database": (_no_database, "lists no database"),
}


def _refused(proc: object, expected: str) -> None:
    assert proc.returncode == 1, proc.stdout  # type: ignore[attr-defined]
    lines = proc.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, proc.stderr  # type: ignore[attr-defined]
    assert lines[0].startswith("fediverse-a2: ") and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr  # type: ignore[attr-defined]


def test_the_original_archive_verifies_and_lists_what_it_holds(original: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "elsewhere", "http://127.0.0.1:8123")
    proc = cli(config, "backup", "verify", str(original))
    assert "ok:" in proc.stdout and "2 keys, 2 media files" in proc.stdout
    names = [info.name for info, _ in _members(original)]
    assert names[0] == "manifest.json"
    assert set(names[1:]) == {e["path"] for e in _manifest(_members(original))["files"]}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_archive_is_refused_by_verify(case: str, original: Path, tmp_path: Path) -> None:
    change, expected = CASES[case]
    archive = _write(tmp_path / f"{case}.tar.gz", change(_members(original)))
    config = write_config(tmp_path / "target", "http://127.0.0.1:8123")
    _refused(cli(config, "backup", "verify", str(archive), check=False), expected)


RESTORED = ["traversal-in-archive", "symlink", "bad-checksum", "bigger-than-listed", "member-missing", "oversized"]


@pytest.mark.parametrize("case", [*RESTORED, "pax-bomb"])
def test_a_hostile_archive_is_refused_by_restore_and_changes_nothing(case: str, original: Path, tmp_path: Path) -> None:
    change, expected = CASES[case]
    archive = _write(tmp_path / f"{case}.tar.gz", change(_members(original)))
    config = write_config(tmp_path / "target", "http://127.0.0.1:8123")
    before = sorted(p.name for p in tmp_path.iterdir())
    target_before = sorted(p.name for p in (tmp_path / "target").iterdir())
    _refused(cli(config, "backup", "restore", str(archive), check=False), expected)
    # Nothing was written: no keys, media or database, no staging folder left behind, nothing escaped.
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == target_before == ["config.toml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.pem").exists()


def test_damaged_and_non_archives_are_refused(original: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "target", "http://127.0.0.1:8123")
    data = original.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    _refused(cli(config, "backup", "verify", str(truncated), check=False), "damaged or truncated")
    not_gzip = tmp_path / "plain.tar.gz"
    not_gzip.write_bytes(b"just some text, not an archive at all")
    _refused(cli(config, "backup", "verify", str(not_gzip), check=False), "is not a .tar.gz archive")
    corrupt = bytearray(data)  # bytes flipped inside the compressed stream
    for at in range(len(corrupt) // 2, len(corrupt) // 2 + 16):
        corrupt[at] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(corrupt))
    _refused(cli(config, "backup", "verify", str(damaged), check=False), "backup refused:")
    _refused(cli(config, "backup", "verify", str(tmp_path / "absent.tar.gz"), check=False), "backup not found")
