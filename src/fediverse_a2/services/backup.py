"""Backups: one archive with a consistent copy of the database, the keys and the media.

`create_backup` takes the database first (SQLite's online backup, or pg_dump: one point in
time, while `serve` keeps running), then the keys and the media (media files are written once
under content-derived names and never changed, so a file is either wholly there or not),
and writes the archive described in backup/. `verify_backup` reads an archive through and
checks the database in it. `restore_backup` puts an archive into the configured locations,
which must be empty (or, with `force`, what is there is moved aside, never deleted): it reads
and verifies everything into staging folders beside the targets first, and only then moves
the database, the keys and the media into place, so a refused archive changes nothing.

None of these opens a Runtime: a backup must not create keys or migrate the database as a
side effect, and a restore works on locations that do not exist yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from .. import __version__
from ..backup.manifest import DATABASE_FILES, BackupError, Entry, Manifest, check_path
from ..backup.tarball import hash_file, read_archive, write_archive
from ..config import Config
from ..i18n import translate
from ..store import snapshot
from ..store.connect import open_postgres
from ..store.migrations import LATEST, too_new
from ..work.wakeups import live_listeners, wake_dir

__all__ = ["BackupNote", "BackupReport", "create_backup", "restore_backup", "verify_backup"]


@dataclass(frozen=True)
class BackupNote:
    """Something the admin should know about an archive: an interface text (key) and its values."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, language: str) -> str:
        """The note in language."""
        return translate(language, self.key, **dict(self.values))


@dataclass(frozen=True)
class BackupReport:
    """What a backup, verification or restore did, for the command to print."""

    manifest: Manifest
    skipped: tuple[str, ...] = ()  # files not backed up (links, unusable names)
    moved_aside: tuple[Path, ...] = ()  # what a forced restore moved out of the way
    warnings: tuple[BackupNote, ...] = field(default=())

    def summary(self, language: str = "en") -> str:
        """One line in language: what the archive holds."""
        m = self.manifest
        return translate(
            language,
            "cli_backup_summary",
            db=m.backend,
            schema=str(m.schema),
            keys=str(len(m.under("keys"))),
            media=str(len(m.under("media"))),
            size=_size(m.total_size, language),
            made=m.created_at,
            url=m.base_url,
        )


def _size(n: int, language: str = "en") -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            shown = f"{n}" if unit == "bytes" else f"{n:.1f}"
            return f"{shown.replace('.', ',') if language == 'nl' else shown} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def _backend(config: Config) -> str:
    return "postgresql" if config.storage.is_postgres else "sqlite"


# -- create ------------------------------------------------------------------------------


def _keys(folder: Path) -> Iterator[tuple[str, Path]]:
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix == ".pem" and not path.name.startswith("."):
                yield f"keys/{path.name}", path


def _media(folder: Path) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):  # never follows links to folders
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith(".tmp"):
                path = Path(root) / name
                yield "media/" + path.relative_to(folder).as_posix(), path


def _collect(config: Config) -> tuple[dict[str, Path], list[str]]:
    """The key and media files to back up, and those left out (links, names a restore would refuse)."""
    sources: dict[str, Path] = {}
    skipped: list[str] = []
    for name, path in [*_keys(config.keys_path), *_media(config.media_path)]:
        try:
            check_path(name)
        except BackupError:
            skipped.append(str(path))
            continue
        if path.is_symlink() or not path.is_file():
            skipped.append(str(path))
            continue
        sources[name] = path
    return sources, skipped


async def _postgres_schema(url: str) -> int:
    db = await open_postgres(url)
    try:
        if not await snapshot.postgres_tables(db):
            raise BackupError("the PostgreSQL database is empty: nothing to back up")
        return int(await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)
    finally:
        await db.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def create_backup(config: Config, target: Path) -> BackupReport:
    """Write a backup of this instance to the new file `target` (refused if it exists)."""
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists; choose another file name")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    backend = _backend(config)
    work = Path(tempfile.mkdtemp(prefix=".fediverse-a2-backup-", dir=target.parent))
    try:
        database = work / Path(DATABASE_FILES[backend]).name
        # The database first: keys and media taken after it hold everything it refers to.
        if backend == "postgresql":
            schema = await _postgres_schema(config.storage.database)
            await asyncio.to_thread(snapshot.PgTools(config.storage.database).dump, database)
        else:
            schema = await asyncio.to_thread(snapshot.sqlite_snapshot, config.database_path, database)
        sources, skipped = await asyncio.to_thread(_collect, config)
        sources = {DATABASE_FILES[backend]: database, **sources}
        entries = await asyncio.to_thread(lambda: [Entry(p, *hash_file(src)) for p, src in sources.items()])
        manifest = Manifest(_now(), config.instance.base_url, backend, schema, __version__, tuple(entries))
        await asyncio.to_thread(write_archive, target, manifest, sources)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupReport(manifest, skipped=tuple(skipped))


# -- verify ------------------------------------------------------------------------------


def _check_database(manifest: Manifest, staged: Path) -> None:
    """The database in an archive opens and is whole (SQLite: its integrity check)."""
    if manifest.backend == "sqlite":
        result = snapshot.sqlite_check(staged)
        if result != "ok":
            raise BackupError(f"backup refused: the SQLite database in it fails its integrity check: {result[:200]}")
        if snapshot.sqlite_schema(staged) != manifest.schema:
            raise BackupError("backup refused: the database's schema is not the one the manifest lists")
    elif not snapshot.plain_dump_complete(staged):
        raise BackupError("backup refused: the PostgreSQL dump in it is not a complete pg_dump")


def _free(folder: Path) -> int:
    """Free bytes on the file system that holds `folder` (or would: its nearest existing parent)."""
    while not folder.exists():
        folder = folder.parent
    return shutil.disk_usage(folder).free


def _room(needs: dict[Path, int]) -> None:
    for folder, size in needs.items():
        free = _free(folder)
        if size > free:
            raise BackupError(f"backup refused: restoring it needs {_size(size)} in {folder}, only {_size(free)} free")


def _open_new(path: Path, mode: int = 0o600) -> IO[bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    return os.fdopen(fd, "wb")


def _verify(source: Path) -> BackupReport:
    work = Path(tempfile.mkdtemp(prefix="fediverse-a2-verify-"))
    staged = work / "database"
    try:

        def check(manifest: Manifest) -> None:
            _room({work: manifest.database.size})

        def target(entry: Entry) -> IO[bytes] | None:
            return _open_new(staged) if entry.path in DATABASE_FILES.values() else None  # work exists

        manifest = read_archive(source, check, target)
        _check_database(manifest, staged)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    warnings: tuple[BackupNote, ...] = ()
    if manifest.schema > LATEST:
        warnings = (BackupNote("cli_backup_newer_schema", (("schema", str(manifest.schema)), ("latest", str(LATEST)))),)
    return BackupReport(manifest, warnings=warnings)


async def verify_backup(source: Path) -> BackupReport:
    """Read an archive through and check every file and the database in it; restores nothing."""
    return await asyncio.to_thread(_verify, source)


# -- restore -----------------------------------------------------------------------------


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _empty_folder(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


class _Restore:
    """One restore: the targets, their staging places beside them, and moving into place."""

    def __init__(self, config: Config, force: bool) -> None:
        self.config, self.force = config, force
        self.backend = _backend(config)
        token = secrets.token_hex(4)
        self.keys, self.media = config.keys_path, config.media_path
        self.stages = {
            "keys": self.keys.with_name(f".{self.keys.name}.restore-{token}"),
            "media": self.media.with_name(f".{self.media.name}.restore-{token}"),
        }
        if self.backend == "sqlite":
            self.database: Path | None = config.database_path
            self.stages["database"] = config.database_path.with_name(f".{config.database_path.name}.restore-{token}")
        else:
            self.database = None
            self.stages["database"] = Path(tempfile.mkdtemp(prefix="fediverse-a2-restore-")) / "dump.sql"
        self.tables: list[str] = []  # PostgreSQL tables already there (dropped with --force)
        self.moved: list[Path] = []
        self.made: list[Path] = []  # folders this restore created (removed again if it fails)

    def _folder(self, path: Path, mode: int = 0o755) -> None:
        """Make a folder and its missing parents, remembering each one made."""
        missing = [p for p in [path, *path.parents] if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir(mode=mode)
            self.made.append(folder)

    # before reading anything

    def _refuse_busy(self) -> None:
        if self.database is not None and (pids := live_listeners(wake_dir(self.database))):
            raise BackupError(f"serve or a worker (pid {pids[0]}) is using {self.database}: stop it before restoring")

    def _refuse_full(self, what: str, key: str, where: object) -> None:
        if not self.force:
            raise BackupError(
                f"{what} is not empty (config key {key}: {where}); restore into empty locations, "
                "or add --force to move what is there aside"
            )

    async def precheck(self) -> None:
        """The targets are empty (or --force), and no serve works on them."""
        self._refuse_busy()
        if not _empty_folder(self.keys):
            self._refuse_full("the keys folder", "storage.keys_dir", self.keys)
        if not _empty_folder(self.media):
            self._refuse_full("the media folder", "storage.media_dir", self.media)
        if self.database is not None:
            if self.database.exists() and self.database.stat().st_size and snapshot.sqlite_tables(self.database):
                self._refuse_full("the database", "storage.database", self.database)
            return
        db = await open_postgres(self.config.storage.database)
        try:
            if busy := await snapshot.application_connections(db):
                raise BackupError(
                    f"{busy} other connection(s) of fediverse-a2 use this PostgreSQL database: "
                    "stop serve and the workers before restoring"
                )
            self.tables = await snapshot.postgres_tables(db)
        finally:
            await db.close()
        if self.tables:
            self._refuse_full("the PostgreSQL database", "storage.database", "it has tables")

    # reading

    def check(self, manifest: Manifest) -> None:
        """Refuse an archive this instance cannot take, before reading its files."""
        if manifest.backend != self.backend:
            configured = "a PostgreSQL server" if self.backend == "postgresql" else "an SQLite file"
            raise BackupError(
                f"this backup holds a {manifest.backend} database, but storage.database names {configured}; "
                "restore it into the same engine"
            )
        if manifest.schema > LATEST:
            raise BackupError(str(too_new(manifest.schema)))
        needs: dict[Path, int] = {}
        for name in ("keys", "media"):
            needs[self.stages[name].parent] = needs.get(self.stages[name].parent, 0) + sum(
                e.size for e in manifest.under(name)
            )
        db_folder = self.stages["database"].parent
        needs[db_folder] = needs.get(db_folder, 0) + manifest.database.size
        _room(needs)

    def target(self, entry: Entry) -> IO[bytes]:
        """Where a file of the archive is staged."""
        if entry.path in DATABASE_FILES.values():
            self._folder(self.stages["database"].parent)
            return _open_new(self.stages["database"])
        folder, _, rest = entry.path.partition("/")
        stage = self.stages[folder]
        self._folder(stage, 0o700 if folder == "keys" else 0o755)
        self._folder((stage / rest).parent)
        return _open_new(stage / rest, 0o600 if folder == "keys" else 0o644)

    # moving into place

    def _aside(self, path: Path) -> Path:
        aside = path.with_name(f"{path.name}.before-restore-{_stamp()}")
        path.rename(aside)
        self.moved.append(aside)
        return aside

    def _place_folder(self, name: str, target: Path) -> None:
        stage = self.stages[name]
        self._folder(stage, 0o700 if name == "keys" else 0o755)
        if target.exists() or target.is_symlink():
            if _empty_folder(target) and not target.is_symlink():
                target.rmdir()
            else:
                self._aside(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        stage.rename(target)
        if name == "keys":
            target.chmod(0o700)

    def _place_sqlite(self, target: Path) -> None:
        if target.exists() and target.stat().st_size:
            snapshot.sqlite_checkpoint(target)  # its write-ahead log goes aside with it, folded in
            self._aside(target)
        for suffix in ("-wal", "-shm"):  # a stale write-ahead log must never replay onto the copy
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.stages["database"], target)

    def place(self, manifest: Manifest) -> None:
        """Database first (the step most likely to fail), then keys and media."""
        self._refuse_busy()
        _check_database(manifest, self.stages["database"])
        if self.database is not None:
            self._place_sqlite(self.database)
        else:
            snapshot.PgTools(self.config.storage.database).restore(self.stages["database"], self.tables)
        self._place_folder("keys", self.keys)
        self._place_folder("media", self.media)

    def cleanup(self, failed: bool) -> None:
        """Remove the staging places; after a failure also the (empty) folders this restore made."""
        for stage in self.stages.values():
            if stage.is_dir():
                shutil.rmtree(stage, ignore_errors=True)
            else:
                stage.unlink(missing_ok=True)
        if self.database is None:
            shutil.rmtree(self.stages["database"].parent, ignore_errors=True)
        if failed:
            for folder in reversed(self.made):
                with contextlib.suppress(OSError):
                    folder.rmdir()


async def restore_backup(config: Config, source: Path, force: bool = False) -> BackupReport:
    """Restore an archive into the configured locations (empty ones, unless `force`)."""
    restore = _Restore(config, force)
    failed = True
    try:
        await restore.precheck()
        manifest = await asyncio.to_thread(read_archive, source, restore.check, restore.target)
        await asyncio.to_thread(restore.place, manifest)
        failed = False
    finally:
        restore.cleanup(failed)
    warnings: list[BackupNote] = []
    if manifest.base_url != config.instance.base_url:
        made_for = (("made_for", manifest.base_url), ("configured", config.instance.base_url))
        warnings.append(BackupNote("cli_backup_other_address", made_for))
    if manifest.schema < LATEST:
        warnings.append(
            BackupNote("cli_backup_older_schema", (("schema", str(manifest.schema)), ("latest", str(LATEST))))
        )
    return BackupReport(manifest, moved_aside=tuple(restore.moved), warnings=tuple(warnings))
