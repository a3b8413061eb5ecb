"""The images of a saved page: those in the folder the browser saved beside it, stored as media.

A browser's "save page, complete" writes `NAME.html` and a folder `NAME_files/` with the images,
which the page names relatively (`NAME_files/foto.jpg`, `./NAME_files/foto%201.jpg`). Each such
image is read from that folder only (no `..`, no absolute path, no link out of it), re-encoded
without metadata like an upload (`media.images`) and shown from this instance's media; the page
then never sends a reader to another host for it. An image the folder lacks, that is not an
image, or that points elsewhere is left out and reported. Remote `http(s)` images stay as they
are: the pages show them through the media proxy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..activitypub.urls import Urls
from ..archive.ning_media import local_path
from ..html_images import ImageRef, rewrite_images
from .media import MISSING, NOT_AN_IMAGE, TOO_LARGE, UNSAFE, ImageMeta, store_folder_image

__all__ = ["LeftOut", "PageImages", "StoredImage", "files_folder", "localise_images"]

_REMOTE = re.compile(r"https?://", re.IGNORECASE)
# Why an image was left out (the command line words each).
REASONS = {MISSING: "missing", NOT_AN_IMAGE: "not_an_image", TOO_LARGE: "too_large", UNSAFE: "outside"}


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image of the folder, stored: the record it gets (its description, the file's own name)."""

    image: ImageMeta
    alt: str
    original_name: str


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An image of the page that was left out: its address as written, and why (a key of REASONS' values)."""

    src: str
    reason: str


@dataclass(frozen=True, slots=True)
class PageImages:
    """A page's body with its folder's images pointing at our media; what was stored and left out."""

    html: str
    stored: tuple[StoredImage, ...]
    left_out: tuple[LeftOut, ...]


def files_folder(page_path: Path) -> Path:
    """The folder a browser saves beside `NAME.html`: `NAME_files`."""
    return page_path.with_name(f"{page_path.stem}_files")


def _in_folder(src: str, folder_name: str) -> str | None:
    """The path inside the saved folder an image address names (URL-decoded), or None when it names none."""
    decoded = unquote(src.strip().split("#", 1)[0].split("?", 1)[0])
    path = local_path(decoded)
    if path is None:
        return None
    first, _, rest = path.partition("/")
    return rest if first == folder_name and rest else None


def localise_images(
    page_path: Path, body_html: str, sources: tuple[str, ...], media_path: Path, urls: Urls, *, write: bool = True
) -> PageImages:
    """Store the images of a saved page's body that are in its `NAME_files` folder (see the module
    docstring); `sources` are the body's image addresses as written, before sanitising dropped the
    unsafe ones (reported here too). `write=False` (a dry run) stores nothing."""
    folder = files_folder(page_path)
    stored: dict[str, StoredImage] = {}
    left_out: dict[str, LeftOut] = {}
    seen: dict[str, str | None] = {}  # address -> our media URL (None: left out)

    def place(ref: ImageRef) -> str | None:
        if ref.src in seen:
            return seen[ref.src]
        if _REMOTE.match(ref.src.strip()):
            seen[ref.src] = ref.src.strip()  # the media proxy shows it
            return seen[ref.src]
        inner = _in_folder(ref.src, folder.name)
        found = store_folder_image(folder, inner, media_path, write=write) if inner is not None else UNSAFE
        if isinstance(found, str):
            left_out.setdefault(ref.src, LeftOut(ref.src, REASONS[found]))
            seen[ref.src] = None
            return None
        name = Path(inner or "").name
        stored.setdefault(found.file_name, StoredImage(found, ref.alt or ref.title, name))
        seen[ref.src] = urls.media(found.file_name)
        return seen[ref.src]

    html = rewrite_images(body_html, place)
    for src in sources:  # what sanitising already dropped (an escape, an absolute path, data:)
        if src and src not in seen and not _REMOTE.match(src.strip()) and _in_folder(src, folder.name) is None:
            left_out.setdefault(src, LeftOut(src, REASONS[UNSAFE]))
    return PageImages(html, tuple(stored.values()), tuple(left_out.values()))
