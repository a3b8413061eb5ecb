"""The files of a Ning export folder, read record by record with their `-local.json` twins.

Reading only (no database, no network). `iter_export(folder, "blogs")` streams
`ning-blogs.json` and `ning-blogs-local.json` side by side: both files hold the same records in
the same order, and a broken record still takes its number, so the two stay paired by position.
Each pair is checked by key (`id`, or `contributorName` for members) and merged (`merge_local`:
text from the main file, media paths from the twin). When only one of the pair can be read, that
one is used (noted); when the keys disagree the twins are out of step, and from there on the main
file is read alone (noted once), so no record is dropped or paired wrongly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fediverse_a2.archive.ning_json import DEFAULT_CHUNK_CHARS, RecordResult, iter_records
from fediverse_a2.archive.ning_media import local_path, merge_local, record_key

__all__ = ["KINDS", "ExportFile", "find_export", "iter_export", "resolve_media"]

# Everything the importer reads (the archiver writes each with its -local twin; albums only some exports).
KINDS = (
    "members",
    "blogs",
    "groups",
    "discussions",
    "events",
    "photos",
    "albums",
    "videos",
    "music",
    "notes",
    "pages",
)


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One kind of content in an export folder: its main file and its -local twin (either may be absent)."""

    kind: str
    main: Path | None
    local: Path | None


def find_export(folder: str | Path) -> dict[str, ExportFile]:
    """Every `ning-KIND.json` / `ning-KIND-local.json` in the folder, by kind (not only KINDS)."""
    folder = Path(folder)
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.glob("ning-*.json")):
        name = path.name[len("ning-") : -len(".json")]
        side = "local" if name.endswith("-local") else "main"
        kind = name.removesuffix("-local")
        if kind:
            found.setdefault(kind, {})[side] = path
    return {k: ExportFile(k, v.get("main"), v.get("local")) for k, v in found.items()}


def _pair(main: RecordResult, local: RecordResult | None, aligned: bool) -> tuple[RecordResult, bool]:
    if local is None or not aligned:
        return main, aligned
    if main.data is None:
        if local.data is not None:
            note = f"read from the -local twin (main file: {main.error})"
            return RecordResult(main.index, local.data, None, main.line, local.repaired, note), aligned
        return main, aligned
    if local.data is None:
        return RecordResult(main.index, main.data, None, main.line, main.repaired, "-local twin unreadable"), aligned
    if record_key(main.data) != record_key(local.data):
        note = "-local twin out of step from here on: media paths of the main file used"
        return RecordResult(main.index, main.data, None, main.line, main.repaired, note), False
    return RecordResult(main.index, merge_local(main.data, local.data), None, main.line, main.repaired), aligned


def iter_export(folder: str | Path, kind: str, *, chunk_size: int = DEFAULT_CHUNK_CHARS) -> Iterator[RecordResult]:
    """Stream the records of one kind (e.g. "blogs"), merged with the -local twin when there is one."""
    files = find_export(folder).get(kind)
    if files is None:
        return
    if files.main is None or files.local is None:
        yield from iter_records(files.main or files.local or "", chunk_size=chunk_size)
        return
    aligned = True
    mains = iter_records(files.main, chunk_size=chunk_size)
    locals_ = iter_records(files.local, chunk_size=chunk_size)
    for main, local in itertools.zip_longest(mains, locals_):
        if main is None:
            if aligned and local is not None and local.data is not None:
                # The main file ended early (a cut-off export): the twin still has the record.
                yield RecordResult(local.index, local.data, None, local.line, local.repaired, "only in the -local twin")
            continue
        result, aligned = _pair(main, local, aligned)
        yield result


def resolve_media(folder: str | Path, address: str) -> Path | None:
    """The existing file a local media address names inside the export folder, else None (symlinks cannot escape)."""
    path = local_path(address)
    if path is None:
        return None
    root = Path(folder).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target
