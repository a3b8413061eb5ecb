"""PURE: Mastodon 4.x entities (Account, Status, MediaAttachment, Relationship, Instance, …) as JSON-ready dicts.

Nothing here reads the database: `present.py` gathers the data into the small views below
and these functions give them Mastodon's shape, every field apps rely on present (Elk needs
every Account field; ids are strings; times are ISO 8601 with milliseconds, in UTC).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MASTODON_VERSION",
    "AccountView",
    "InstanceView",
    "MediaView",
    "RelationshipView",
    "StatusView",
    "account",
    "application",
    "credential_account",
    "instance_v1",
    "instance_v2",
    "iso",
    "marker",
    "media_attachment",
    "notification",
    "notification_group",
    "plain_to_html",
    "relationship",
    "role",
    "status",
    "status_edit",
]

MASTODON_VERSION = "4.3.0"  # the API level served; clients choose endpoints by it
API_VERSION = 2  # Mastodon 4.3's `api_versions.mastodon`


def iso(ts: float) -> str:
    """A time as Mastodon writes it: 2025-01-02T03:04:05.678Z."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def plain_to_html(text: str) -> str:
    """Plain text (a member's summary) as the HTML an Account's `note` holds: paragraphs and line breaks."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)


@dataclass(frozen=True)
class AccountView:
    """What an Account shows, from a member or a remote actor."""

    id: str
    username: str
    acct: str  # "name" for members, "name@host" for remote accounts
    url: str
    uri: str
    display_name: str
    note: str  # HTML
    avatar: str
    header: str
    locked: bool = False
    bot: bool = False
    group: bool = False
    fields: tuple[tuple[str, str], ...] = ()  # (name, HTML value)
    created_at: float = 0.0
    statuses_count: int = 0
    followers_count: int = 0
    following_count: int = 0
    last_status_at: float | None = None


def account(view: AccountView) -> dict[str, Any]:
    """An Account."""
    return {
        "id": view.id,
        "username": view.username,
        "acct": view.acct,
        "display_name": view.display_name,
        "locked": view.locked,
        "bot": view.bot,
        "discoverable": True,
        "indexable": True,
        "group": view.group,
        "created_at": iso(view.created_at),
        "note": view.note,
        "url": view.url,
        "uri": view.uri,
        "avatar": view.avatar,
        "avatar_static": view.avatar,
        "header": view.header,
        "header_static": view.header,
        "followers_count": view.followers_count,
        "following_count": view.following_count,
        "statuses_count": view.statuses_count,
        "last_status_at": (
            datetime.fromtimestamp(view.last_status_at, UTC).strftime("%Y-%m-%d") if view.last_status_at else None
        ),
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [{"name": name, "value": value, "verified_at": None} for name, value in view.fields],
    }


def role(is_admin: bool, is_moderator: bool) -> dict[str, Any]:
    """The member's own role, as CredentialAccount carries it."""
    name = "Admin" if is_admin else "Moderator" if is_moderator else ""
    return {"id": "-99" if not name else ("3" if is_admin else "2"), "name": name, "color": "",
            "permissions": "1" if is_admin else "0", "highlighted": bool(name)}  # fmt: skip


def credential_account(
    view: AccountView,
    *,
    note_source: str,
    fields_source: Sequence[tuple[str, str]],
    language: str,
    follow_requests_count: int,
    is_admin: bool,
    is_moderator: bool,
) -> dict[str, Any]:
    """The member's own Account, with `source` (what their settings hold, as plain text) and `role`."""
    data = account(view)
    data["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": language,
        "note": note_source,
        "fields": [{"name": name, "value": value, "verified_at": None} for name, value in fields_source],
        "follow_requests_count": follow_requests_count,
        "hide_collections": False,
        "discoverable": True,
        "indexable": True,
        "attribution_domains": [],
    }
    data["role"] = role(is_admin, is_moderator)
    return data


@dataclass(frozen=True)
class RelationshipView:
    """How the member behind a token stands to one account."""

    id: str
    following: bool = False
    requested: bool = False  # our follow waits for their approval
    followed_by: bool = False
    requested_by: bool = False  # their follow request waits for ours
    blocking: bool = False
    domain_blocking: bool = False


def relationship(view: RelationshipView) -> dict[str, Any]:
    """A Relationship."""
    return {
        "id": view.id,
        "following": view.following,
        "showing_reblogs": view.following,
        "notifying": False,
        "languages": None,
        "followed_by": view.followed_by,
        "blocking": view.blocking,
        "blocked_by": False,
        "muting": False,
        "muting_notifications": False,
        "requested": view.requested,
        "requested_by": view.requested_by,
        "domain_blocking": view.domain_blocking,
        "endorsed": False,
        "note": "",
    }


@dataclass(frozen=True)
class MediaView:
    """An image, local or remote."""

    id: str
    url: str
    description: str | None
    width: int | None = None
    height: int | None = None
    media_type: str = "image/jpeg"


def media_attachment(view: MediaView) -> dict[str, Any]:
    """A MediaAttachment (images only: that is what members upload and what we keep of remote posts)."""
    meta: dict[str, Any] = {}
    if view.width and view.height:
        size = {"width": view.width, "height": view.height, "size": f"{view.width}x{view.height}",
                "aspect": round(view.width / view.height, 6)}  # fmt: skip
        meta = {"original": size, "small": size}
    kind = "gifv" if view.media_type == "image/gif" else "image"
    return {"id": view.id, "type": kind, "url": view.url, "preview_url": view.url, "remote_url": None,
            "preview_remote_url": None, "text_url": None, "meta": meta, "description": view.description,
            "blurhash": None}  # fmt: skip


@dataclass(frozen=True)
class StatusView:
    """What a Status shows, from a post, a comment or a remote post."""

    id: str
    uri: str
    url: str | None
    account: dict[str, Any]
    content: str  # HTML
    created_at: float
    edited_at: float | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    spoiler_text: str = ""
    visibility: str = "public"
    language: str | None = None
    media: tuple[MediaView, ...] = ()
    sensitive: bool = False  # its images are behind a warning (also with a spoiler_text)
    tags: tuple[tuple[str, str], ...] = ()  # (name, URL)
    mentions: tuple[dict[str, str], ...] = ()
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    favourited: bool = False
    reblogged: bool = False
    application: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def status(view: StatusView) -> dict[str, Any]:
    """A Status."""
    media = [media_attachment(m) for m in view.media]
    data = {
        "id": view.id,
        "created_at": iso(view.created_at),
        "in_reply_to_id": view.in_reply_to_id,
        "in_reply_to_account_id": view.in_reply_to_account_id,
        "sensitive": view.sensitive or bool(view.spoiler_text),
        "spoiler_text": view.spoiler_text,
        "visibility": view.visibility,
        "language": view.language,
        "uri": view.uri,
        "url": view.url,
        "replies_count": view.replies_count,
        "reblogs_count": view.reblogs_count,
        "favourites_count": view.favourites_count,
        "edited_at": iso(view.edited_at) if view.edited_at else None,
        "favourited": view.favourited,
        "reblogged": view.reblogged,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "content": view.content,
        "filtered": [],
        "reblog": None,
        "application": view.application,
        "account": view.account,
        "media_attachments": media,
        "mentions": list(view.mentions),
        "tags": [{"name": name, "url": url} for name, url in view.tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    data.update(view.extra)
    return data


def status_edit(
    content: str, spoiler_text: str, created_at: float, account: dict[str, Any], media: list[dict[str, Any]]
) -> dict[str, Any]:
    """A StatusEdit: one version of a status, as its history lists it."""
    return {"content": content, "spoiler_text": spoiler_text, "sensitive": bool(spoiler_text),
            "created_at": iso(created_at), "account": account, "poll": None, "media_attachments": media,
            "emojis": []}  # fmt: skip


def application(name: str, website: str | None) -> dict[str, Any]:
    """An Application (what a status was written with; what /apps/verify_credentials answers)."""
    return {"name": name, "website": website}


def marker(last_read_id: str, version: int, updated_at: float) -> dict[str, Any]:
    """A Marker."""
    return {"last_read_id": last_read_id, "version": version, "updated_at": iso(updated_at)}


def notification(
    notification_id: str, kind: str, created_at: float, account: dict[str, Any], status: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Notification: `kind` is Mastodon's type (mention, status, reblog, follow, follow_request, favourite, ...)."""
    data: dict[str, Any] = {"id": notification_id, "type": kind, "created_at": iso(created_at),
                            "group_key": f"ungrouped-{notification_id}", "account": account}  # fmt: skip
    if status is not None:
        data["status"] = status
    return data


def notification_group(notification: dict[str, Any], status_id: str | None) -> dict[str, Any]:
    """A NotificationGroup of one notification (Mastodon 4.3's grouped notifications, ungrouped here)."""
    data: dict[str, Any] = {
        "group_key": notification["group_key"], "notifications_count": 1, "type": notification["type"],
        "most_recent_notification_id": notification["id"], "page_min_id": notification["id"],
        "page_max_id": notification["id"], "latest_page_notification_at": notification["created_at"],
        "sample_account_ids": [notification["account"]["id"]],
    }  # fmt: skip
    if status_id is not None:
        data["status_id"] = status_id
    return data


@dataclass(frozen=True)
class InstanceView:
    """What the instance entities show."""

    domain: str  # host[:port]
    title: str
    description: str
    version: str  # "4.3.0 (compatible; fediverse-a2 X.Y)"
    base_url: str
    members: int
    statuses: int
    domains: int
    languages: tuple[str, ...]
    max_characters: int
    max_media: int
    mime_types: tuple[str, ...]
    description_limit: int
    image_size_limit: int
    image_matrix_limit: int


def _configuration(view: InstanceView) -> dict[str, Any]:
    return {
        "urls": {"streaming": None, "status": None},
        "vapid": {"public_key": ""},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": view.max_characters,
            "max_media_attachments": view.max_media,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": list(view.mime_types),
            "description_limit": view.description_limit,
            "image_size_limit": view.image_size_limit,
            "image_matrix_limit": view.image_matrix_limit,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        "translation": {"enabled": False},
    }


def instance_v1(view: InstanceView) -> dict[str, Any]:
    """The V1::Instance entity (Mastodon 3.x-4.x shape; apps that predate v2 read it)."""
    configuration = _configuration(view)
    configuration["urls"] = {"streaming_api": None}
    return {
        "uri": view.domain, "title": view.title, "short_description": view.description,
        "description": view.description, "email": "", "version": view.version, "urls": {"streaming_api": None},
        "stats": {"user_count": view.members, "status_count": view.statuses, "domain_count": view.domains},
        "thumbnail": None, "languages": list(view.languages), "registrations": False, "approval_required": True,
        "invites_enabled": True, "configuration": configuration, "contact_account": None, "rules": [],
    }  # fmt: skip


def instance_v2(view: InstanceView) -> dict[str, Any]:
    """The Instance entity, with `configuration` and `api_versions`."""
    return {
        "domain": view.domain, "title": view.title, "version": view.version, "source_url": "",
        "description": view.description, "usage": {"users": {"active_month": view.members}},
        "thumbnail": {"url": f"{view.base_url}/static/header.png"}, "icon": [],
        "languages": list(view.languages), "configuration": _configuration(view),
        "registrations": {"enabled": False, "approval_required": True, "message": None,
                          "url": f"{view.base_url}/join"},
        "api_versions": {"mastodon": API_VERSION}, "contact": {"email": "", "account": None}, "rules": [],
    }  # fmt: skip
