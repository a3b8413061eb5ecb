"""PURE: the manifest of a backup archive, and the rules every path in an archive must follow.

The manifest is the archive's first member, `manifest.json`: what was backed up (the instance,
the database engine and schema, when) and every other member with its size and SHA-256.
Reading refuses anything the manifest does not describe exactly, so an archive is either
what `backup create` wrote or it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import UserError

__all__ = [
    "DATABASE_FILES",
    "FORMAT",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "BackupError",
    "Entry",
    "Manifest",
    "check_path",
    "parse_manifest",
]

FORMAT = "fediverse-a2-backup"
VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # about 200,000 files listed
MAX_PATH = 1024
# The database member, by engine: an SQLite file (online backup), or pg_dump's plain SQL.
DATABASE_FILES = {"sqlite": "database/fediverse_a2.sqlite3", "postgresql": "database/fediverse_a2.sql"}
_FOLDERS = ("keys", "media")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


class BackupError(UserError):
    """An archive that cannot be used, or a backup or restore that cannot be done (one line)."""


@dataclass(frozen=True)
class Entry:
    """One file of the archive: where it goes, how big it is, its SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, UTC
    base_url: str
    backend: str  # "sqlite" | "postgresql"
    schema: int
    software: str
    entries: tuple[Entry, ...]

    @property
    def database(self) -> Entry:
        """The database member."""
        return next(e for e in self.entries if e.path == DATABASE_FILES[self.backend])

    def under(self, folder: str) -> list[Entry]:
        """The entries of keys/ or media/."""
        return [e for e in self.entries if e.path.startswith(folder + "/")]

    @property
    def total_size(self) -> int:
        """The bytes a restore writes."""
        return sum(e.size for e in self.entries)

    def to_json(self) -> bytes:
        """The manifest as written into the archive."""
        return orjson.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "created_at": self.created_at,
                "base_url": self.base_url,
                "backend": self.backend,
                "schema": self.schema,
                "software": self.software,
                "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.entries],
            },
            option=orjson.OPT_INDENT_2,
        )


def check_path(path: str) -> str:
    """A member path as written by `backup create`, else BackupError: relative, no `..`, no
    hidden or odd names, under keys/ or media/ (or the database member)."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise BackupError(f"backup refused: unusable path {str(path)[:80]!r}")
    if path.startswith("/") or _BAD_CHARS.search(path):
        raise BackupError(f"backup refused: path {path[:80]!r} is absolute or has control characters")
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") or len(part) > 255 for part in parts):
        raise BackupError(f"backup refused: path {path[:80]!r} leaves its folder or names a hidden file")
    if path in DATABASE_FILES.values():
        return path
    if len(parts) < 2 or parts[0] not in _FOLDERS or (parts[0] == "keys" and len(parts) != 2):
        raise BackupError(f"backup refused: path {path[:80]!r} is not a database, key or media file")
    return path


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BackupError(f"backup refused: the manifest's {name!r} is missing or not a {kind.__name__}")
    return value


def parse_manifest(raw: bytes) -> Manifest:
    """The manifest of an archive, checked strictly; BackupError when it is not one we wrote."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BackupError("backup refused: manifest.json is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("backup refused: not a fediverse-a2 backup (manifest.json names another format)")
    if data.get("version") != VERSION:
        raise BackupError(f"backup refused: format version {data.get('version')!r}; this version reads {VERSION}")
    backend = _field(data, "backend", str)
    if backend not in DATABASE_FILES:
        raise BackupError(f"backup refused: unknown database engine {backend[:40]!r}")
    schema = _field(data, "schema", int)
    files = _field(data, "files", list)
    entries: list[Entry] = []
    seen: set[str] = set()
    for item in files:
        if not isinstance(item, dict):
            raise BackupError("backup refused: a file entry of the manifest is not an object")
        path = check_path(_field(item, "path", str))
        size = _field(item, "size", int)
        digest = _field(item, "sha256", str)
        if size < 0 or not _SHA256.fullmatch(digest):
            raise BackupError(f"backup refused: the manifest entry of {path[:80]!r} has a bad size or checksum")
        if path in seen:
            raise BackupError(f"backup refused: {path[:80]!r} is listed twice")
        seen.add(path)
        entries.append(Entry(path, size, digest))
    if DATABASE_FILES[backend] not in seen:
        raise BackupError("backup refused: the manifest lists no database")
    if any(p in seen for engine, p in DATABASE_FILES.items() if engine != backend):
        raise BackupError("backup refused: the manifest lists a database of another engine")
    return Manifest(
        created_at=_field(data, "created_at", str),
        base_url=_field(data, "base_url", str),
        backend=backend,
        schema=schema,
        software=_field(data, "software", str),
        entries=tuple(entries),
    )
