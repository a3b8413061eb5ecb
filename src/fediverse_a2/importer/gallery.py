"""PURE: photos, videos and music of the archive as posts (see the package docstring for the mapping).

- An album becomes one post by its creator: the album's description, then each photo as a figure
  (the image, copied from the `-local` files and re-encoded by the writer, with the photo's
  description as its alt text, else its title; the title as the caption). Each photo's comments
  become comments of the album post, each opening with the photo it was about, so they stay with
  it. A photo in no album is a post of its own. Every photo's old id leads to its post.
- A video becomes a post with its description and a link to where it can be watched (YouTube or
  Vimeo: the video's page there), with its title and, when the archive has it, its thumbnail.
  Never a third-party iframe. A video uploaded to the old network is attached (served from here).
- A music track becomes a post with its artist and album, its audio file attached.

Photos, videos and tracks in a group are in that group's topic group (a members-only group's for
its members only), as discussions are.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..archive.ning_gallery import NingAlbum, NingPhoto, NingTrack, NingVideo
from ..archive.ning_groups import NingGroup
from ..content import plain_text
from .mapping import author_ref, comments_of, first_date, later_update
from .model import ImportComment, ImportPost

__all__ = ["MAX_ALT", "Album", "album_post", "group_albums", "track_post", "video_post"]

MAX_ALT = 1500  # what the editor lets a member write as alt text


@dataclass(frozen=True, slots=True)
class Album:
    """The photos of one album (or one photo of none), oldest first, and the album when the export has it."""

    key: str  # the album's id, or "photo:ID" for a photo in no album
    photos: tuple[NingPhoto, ...]
    album: NingAlbum | None = None


def group_albums(photos: Iterable[NingPhoto], albums: Mapping[str, NingAlbum]) -> list[Album]:
    """Photos gathered by album, in the order first met. An album never mixes groups: when its photos
    are in several, each group's part is a post of its own."""
    found: dict[tuple[str, str | None], list[NingPhoto]] = {}
    for photo in photos:
        key = photo.album_id or f"photo:{photo.id}"
        found.setdefault((key, photo.group_id), []).append(photo)
    parts = Counter(key for key, _ in found)
    out = []
    for (key, group_id), items in found.items():
        items.sort(key=lambda p: (p.created if p.created is not None else float("inf"), p.id))
        name = key if parts[key] == 1 else f"{key}@{group_id or '-'}"
        out.append(Album(name, tuple(items), albums.get(key)))
    return out


def _alt(photo: NingPhoto) -> str:
    text = plain_text(photo.description) or photo.title
    return text if len(text) <= MAX_ALT else text[: MAX_ALT - 2].rsplit(" ", 1)[0] + " …"


def _figure(photo: NingPhoto, by: str | None, archived: Callable[[str], bool]) -> str:
    caption = html.escape(photo.title or "")
    if by:
        caption = f"{caption} ({html.escape(by)})" if caption else html.escape(by)
    if photo.photo is None or not archived(photo.photo):
        image = ""
        caption = f"{caption} [foto niet in het archief]".strip()
    else:
        image = f'<img src="{html.escape(photo.photo)}" alt="{html.escape(_alt(photo))}">'
    return f"<figure>{image}<figcaption>{caption}</figcaption></figure>" if caption else f"<figure>{image}</figure>"


def _photo_comments(photo: NingPhoto, names: dict[str, str], many: bool) -> tuple[ImportComment, ...]:
    """A photo's comments; in an album of several, each opens with the photo it was about."""
    found = comments_of(photo.comments, names)
    if not many:
        return found
    about = f"<p>Bij de foto <em>{html.escape(photo.title or photo.id)}</em>:</p>"
    return tuple(ImportComment(c.legacy_id, c.author, about + c.html, c.published, c.attachments) for c in found)


def album_post(
    album: Album, names: dict[str, str], groups: Mapping[str, NingGroup], archived: Callable[[str], bool]
) -> ImportPost:
    """An album (or a photo of none) as a post with its photos as figures and their comments.

    `archived(address)` says whether the export has the file a photo names; a photo without one is
    kept with its title and a note that its image is not in the archive.
    """
    photos = album.photos
    first = photos[0]
    owner = album.album.contributor_name if album.album and album.album.contributor_name else first.contributor_name
    many = album.album is not None or first.album_id is not None
    title = (album.album.title if album.album else "") or first.album_title or first.title or "Foto's"
    intro = album.album.description if album.album else ("" if many else first.description)
    figures = "".join(
        _figure(p, names.get(p.contributor_name) if p.contributor_name != owner else None, archived) for p in photos
    )
    published = first_date(album.album.created if album.album else None, *(p.created for p in photos))
    latest = max((p.updated or p.created or 0.0) for p in photos)
    comments = sorted(
        (c for p in photos for c in _photo_comments(p, names, many)),
        key=lambda c: c.published if c.published is not None else published,
    )
    group = groups.get(first.group_id or "")
    return ImportPost(
        legacy_id=album.key if album.key.startswith("photo:") else f"album:{album.key}",
        author=author_ref(owner, names),
        title=title,
        html=(intro or "") + figures,
        published=published,
        updated=later_update(latest or None, published),
        draft=False,
        source="ning",
        comments=tuple(comments),
        old=tuple((p.id, "photo") for p in photos),
        warnings=tuple(w for p in photos for w in p.warnings),
        group=group.id if group is not None else None,
        members_only=group is not None and group.is_private,
        kind="albums",
        counts=(("photos", len(photos)),),
    )


def _watch(video: NingVideo) -> str:
    if video.link is None:
        return ""
    title = html.escape(video.title or video.link.url)
    image = f'<img src="{html.escape(video.thumbnail)}" alt="">' if video.thumbnail else ""
    return f'<p><a href="{html.escape(video.link.url)}">{image}{title}</a></p>'


def video_post(video: NingVideo, names: dict[str, str], groups: Mapping[str, NingGroup]) -> ImportPost:
    """A video: its description and a link (with its thumbnail) to where it can be watched; never an iframe."""
    published = first_date(video.created, video.updated)
    group = groups.get(video.group_id or "")
    return ImportPost(
        legacy_id=video.id,
        author=author_ref(video.contributor_name, names),
        title=video.title or "Video",
        html=video.description + _watch(video),
        published=published,
        updated=later_update(video.updated, published),
        draft=False,
        source="ning",
        attachments=(video.file,) if video.file else (),
        comments=comments_of(video.comments, names),
        old=((video.id, "video"),),
        warnings=video.warnings,
        group=group.id if group is not None else None,
        members_only=group is not None and group.is_private,
        kind="videos",
    )


def track_post(track: NingTrack, names: dict[str, str]) -> ImportPost:
    """A music track: artist and album above its description, the audio file attached."""
    details = " · ".join(html.escape(t) for t in (track.artist, track.album) if t)
    published = first_date(track.created)
    return ImportPost(
        legacy_id=track.id,
        author=author_ref(track.contributor_name, names),
        title=track.title or "Muziek",
        html=(f"<p>{details}</p>" if details else "") + track.description,
        published=published,
        updated=None,
        draft=False,
        source="ning",
        attachments=(track.audio,) if track.audio else (),
        comments=comments_of(track.comments, names),
        old=((track.id, "music"),),
        warnings=track.warnings,
        kind="music",
    )
