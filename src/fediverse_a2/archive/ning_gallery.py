"""PURE: photos, videos and music of a Ning export (`ning-photos.json`, `ning-videos.json`, `ning-music.json`).

Fields, as the importers of Discourse, BuddyPress and Pleio met them (FEDIVERSE_NOTES), with the
spellings seen for the same thing accepted side by side:

- a photo: `id`, `contributorName`, `title`, `description`, `createdDate`, `updatedDate`,
  `photoUrl` (the image; a path beside the file in the `-local` twin), its album as `albumId` and
  `albumTitle` (or `album`: a title, or an object with `id` and `title`), `groupId`, `comments[]`;
- an album (`ning-albums.json`, when the export has one): `id`, `title`, `description`,
  `contributorName`, `createdDate`;
- a video: `id`, `contributorName`, `title`, `description`, `createdDate`, `updatedDate`,
  `embedCode` (the player's HTML, an `<iframe>` or `<object>`), `thumbnailUrl` (also
  `previewFrameUrl`), `videoAttachmentUrl` (a video uploaded to the network), `groupId`, `comments[]`;
- a music track: `id`, `contributorName`, `title`, `artist`, `album`, `description`, `createdDate`,
  `audioUrl` (also `trackUrl`, `fileUrl`), `comments[]`.

`video_link` turns an embed code into what a post may show: a link, never a third-party iframe. A
YouTube or Vimeo player becomes the video's own page on that site; any other player its address,
when that is an http(s) URL.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fediverse_a2.archive.ning_fields import FieldReader, synthetic_id
from fediverse_a2.archive.ning_model import NingComment, parse_comments

__all__ = [
    "NingAlbum",
    "NingPhoto",
    "NingTrack",
    "NingVideo",
    "VideoLink",
    "parse_album",
    "parse_photo",
    "parse_track",
    "parse_video",
    "video_link",
]

_COMMON = frozenset({"id", "contributorName", "title", "description", "createdDate", "updatedDate", "comments", "url"})
_PHOTO_FIELDS = _COMMON | {"photoUrl", "albumId", "albumTitle", "album", "groupId", "tags"}
_ALBUM_FIELDS = _COMMON | {"coverPhotoUrl", "photoCount"}
_VIDEO_FIELDS = _COMMON | {"embedCode", "thumbnailUrl", "previewFrameUrl", "videoAttachmentUrl", "groupId", "tags"}
_TRACK_FIELDS = _COMMON | {"artist", "album", "audioUrl", "trackUrl", "fileUrl", "tags"}

# The address a player loads: an iframe's or embed's src, an object's data, a param's value.
_PLAYER_URL = re.compile(
    r"""<(?:iframe|embed|object|param)\b[^>]*?\s(?:src|data|value)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
    re.IGNORECASE,
)
_BARE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>]+""", re.IGNORECASE)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"/(?:embed|v|e|shorts|live)/([A-Za-z0-9_-]{11})")
_VIMEO_ID = re.compile(r"/(?:video/)?(\d{1,12})(?:[/?#]|$)")


@dataclass(frozen=True, slots=True)
class VideoLink:
    """Where an embedded video can be watched: a provider's page (youtube, vimeo) or the player's address."""

    provider: str  # "youtube", "vimeo" or "other"
    url: str


@dataclass(frozen=True, slots=True)
class NingPhoto:
    """A photo, in an album when album_id is set."""

    id: str
    contributor_name: str
    title: str
    description: str  # HTML as written
    created: float | None
    updated: float | None
    photo: str | None  # the image's address as written (a path beside the -local file)
    album_id: str | None
    album_title: str
    group_id: str | None
    comments: tuple[NingComment, ...]
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NingAlbum:
    """An album of ning-albums.json (photos name their album by id)."""

    id: str
    contributor_name: str
    title: str
    description: str
    created: float | None


@dataclass(frozen=True, slots=True)
class NingVideo:
    """A video: its player's link, thumbnail and (uploaded videos) file."""

    id: str
    contributor_name: str
    title: str
    description: str
    created: float | None
    updated: float | None
    link: VideoLink | None
    thumbnail: str | None
    file: str | None
    group_id: str | None
    comments: tuple[NingComment, ...]
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NingTrack:
    """A music track with its audio file."""

    id: str
    contributor_name: str
    title: str
    artist: str
    album: str
    description: str
    created: float | None
    audio: str | None
    comments: tuple[NingComment, ...]
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _youtube(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        vid = path.strip("/").split("/")[0]
    elif m := _YOUTUBE_PATH.match(path):
        vid = m[1]
    else:
        vid = (parse_qs(query).get("v") or [""])[0]
    return f"https://www.youtube.com/watch?v={vid}" if _YOUTUBE_ID.fullmatch(vid) else None


def _vimeo(path: str, query: str) -> str | None:
    clip = (parse_qs(query).get("clip_id") or [""])[0]
    if clip.isdigit():
        return f"https://vimeo.com/{clip}"
    m = _VIMEO_ID.search(path)
    return f"https://vimeo.com/{m[1]}" if m else None


def _link_of(raw: str) -> VideoLink | None:
    url = html.unescape(raw).strip()
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.").removeprefix("m.")
    if host in ("youtube.com", "youtube-nocookie.com", "youtu.be"):
        page = _youtube(host, parts.path, parts.query)
        return VideoLink("youtube", page) if page else None
    if host in ("vimeo.com", "player.vimeo.com"):
        page = _vimeo(parts.path, parts.query)
        return VideoLink("vimeo", page) if page else None
    return VideoLink("other", url)


def video_link(embed_code: str | None) -> VideoLink | None:
    """The link an embed code stands for (YouTube, Vimeo, or the player's address); None without one."""
    if not embed_code:
        return None
    candidates = [
        m[1] if m[1] is not None else m[2] if m[2] is not None else m[3] for m in _PLAYER_URL.finditer(embed_code)
    ]
    candidates += _BARE_URL.findall(embed_code)
    fallback: VideoLink | None = None
    for raw in candidates:
        link = _link_of(raw)
        if link is None:
            continue
        if link.provider != "other":
            return link
        fallback = fallback or link
    return fallback


def _id(f: FieldReader, kind: str, data: Mapping[str, Any]) -> str:
    found = f.opt_text("id")
    if found is None:
        f.warnings.append(f"{kind} without id")
        return synthetic_id(kind, data)
    return found


def _album(f: FieldReader) -> tuple[str | None, str]:
    album = f.data.get("album")
    album_id, title = f.opt_text("albumId"), f.text("albumTitle", unescape=True)
    if isinstance(album, Mapping):
        a = FieldReader(album, frozenset())
        album_id = album_id or a.opt_text("id")
        title = title or a.text("title", unescape=True)
    elif isinstance(album, str) and album.strip():
        title = title or FieldReader({"t": album}, frozenset()).text("t", unescape=True)
    if album_id is None and title:
        album_id = "title:" + title  # an album known only by its title
    return album_id, title


def parse_photo(data: Mapping[str, Any]) -> NingPhoto:
    """A photo from a record of ning-photos(-local).json."""
    f = FieldReader(data, _PHOTO_FIELDS)
    pid = _id(f, "photo", data)
    album_id, album_title = _album(f)
    photo = f.opt_text("photoUrl")
    if photo is None:
        f.warnings.append("photo without photoUrl")
    return NingPhoto(
        id=pid,
        contributor_name=f.text("contributorName"),
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        photo=photo,
        album_id=album_id,
        album_title=album_title,
        group_id=f.opt_text("groupId"),
        comments=parse_comments(f.objects("comments"), pid),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )


def parse_album(data: Mapping[str, Any]) -> NingAlbum:
    """An album from a record of ning-albums.json."""
    f = FieldReader(data, _ALBUM_FIELDS)
    return NingAlbum(
        id=_id(f, "album", data),
        contributor_name=f.text("contributorName"),
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
    )


def parse_video(data: Mapping[str, Any]) -> NingVideo:
    """A video from a record of ning-videos(-local).json."""
    f = FieldReader(data, _VIDEO_FIELDS)
    vid = _id(f, "video", data)
    embed = f.html("embedCode")
    link = video_link(embed)
    upload = f.opt_text("videoAttachmentUrl")
    if link is None and embed.strip() and upload is None:
        f.warnings.append("video embedCode without a usable address: only its title and description kept")
    return NingVideo(
        id=vid,
        contributor_name=f.text("contributorName"),
        title=f.text("title", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        link=link,
        thumbnail=f.opt_text("thumbnailUrl") or f.opt_text("previewFrameUrl"),
        file=upload,
        group_id=f.opt_text("groupId"),
        comments=parse_comments(f.objects("comments"), vid),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )


def parse_track(data: Mapping[str, Any]) -> NingTrack:
    """A music track from a record of ning-music(-local).json."""
    f = FieldReader(data, _TRACK_FIELDS)
    tid = _id(f, "track", data)
    audio = f.opt_text("audioUrl") or f.opt_text("trackUrl") or f.opt_text("fileUrl")
    if audio is None:
        f.warnings.append("music track without audioUrl")
    return NingTrack(
        id=tid,
        contributor_name=f.text("contributorName"),
        title=f.text("title", unescape=True),
        artist=f.text("artist", unescape=True),
        album=f.text("album", unescape=True),
        description=f.html("description"),
        created=f.date("createdDate"),
        audio=audio,
        comments=parse_comments(f.objects("comments"), tid),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )
