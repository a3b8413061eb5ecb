"""PURE: the images attached to a remote note, as the timeline shows them.

Mastodon sends attachments as `Document` (or `Image`) with an image `mediaType`, a
description in `name` and the size in `width`/`height`. Only http(s) URLs are kept, and at
most four, as Mastodon shows them.
"""

from __future__ import annotations

from typing import Any

from .values import (
    BAD_URL_CHARS,
    MAX_DESCRIPTION,
    MAX_IRI,
    is_http_id,
    items_of,
    media_type_of,
    natural,
    pick_url,
    types_of,
)

__all__ = ["MAX_IMAGES", "images_of"]

MAX_IMAGES = 4
_MAX_SIDE = 20_000
_IMAGE_TYPES = frozenset({"Image", "Document"})


def _side(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    side = int(value)
    return side if 0 < side <= _MAX_SIDE else None


def _image(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not _IMAGE_TYPES.intersection(types_of(item.get("type"))):
        return None
    picked = pick_url(item.get("url")) or pick_url(item.get("href"))
    if picked is None:
        return None
    url, link_type = picked
    media_type = media_type_of(item.get("mediaType")) or link_type
    is_image = media_type.lower().startswith("image/") if media_type else "Image" in types_of(item.get("type"))
    if not is_image or len(url) > MAX_IRI or not is_http_id(url) or BAD_URL_CHARS.search(url):
        return None
    name = (natural(item, "name", MAX_DESCRIPTION) or "").replace("\x00", "").strip()
    return {
        "url": url,
        "mediaType": media_type,
        "name": name or None,
        "width": _side(item.get("width")),
        "height": _side(item.get("height")),
    }


def images_of(note: dict[str, Any]) -> list[dict[str, Any]]:
    """The note's image attachments: url, mediaType, name (alt text), width, height."""
    out: list[dict[str, Any]] = []
    for item in items_of(note.get("attachment")):
        image = _image(item)
        if image is not None:
            out.append(image)
            if len(out) == MAX_IMAGES:
                break
    return out
