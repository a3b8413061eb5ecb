"""PURE: events as ActivityStreams `Event`s, the way Mobilizon and Gancio federate them, and answers to them.

What we send: an `Event` with `name`, `content`, `startTime`, `endTime`, `location` (a `Place`
with its `address`, a schema.org `PostalAddress`), `url`, and Mobilizon's extensions `joinMode`,
`participantCount`, `timezone` and `isOnline`; an online link is a `Link` attachment named
"Website", where Mobilizon reads it. Mastodon shows an Event as a post with its name and a link.

What we read: a remote `Event` (Mobilizon, Gancio, Friendica, another instance like this one)
for the timeline, with `location` as a `Place` (its `address` a PostalAddress or plain text, as
Gancio sends it) or as plain text. Mobilizon redefines `location` in its context (schema.org's),
so after JSON-LD compaction it may be `sc:location`: both are read.

Answers (RSVPs): Mobilizon takes part with `Join` and stops with `Leave`; Friendica and others
answer with `Accept`, `TentativeAccept` or `Reject` of the Event itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..models import GOING, MAYBE, NOT_GOING, Event
from .build import AS_CONTEXT, EXTENSIONS, PUBLIC, SECURITY_CONTEXT, collection_page, iso
from .urls import Urls
from .values import (
    MAX_NAME,
    MAX_SCAN,
    date_of,
    is_http_id,
    items_of,
    media_type_of,
    natural,
    short_type,
    text_of,
    types_of,
)

__all__ = [
    "ANSWER_OF",
    "EVENT_CONTEXT",
    "ONLINE_LINK_NAME",
    "RemoteEventFields",
    "event_object",
    "is_event",
    "parse_event",
]

ONLINE_LINK_NAME = "Website"  # the name Mobilizon gives (and looks for) on an event's online address
MAX_LOCATION = 500

# The answer each activity gives about an event.
ANSWER_OF = MappingProxyType(
    {"Join": GOING, "Accept": GOING, "TentativeAccept": MAYBE, "Reject": NOT_GOING, "Leave": NOT_GOING}
)

EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        **EXTENSIONS,
        # schema.org's postal address, as Mobilizon declares it ("schema" is in EXTENSIONS).
        "PostalAddress": "schema:PostalAddress",
        "address": {"@id": "schema:address", "@type": "schema:PostalAddress"},
        "streetAddress": "schema:streetAddress",
        # Mobilizon's own terms.
        "mz": "https://joinmobilizon.org/ns#",
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "participantCount": {"@id": "mz:participantCount", "@type": "schema:Integer"},
        "timezone": {"@id": "mz:timezone", "@type": "schema:Text"},
        "isOnline": {"@id": "mz:isOnline", "@type": "schema:Boolean"},
    },
]


def _place(event: Event) -> dict[str, Any] | None:
    if not event.location_name and not event.location_address:
        return None
    place: dict[str, Any] = {"type": "Place", "name": event.location_name or event.location_address}
    if event.location_address:
        place["address"] = {"type": "PostalAddress", "streetAddress": event.location_address}
    return place


def event_object(
    event: Event,
    urls: Urls,
    language: str,
    timezone: str,
    *,
    replies_total: int = 0,
    first_replies: Sequence[str] = (),
    participants: int = 0,
    group: str | None = None,
) -> dict[str, Any]:
    """An event as a public AS2 `Event` addressed to its organiser's followers (and its topic group)."""
    post = event.post
    event_id = urls.object_of(post)
    author = urls.actor(post.username)
    language = post.language or language
    replies_id = urls.replies_of(post)
    doc: dict[str, Any] = {
        "@context": EVENT_CONTEXT,
        "id": event_id,
        "type": "Event",
        "attributedTo": author,
        "actor": author,  # Mobilizon reads the organiser from `actor`
        "to": [PUBLIC],
        "cc": [urls.followers(post.username)],
        "name": post.title,
        "content": post.content_html,
        "contentMap": {language: post.content_html},
        "mediaType": "text/html",
        "startTime": iso(event.starts_at),
        "timezone": timezone,
        "url": event_id,
        "published": iso(post.published),
        "joinMode": "free",
        "participantCount": participants,
        "isOnline": event.online_url is not None,
        "replies": {
            "id": replies_id,
            "type": "OrderedCollection",
            "totalItems": replies_total,
            "first": collection_page(replies_id, 1, list(first_replies), has_next=replies_total > len(first_replies)),
        },
        "attachment": [],
    }
    if event.ends_at is not None:
        doc["endTime"] = iso(event.ends_at)
    if (place := _place(event)) is not None:
        doc["location"] = place
    if event.online_url:
        doc["attachment"].append(
            {"type": "Link", "href": event.online_url, "mediaType": "text/html", "name": ONLINE_LINK_NAME}
        )
    if group:
        doc["cc"].append(group)
        doc["audience"] = group
    if post.updated:
        doc["updated"] = iso(post.updated)
    return doc


# -- reading remote events ----------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteEventFields:
    """What an incoming Event adds to a note: its name, times (as sent) and place."""

    name: str
    start: str | None
    end: str | None
    location: str  # name and address on one line; "" when none
    online_url: str | None


def is_event(doc: Any) -> bool:
    """Whether an object is an Event (its first type, in any prefix spelling)."""
    if not isinstance(doc, dict):
        return False
    kinds = types_of(doc.get("type"))
    return bool(kinds) and short_type(kinds[0]) == "Event"


def _clean(value: Any, limit: int = MAX_NAME) -> str:
    text = text_of(value, limit)
    return " ".join(text.split()) if text else ""


def _address(value: Any) -> str:
    """A PostalAddress (its parts, in postal order) or an address given as plain text."""
    for item in items_of(value, 4):
        if isinstance(item, str):
            return _clean(item, MAX_LOCATION)
        if isinstance(item, dict):
            keys = ("streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry")
            parts = [_clean(item.get(key) or item.get(f"sc:{key}")) for key in keys]
            return ", ".join(p for p in parts if p)
    return ""


def _location(doc: dict[str, Any]) -> str:
    value = doc.get("location", doc.get("sc:location"))
    for item in items_of(value, MAX_SCAN):
        if isinstance(item, str):
            # A bare string is a place's name, unless it is only a link to one (never fetched).
            return "" if is_http_id(item) else _clean(item, MAX_LOCATION)
        if isinstance(item, dict):
            name = _clean(natural(item, "name", MAX_NAME))
            address = _address(item.get("address", item.get("sc:address")))
            parts = [name] + ([address] if address and address != name else [])
            return ", ".join(p for p in parts if p)[:MAX_LOCATION]
    return ""


def _online_url(doc: dict[str, Any]) -> str | None:
    for item in items_of(doc.get("attachment"), MAX_SCAN):
        if not isinstance(item, dict) or "Link" not in {short_type(t) for t in types_of(item.get("type"))}:
            continue
        href = item.get("href")
        media = media_type_of(item.get("mediaType"))
        if is_http_id(href) and (media is None or media.startswith("text/html")):
            return str(href)
    return None


def parse_event(doc: dict[str, Any]) -> RemoteEventFields | None:
    """The event fields of an incoming object; None when it is not an Event or has no usable start time."""
    if not is_event(doc):
        return None
    start = date_of(doc.get("startTime"))
    if start is None:
        return None
    return RemoteEventFields(
        name=_clean(natural(doc, "name", MAX_NAME)),
        start=start,
        end=date_of(doc.get("endTime")),
        location=_location(doc),
        online_url=_online_url(doc),
    )
