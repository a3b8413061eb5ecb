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
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..activitypub.urls import Urls
from ..archive.ning_files import resolve_media
from ..archive.ning_media import local_path
from ..media.images import ImageError, process_image

__all__ = ["FILE_TYPES", "MAX_FILE_BYTES", "Copied", "ImageMeta", "MediaCopier", "file_url", "is_file_name"]

MAX_FILE_BYTES = 100_000_000
# Copies remembered (a post's <a> and <img> usually name the same file); bounded so memory stays
# flat on a large archive. A file met again after that is only re-read: its name derives from its content.
REMEMBERED = 4096
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


class MediaCopier:
    """Copies what records reference, each file once; `write=False` (a dry run) writes nothing."""

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

    def _outcome(self, key: str, outcome: str) -> None:
        if self.outcomes.get(key) not in (COPIED, ALREADY):  # copied once (e.g. as an image) is copied
            self.outcomes[key] = outcome

    def note_remote(self, address: str) -> None:
        """An attachment the archive names only by its remote address: never archived (reported)."""
        self._outcome(address.strip(), REMOTE)

    def copy(self, address: str, *, avatar: bool = False) -> Copied | None:
        """The copy of a local media address of the export; None when it is remote, unsafe or absent.

        A remote address is no file of the archive and is not reported here (links stay links); an
        unsafe one is reported.
        """
        path = local_path(address)
        if path is None or self.folder is None:
            if self.folder is not None and not _not_a_file(address):
                self._outcome(address.strip(), UNSAFE)
            return None
        key = (path, avatar)
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        copied = self._done[key] = self._copy(path, avatar)
        if len(self._done) > REMEMBERED:
            self._done.popitem(last=False)
        return copied

    def _copy(self, path: str, avatar: bool) -> Copied | None:
        source = resolve_media(self.folder or Path("."), path)
        if source is None or source.stat().st_size > MAX_FILE_BYTES:
            self.missing += 1
            self._outcome(path, MISSING if source is None else TOO_LARGE)
            return None
        copied, fresh = self._copy_file(source, path, avatar)
        self._outcome(path, NOT_AN_IMAGE if copied is None else COPIED if fresh else ALREADY)
        return copied

    def _copy_file(self, source: Path, path: str, avatar: bool) -> tuple[Copied | None, bool]:
        data = source.read_bytes()
        title = PurePosixPath(path).name
        suffix = PurePosixPath(path).suffix.lower()
        if suffix in _IMAGE_SUFFIXES or avatar:
            try:
                processed = process_image(data, avatar=avatar)
            except ImageError:
                processed = None
            if processed is not None:
                fresh = self._store(self.media_path / processed.file_name, processed.data)
                self.images += 1
                meta = ImageMeta(
                    processed.file_name, processed.media_type, processed.width, processed.height, len(processed.data)
                )
                return Copied(self.urls.media(processed.file_name), title, meta), fresh
            if avatar:
                self.missing += 1
                return None, False
        if suffix not in FILE_TYPES:
            suffix = ".bin"  # an image that does not decode, too: never served as an image
        name = hashlib.sha256(data).hexdigest()[:32] + suffix
        fresh = self._store(self.media_path / "files" / name, data)
        self.files += 1
        return Copied(file_url(self.urls, name), title), fresh


def _not_a_file(address: str) -> bool:
    """A remote address, a link within the old site (`/profiles/...`) or an anchor: not a file of the export."""
    text = address.strip().lower()
    if text.startswith("/") and not text.startswith("//"):
        return True
    return not text or text.startswith(("http://", "https://", "//", "mailto:", "data:", "#", "?"))


def is_file_name(name: str) -> bool:
    """Whether a name is one this copier makes (the only names the download route serves)."""
    return bool(_FILE_NAME.fullmatch(name))
