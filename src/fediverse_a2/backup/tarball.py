"""Writing and reading backup archives: one .tar.gz, manifest first, every file checked.

Writing streams each file into the archive while hashing it again and compares with the
manifest (written first), so a file that changed between the two passes is an error rather
than a silent mismatch. The archive appears under its name only when complete, readable by
its owner only (it holds private keys).

Reading never extracts: each member is checked (a regular file, a clean relative path, listed
in the manifest, exactly its listed size) before a byte of it is read, its bytes are hashed
as they go to where the caller wants them, and the archive is refused at the first thing
that is not what `backup create` writes: links, devices, folders, paths that leave their
folder, unlisted or repeated members, wrong sizes or checksums, missing files, a damaged or
truncated stream.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from .manifest import MANIFEST, MAX_MANIFEST_BYTES, BackupError, Entry, Manifest, check_path, parse_manifest

__all__ = ["CHUNK", "hash_file", "read_archive", "write_archive"]

CHUNK = 1024 * 1024
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)


def hash_file(path: Path) -> tuple[int, str]:
    """Size and SHA-256 (hex) of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _Hashing:
    """A file read through tarfile's copy loop, hashed on the way."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def _info(name: str, size: int, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, int(time.time())
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_archive(target: Path, manifest: Manifest, sources: dict[str, Path]) -> None:
    """Write `manifest` and then each entry's file (from `sources[path]`) into a new archive."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            # Level 1: about 3x the speed of 6 for a sixth more bytes (bench/bench_ops.py); media, most
            # of an instance, are compressed already.
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
                data = manifest.to_json()
                tar.addfile(_info(MANIFEST, len(data), 0o600), _BytesReader(data))
                for entry in manifest.entries:
                    _add(tar, entry, sources[entry.path])
            raw.flush()
            os.fsync(raw.fileno())
        try:
            os.link(partial, target)  # never replaces an existing file of that name
        except FileExistsError:
            raise BackupError(f"{target} exists; choose another file name") from None
    finally:
        partial.unlink(missing_ok=True)


def _add(tar: tarfile.TarFile, entry: Entry, source: Path) -> None:
    mode = 0o600 if entry.path.startswith(("keys/", "database/")) else 0o644
    try:
        with source.open("rb") as fh:
            hashing = _Hashing(fh)
            tar.addfile(_info(entry.path, entry.size, mode), hashing)
    except FileNotFoundError:
        raise BackupError(f"{source} disappeared during the backup; run it again") from None
    except OSError as exc:
        if "unexpected end of data" in str(exc):
            raise BackupError(f"{source} changed during the backup; run it again") from None
        raise
    if hashing.digest.hexdigest() != entry.sha256:
        raise BackupError(f"{source} changed during the backup; run it again")


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


# What an archive may hold beyond its files' bytes: headers, padding, the end blocks.
_PER_MEMBER = 8192
_SLACK = 1024 * 1024


class _Budget(io.RawIOBase):
    """The decompressed archive, refused once it grows past what its manifest accounts for."""

    def __init__(self, source: gzip.GzipFile, left: int) -> None:
        super().__init__()
        self.source, self.left = source, left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        self.left -= len(data)
        if self.left < 0:
            raise BackupError("backup refused: the archive holds more than its manifest accounts for")
        buffer[: len(data)] = data
        return len(data)


def _member(tar: tarfile.TarFile) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise BackupError(f"backup refused: the archive is damaged or truncated ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def _check_member(member: tarfile.TarInfo) -> str:
    if member.type not in _REGULAR:
        kind = "a link" if member.issym() or member.islnk() else "a folder" if member.isdir() else "not a file"
        raise BackupError(f"backup refused: {member.name[:80]!r} is {kind}; a backup holds regular files only")
    return member.name


def _copy(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: Entry, out: IO[bytes] | None) -> None:
    """Read the member's bytes (exactly entry.size), hash them, write them to `out`."""
    source = tar.extractfile(member)
    assert source is not None  # a regular file
    digest = hashlib.sha256()
    left = entry.size
    try:
        while left:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                raise BackupError(f"backup refused: {entry.path[:80]!r} is cut short; the archive is truncated")
            digest.update(chunk)
            left -= len(chunk)
            if out is not None:
                out.write(chunk)
    except (tarfile.TarError, zlib.error, EOFError) as exc:
        raise BackupError(f"backup refused: the archive is damaged or truncated ({_reason(exc)})") from None
    if digest.hexdigest() != entry.sha256:
        raise BackupError(f"backup refused: the checksum of {entry.path[:80]!r} does not match the manifest")


def read_archive(
    path: Path,
    check: Callable[[Manifest], None],
    open_target: Callable[[Entry], IO[bytes] | None],
) -> Manifest:
    """Read and verify a whole archive: `check` sees the manifest before any file is read (and
    may refuse it); each file's bytes go to `open_target(entry)` (None: only verified; the
    caller's file is closed here). Returns the manifest once every listed file was found whole."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise BackupError(f"backup not found: {path}") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup archive") from None
    with raw:
        try:
            # Decompressed here, through a budget: tarfile reads a pax or long-name header whole
            # into memory, so an archive could otherwise ask for any amount of it.
            stream = _Budget(gzip.GzipFile(fileobj=raw, mode="rb"), MAX_MANIFEST_BYTES + _SLACK)
            tar = tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|")  # noqa: SIM115 (closed below)
        except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
            raise BackupError(f"backup refused: {path} is not a .tar.gz archive ({_reason(exc)})") from None
        with tar:
            first = _member(tar)
            if first is None or first.name != MANIFEST:
                raise BackupError("backup refused: the archive does not begin with manifest.json")
            _check_member(first)
            if first.size > MAX_MANIFEST_BYTES:
                raise BackupError("backup refused: manifest.json is larger than any backup needs")
            source = tar.extractfile(first)
            assert source is not None
            try:
                manifest = parse_manifest(source.read(first.size))
            except (tarfile.TarError, zlib.error, EOFError) as exc:
                raise BackupError(f"backup refused: the archive is damaged or truncated ({_reason(exc)})") from None
            check(manifest)
            # From here on the archive holds what the manifest lists, and headers around it.
            stream.left = manifest.total_size + (len(manifest.entries) + 1) * _PER_MEMBER + _SLACK
            listed = {entry.path: entry for entry in manifest.entries}
            found: set[str] = set()
            while (member := _member(tar)) is not None:
                name = check_path(_check_member(member))
                entry = listed.get(name)
                if entry is None:
                    raise BackupError(f"backup refused: {name[:80]!r} is not listed in the manifest")
                if name in found:
                    raise BackupError(f"backup refused: {name[:80]!r} appears twice")
                if member.size != entry.size:
                    raise BackupError(f"backup refused: {name[:80]!r} is not the size the manifest lists")
                found.add(name)
                out = open_target(entry)
                try:
                    _copy(tar, member, entry, out)
                finally:
                    if out is not None:
                        out.close()
    missing = [path for path in listed if path not in found]
    if missing:
        raise BackupError(f"backup refused: {len(missing)} listed file(s) not in the archive, e.g. {missing[0]!r}")
    return manifest
