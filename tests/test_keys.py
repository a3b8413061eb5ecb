"""Key files: created once, whole, never clobbered, even when many threads or processes ask at once."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fediverse_a2.keys import KeyStore, public_pem


def _numbers(key: rsa.RSAPrivateKey) -> int:
    return key.public_key().public_numbers().n


def test_threads_asking_at_once_share_one_whole_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    barrier = threading.Barrier(8)
    got: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        barrier.wait()
        try:
            got.append(_numbers(store.ensure("netwerk")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(got)) == 1
    # What is on disk is that same key, readable by a fresh store.
    assert _numbers(KeyStore(tmp_path / "keys").load("netwerk")) == got[0]
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["netwerk.pem"]
    assert stat.S_IMODE((tmp_path / "keys" / "netwerk.pem").stat().st_mode) == 0o600


def test_processes_asking_at_once_share_one_whole_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    script = (
        "import sys; from pathlib import Path; from fediverse_a2.keys import KeyStore, public_pem;"
        "print(public_pem(KeyStore(Path(sys.argv[1])).ensure('alice')), end='')"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(keys)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err.decode() for _, err in outs]
    pems = {out.decode() for out, _ in outs}
    assert len(pems) == 1
    assert pems == {public_pem(KeyStore(keys).load("alice"))}
    assert sorted(p.name for p in keys.iterdir()) == ["alice.pem"]


def test_an_existing_key_is_never_replaced(tmp_path: Path) -> None:
    first = KeyStore(tmp_path).create("bob")
    try:
        KeyStore(tmp_path).create("bob")
    except FileExistsError:
        pass
    else:
        raise AssertionError("a second create() overwrote bob's key")
    assert _numbers(KeyStore(tmp_path).ensure("bob")) == _numbers(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bob.pem"]


def test_a_reader_never_sees_a_half_written_key(tmp_path: Path) -> None:
    """Whoever finds a key file can load it: the file appears whole or not at all."""
    keys = tmp_path / "keys"
    writer = KeyStore(keys)
    done = threading.Event()
    seen: set[str] = set()
    broken: list[str] = []

    def read() -> None:
        while True:
            last = done.is_set()  # one more full pass after the writer has finished
            for path in keys.glob("*.pem"):
                try:
                    KeyStore(keys).load(path.stem)
                except ValueError as exc:
                    broken.append(f"{path.name}: {exc}")
                seen.add(path.stem)
            if last:
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(12):
            writer.create(f"m{i}")
    finally:
        done.set()
        reader.join()
    assert broken == []
    assert seen == {f"m{i}" for i in range(12)}


def test_a_file_system_without_hard_links_still_gets_a_whole_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where link() is not supported (errno EPERM), the key is written exclusively instead."""

    def no_links(src: object, dst: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    key = KeyStore(tmp_path).ensure("carla")
    assert _numbers(KeyStore(tmp_path).load("carla")) == _numbers(key)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["carla.pem"]
    assert stat.S_IMODE((tmp_path / "carla.pem").stat().st_mode) == 0o600
    # Still never clobbered.
    with pytest.raises(FileExistsError):
        KeyStore(tmp_path).create("carla")
