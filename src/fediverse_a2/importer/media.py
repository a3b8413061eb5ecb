"""Copying the media of an export: images re-encoded into the media folder, other files kept for download.

Only files inside the export folder are read (`archive.ning_files.resolve_media`: no `..`, no
absolute paths, no symlinks out). An image goes through the same re-encoding as an upload
(`media.images.process_image`: limits, no metadata) and is served from `/media/`; an image that
does not decode, and every other attachment, is copied under a content-derived name into
`media/files/` and served for download only (`web.legacy`). Names derive from the content, so a
second import writes nothing new and a killed one leaves no half-written file under a final name.

Every file the archive names is reported once (`outcomes`: copied, or why not), for the import
report's "files" line.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..activitypub.urls import Urls
from ..archive.ning_files import resolve_media
from ..archive.ning_media import local_path
from ..media.images import ImageError, process_image

__all__ = [
    "FILE_TYPES",
    "MAX_FILE_BYTES",
    "Copied",
    "ImageMeta",
    "MediaCopier",
    "file_url",
    "is_file_name",
    "store_folder_image",
]

MAX_FILE_BYTES = 100_000_000
# Copies remembered (a post's <a> and <img> usually name the same file); bounded so memory stays
# flat on a large archive. A file met again after that is only re-read: its name derives from its content.
REMEMBERED = 4096
PREFETCH_THREADS = max(1, min(4, os.cpu_count() or 1))
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
# What an attachment may be served as (anything else: application/octet-stream, as .bin).
FILE_TYPES = {
    ".pdf": "application/pdf", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint", ".txt": "text/plain", ".rtf": "application/rtf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation", ".zip": "application/zip",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".wav": "audio/wav",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
    ".bin": "application/octet-stream",
}  # fmt: skip
COPIED = "copied"
ALREADY = "already there"
MISSING = "not in the export folder"
TOO_LARGE = f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
UNSAFE = "an unsafe path (outside the export folder), not read"
REMOTE = "only a remote address, never archived"
NOT_AN_IMAGE = "a profile photo that is not an image"
_FILE_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,5}")


def file_url(urls: Urls, name: str) -> str:
    """Where a copied attachment is served."""
    return f"{urls.base}/files/{name}"


@dataclass(frozen=True, slots=True)
class ImageMeta:
    """A re-encoded image as the media table records it (its bytes are in the media folder)."""

    file_name: str
    media_type: str
    width: int
    height: int
    size: int


@dataclass(frozen=True, slots=True)
class Copied:
    """A media file of the export, copied: where it is served now, and the image when it is one."""

    url: str
    title: str  # the original file name, for the link text
    image: ImageMeta | None = None


def _write(target: Path, data: bytes) -> None:
    if target.exists():
        return  # same name, same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A file of the export read and (an image) re-encoded, not yet written: what a worker thread makes."""

    outcome: str  # MISSING, TOO_LARGE, NOT_AN_IMAGE, or COPIED when there is something to store
    title: str = ""
    target: Path | None = None
    data: bytes = b""
    image: ImageMeta | None = None


class MediaCopier:
    """Copies what records reference, each file once; `write=False` (a dry run) writes nothing.

    `prefetch` has the files a batch will need read and re-encoded in a few threads (Pillow
    decodes and encodes without the GIL) while the caller goes on (writing the batch before it);
    `copy` then takes what was prepared, waiting for it if need be, and only stores it. Counters,
    outcomes and files are only ever touched by the caller's thread.
    """

    def __init__(self, folder: Path | None, media_path: Path, urls: Urls, *, write: bool = True) -> None:
        self.folder = folder
        self.media_path = media_path
        self.urls = urls
        self.write = write
        self._done: OrderedDict[tuple[str, bool], Copied | None] = OrderedDict()
        self.images = 0
        self.files = 0
        self.missing = 0
        # Each file the archive names, once: what became of it (COPIED or the reason it was not).
        self.outcomes: dict[str, str] = {}
        self._brought: set[Path] = set()  # the files this run wrote (or, in a dry run, would write)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[str, bool], Future[_Prepared]] = {}

    def close(self) -> None:
        """Stop the prefetching threads (when there are any); what was not needed is dropped."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _outcome(self, key: str, outcome: str) -> None:
        if self.outcomes.get(key) not in (COPIED, ALREADY):  # copied once (e.g. as an image) is copied
            self.outcomes[key] = outcome

    def note_remote(self, address: str) -> None:
        """An attachment the archive names only by its remote address: never archived (reported)."""
        self._outcome(address.strip(), REMOTE)

    def _key(self, address: str, avatar: bool) -> tuple[str, bool] | None:
        path = local_path(address)
        if path is None or self.folder is None:
            if self.folder is not None and not _not_a_file(address):
                self._outcome(address.strip(), UNSAFE)
            return None
        return path, avatar

    def _remember(self, key: tuple[str, bool], copied: Copied | None) -> Copied | None:
        self._done[key] = copied
        if len(self._done) > REMEMBERED:
            self._done.popitem(last=False)
        return copied

    def copy(self, address: str, *, avatar: bool = False) -> Copied | None:
        """The copy of a local media address of the export; None when it is remote, unsafe or absent.

        A remote address is no file of the archive and is not reported here (links stay links); an
        unsafe one is reported.
        """
        key = self._key(address, avatar)
        if key is None:
            return None
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        pending = self._pending.pop(key, None)
        ready = pending.result() if pending is not None else _prepare(self.folder, self.media_path, *key)
        return self._remember(key, self._finish(key[0], ready))

    def prefetch(self, addresses: Iterable[tuple[str, bool]]) -> None:
        """Have these (address, avatar) files read and re-encoded in the background, several at once."""
        for address, avatar in addresses:
            key = self._key(address, avatar)
            if key is None or key in self._done or key in self._pending:
                continue
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=PREFETCH_THREADS, thread_name_prefix="import-media")
            self._pending[key] = self._pool.submit(_prepare, self.folder, self.media_path, *key)

    def _store(self, target: Path, data: bytes) -> bool:
        """Write a file unless an earlier run did (same name, same bytes); whether this run brings it."""
        if target in self._brought:
            return True
        if target.exists():
            return False
        if self.write:
            _write(target, data)
        self._brought.add(target)
        return True

    def _finish(self, path: str, ready: _Prepared) -> Copied | None:
        """Store what was prepared and count it (the caller's thread only)."""
        if ready.target is None:
            self.missing += 1
            self._outcome(path, ready.outcome)
            return None
        fresh = self._store(ready.target, ready.data)
        self._outcome(path, COPIED if fresh else ALREADY)
        if ready.image is not None:
            self.images += 1
            return Copied(self.urls.media(ready.image.file_name), ready.title, ready.image)
        self.files += 1
        return Copied(file_url(self.urls, ready.target.name), ready.title)


def _prepare(folder: Path | None, media_path: Path, path: str, avatar: bool) -> _Prepared:
    """Read a file of the export and, an image, re-encode it (no shared state: runs in worker threads)."""
    source = resolve_media(folder or Path("."), path)
    if source is None:
        return _Prepared(MISSING)
    if source.stat().st_size > MAX_FILE_BYTES:
        return _Prepared(TOO_LARGE)
    data = source.read_bytes()
    title = PurePosixPath(path).name
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _IMAGE_SUFFIXES or avatar:
        try:
            # Baseline JPEGs: a progressive, optimised encode costs four times as long over an archive.
            processed = process_image(data, avatar=avatar, bulk=True)
        except ImageError:
            processed = None
        if processed is not None:
            meta = ImageMeta(
                processed.file_name, processed.media_type, processed.width, processed.height, len(processed.data)
            )
            return _Prepared(COPIED, title, media_path / processed.file_name, processed.data, meta)
        if avatar:
            return _Prepared(NOT_AN_IMAGE)
    if suffix not in FILE_TYPES:
        suffix = ".bin"  # an image that does not decode, too: never served as an image
    name = hashlib.sha256(data).hexdigest()[:32] + suffix
    return _Prepared(COPIED, title, media_path / "files" / name, data)


def store_folder_image(folder: Path, path: str, media_path: Path, *, write: bool = True) -> ImageMeta | str:
    """An image file inside `folder` re-encoded (no metadata) into the media folder (`write=False`: a
    dry run, nothing written); else why not: MISSING, UNSAFE (outside the folder, never read),
    TOO_LARGE or NOT_AN_IMAGE."""
    source = resolve_media(folder, path)
    if source is None:
        if local_path(path) is None or os.path.lexists(folder / path):
            return UNSAFE  # `..`, an absolute path, or a link (or folder) that is no file inside it
        return MISSING
    if source.stat().st_size > MAX_FILE_BYTES:
        return TOO_LARGE
    try:
        processed = process_image(source.read_bytes(), bulk=True)
    except ImageError:
        return NOT_AN_IMAGE
    if write:
        _write(media_path / processed.file_name, processed.data)
    return ImageMeta(processed.file_name, processed.media_type, processed.width, processed.height, len(processed.data))


def _not_a_file(address: str) -> bool:
    """A remote address, a link within the old site (`/profiles/...`) or an anchor: not a file of the export."""
    text = address.strip().lower()
    if text.startswith("/") and not text.startswith("//"):
        return True
    return not text or text.startswith(("http://", "https://", "//", "mailto:", "data:", "#", "?"))


def is_file_name(name: str) -> bool:
    """Whether a name is one this copier makes (the only names the download route serves)."""
    return bool(_FILE_NAME.fullmatch(name))
