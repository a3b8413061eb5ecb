"""PURE: the media of a Ning export: the `-local.json` twins, safe local paths, what a record references.

The archiver writes each file twice: `ning-blogs.json` with the media addresses of the live site
(`http://api.ning.com/files/...`), and `ning-blogs-local.json`, the same records with those
addresses replaced by paths to the downloaded files beside it (`blogs/...jpg?width=737`, `members/...`).
`merge_local` takes the text of a record from the main file and its media fields from the twin.

A local path comes from the archive and will be joined to the export folder by the importer, so
only plain relative paths pass `local_path`: no scheme, no leading slash or backslash, no `..`
segment, no drive letter, no NUL. The query string the archiver leaves on (`?width=737&height=552`,
which Discourse's and SocialEngine's importers also strip) is removed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fediverse_a2.archive.ning_groups import NingDiscussion, NingGroup
from fediverse_a2.archive.ning_model import NingComment, NingMember, NingPost

__all__ = [
    "MEDIA_FIELDS", "MediaKind", "MediaRef", "html_addresses", "local_path", "media_refs", "merge_local", "record_key",
]  # fmt: skip

# Fields whose value the -local twin rewrites (besides those inside comments[]).
MEDIA_FIELDS = (
    "profilePhoto", "description", "fileAttachments", "iconUrl", "photoUrl", "thumbnailUrl", "previewFrameUrl",
    "videoAttachmentUrl", "audioUrl", "trackUrl", "fileUrl", "coverPhotoUrl",
)  # fmt: skip

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_MEDIA_ATTR = re.compile(
    r"""<(?P<tag>img|a)\b[^>]*?\s(?P<attr>src|href)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))""",
    re.IGNORECASE,
)
_NING_FILES = re.compile(r"https?://(?:[a-z0-9-]+\.)*ning\.com/files/", re.IGNORECASE)


class MediaKind(StrEnum):
    """Where in a record a media file is referenced."""

    PROFILE_PHOTO = "profile_photo"
    ICON = "icon"
    IMAGE = "image"  # an <img> in the description
    LINK = "link"  # an <a href> in the description to a file of the archive
    ATTACHMENT = "attachment"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """One reference to a media file: as written, and as a safe path beside the export (None if remote)."""

    kind: MediaKind
    source: str  # the address exactly as written (what the importer rewrites in the HTML)
    path: str | None  # a safe relative path in the export folder, query string removed
    owner: str  # id of the record or comment that references it


def local_path(value: str | None) -> str | None:
    """The safe relative path of a local media address, or None for remote, empty or unsafe ones."""
    if not value:
        return None
    path = value.strip().split("#", 1)[0].split("?", 1)[0]
    if not path or _SCHEME.match(path) or "\\" in path or "\x00" in path or path.startswith(("/", "~")):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def html_addresses(html_text: str) -> Iterator[tuple[str, str]]:
    """(tag, address) of every image and link in HTML, entities decoded, in document order."""
    for m in _MEDIA_ATTR.finditer(html_text):
        source = m["dq"] if m["dq"] is not None else m["sq"] if m["sq"] is not None else m["bare"]
        yield m["tag"].lower(), html.unescape(source)


def _description_refs(description: str, owner: str) -> Iterator[MediaRef]:
    for tag, source in html_addresses(description):
        path = local_path(source)
        if tag == "img":
            yield MediaRef(MediaKind.IMAGE, source, path, owner)
        elif path is not None or _NING_FILES.match(source):
            # Links only when they point at a file of the archive (Ning wraps images in a link
            # to the full-size file); links to other pages are not media.
            yield MediaRef(MediaKind.LINK, source, path, owner)


def _comment_refs(comments: tuple[NingComment, ...]) -> Iterator[MediaRef]:
    for comment in comments:
        yield from _description_refs(comment.description, comment.id)
        for item in comment.file_attachments:
            yield MediaRef(MediaKind.ATTACHMENT, item, local_path(item), comment.id)


def media_refs(record: NingMember | NingPost | NingDiscussion | NingGroup) -> tuple[MediaRef, ...]:
    """Every media file a parsed record references (its comments' included), in document order."""
    refs: list[MediaRef] = []
    if isinstance(record, NingMember):
        if record.profile_photo:
            path = local_path(record.profile_photo)
            refs.append(MediaRef(MediaKind.PROFILE_PHOTO, record.profile_photo, path, record.contributor_name))
        return tuple(refs)
    if isinstance(record, NingGroup) and record.icon:
        refs.append(MediaRef(MediaKind.ICON, record.icon, local_path(record.icon), record.id))
    refs.extend(_description_refs(record.description, record.id))
    if not isinstance(record, NingGroup):
        refs.extend(MediaRef(MediaKind.ATTACHMENT, a, local_path(a), record.id) for a in record.file_attachments)
    refs.extend(_comment_refs(record.comments))
    return tuple(refs)


def record_key(data: Mapping[str, Any]) -> str | None:
    """The key that pairs a record with its -local twin: `id`, or `contributorName` for members."""
    for key in ("id", "contributorName"):
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return None


def _merge_comments(main: Any, local: Any) -> Any:
    if not isinstance(main, list) or not isinstance(local, list):
        return main
    by_id = {c.get("id"): c for c in local if isinstance(c, dict) and c.get("id") is not None}
    merged: list[Any] = []
    for position, comment in enumerate(main):
        if not isinstance(comment, dict):
            merged.append(comment)
            continue
        twin = by_id.get(comment.get("id")) if comment.get("id") is not None else None
        if twin is None and not by_id and position < len(local) and isinstance(local[position], dict):
            twin = local[position]  # comments without ids: pair them by position
        merged.append(_merge_fields(comment, twin) if twin is not None else comment)
    return merged


def _merge_fields(main: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(main)
    for key in MEDIA_FIELDS:
        value = local.get(key)
        if value not in (None, "", []):
            out[key] = value
    if "comments" in main:
        out["comments"] = _merge_comments(main["comments"], local.get("comments"))
    return out


def merge_local(record: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its media fields taken from the -local twin (same key), else the record unchanged."""
    if record_key(record) != record_key(local):
        return dict(record)
    return _merge_fields(record, local)
