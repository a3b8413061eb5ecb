"""PURE: the small readers every parser of inbound ActivityStreams JSON shares, and its size limits.

Hostile input is expected: every field is type-checked, the forms AS2 allows are accepted
(string / object / list), and sizes are capped before any object is built. Identifiers must
be absolute http(s) URLs of at most `MAX_IRI` characters that `hosts.origin_of` accepts (no
user-info, whitespace or backslashes). A bad required identifier is a ParseError; a bad
optional reference is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from .. import hosts
from ..hosts import origin_of

__all__ = [
    "ACTOR_TYPES",
    "MAX_ATTACHMENTS",
    "MAX_CONTENT",
    "MAX_DESCRIPTION",
    "MAX_IRI",
    "MAX_KEYS",
    "MAX_NAME",
    "MAX_RECIPIENTS",
    "MAX_SCAN",
    "MAX_SUMMARY",
    "MAX_TAGS",
    "PUBLIC",
    "ParseError",
    "actor_ref",
    "audience",
    "image_url",
    "is_http_id",
    "is_public",
    "items_of",
    "natural",
    "optional_id",
    "pick_url",
    "ref",
    "required_id",
    "required_type",
    "same_host",
    "short_type",
    "text_of",
    "types_of",
]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_SPELLINGS = frozenset({PUBLIC, "as:Public", "Public", "http://www.w3.org/ns/activitystreams#Public"})

MAX_TAGS = 100
MAX_ATTACHMENTS = 100
MAX_RECIPIENTS = 500
MAX_KEYS = 20
MAX_NAME = 200
MAX_DESCRIPTION = 1_500
MAX_SUMMARY = 10_000
MAX_CONTENT = 100_000
MAX_IRI = 4_096
MAX_TYPE = 200
MAX_SCAN = 100  # items looked at in a list when one value is picked from it
MAX_DATE = 64
MAX_MEDIA_TYPE = 255

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
TYPE_PREFIXES = (
    "https://www.w3.org/ns/activitystreams#",
    "http://www.w3.org/ns/activitystreams#",
    "as:",
    "_:",
    "http://joinmastodon.org/ns#",
    "toot:",
    "https://w3id.org/security#",
    "sec:",
)
BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class ParseError(ValueError):
    """The document lacks a required field or has one of an unusable shape."""


def is_public(to: Iterable[str], cc: Iterable[str]) -> bool:
    """Whether the audience includes the Public collection, in any of its spellings."""
    for audience in (to, cc):
        for item in audience:
            if isinstance(item, str) and item in PUBLIC_SPELLINGS:
                return True
    return False


# --- small readers ----------------------------------------------------------------------------


def is_http_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_IRI
        and value.startswith(("https://", "http://"))
        and origin_of(value) is not None
    )


def required_id(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what} is missing or not a string")
    if not is_http_id(value):
        raise ParseError(f"{what} is not an absolute http(s) URL")
    return value


def optional_id(value: Any, what: str) -> str | None:
    """None when absent; the id when valid; ParseError when present but unusable."""
    if value is None:
        return None
    return required_id(value, what)


def items_of(value: Any, limit: int = MAX_SCAN) -> list[Any]:
    """value as a list of at most limit items (AS2 allows a single value or a list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value[:limit]
    return [value]


def ref(value: Any) -> str | None:
    """The id of a reference given as a URL, an object with an id, or a list of those."""
    for item in items_of(value):
        if isinstance(item, str):
            if is_http_id(item):
                return item
        elif isinstance(item, dict):
            ident = item.get("id")
            if is_http_id(ident):
                return ident
    return None


def text_of(value: Any, limit: int) -> str | None:
    """A string value (also from a JSON-LD value object or a one-item list), truncated."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, str):
        return value[:limit]
    return None


def _first_map_value(value: Any, limit: int) -> str | None:
    if isinstance(value, dict):
        for count, text in enumerate(value.values()):
            if count >= MAX_SCAN:
                break
            if isinstance(text, str):
                return text[:limit]
    return None


def natural(value: Any, key: str, limit: int) -> str | None:
    """A natural-language field: the plain form, else the first entry of its ...Map form."""
    text = text_of(value.get(key), limit)
    if text is None:
        text = _first_map_value(value.get(key + "Map"), limit)
    return text


def short_type(kind: str) -> str:
    if ":" not in kind:
        return kind
    for prefix in TYPE_PREFIXES:
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def types_of(value: Any) -> list[str]:
    if type(value) is str:
        return [value] if 0 < len(value) <= MAX_TYPE else []
    return [t for t in items_of(value, 16) if isinstance(t, str) and 0 < len(t) <= MAX_TYPE]


def required_type(doc: dict[str, Any]) -> str:
    kinds = types_of(doc.get("type"))
    if not kinds:
        raise ParseError("type is missing or not a string")
    return kinds[0]


def date_of(value: Any) -> str | None:
    text = text_of(value, MAX_DATE + 1)
    return text if text and len(text) <= MAX_DATE else None


def media_type_of(value: Any) -> str | None:
    text = text_of(value, MAX_MEDIA_TYPE + 1)
    return text if text and len(text) <= MAX_MEDIA_TYPE else None


def actor_ref(value: Any) -> str | None:
    """The actor among the forms AS2 allows: the first Person, else the first URL or actor."""
    items = items_of(value)
    for item in items:
        if isinstance(item, dict) and "Person" in {short_type(t) for t in types_of(item.get("type"))}:
            ident = item.get("id")
            if is_http_id(ident):
                return ident
    for item in items:
        if isinstance(item, str):
            if is_http_id(item):
                return item
        elif isinstance(item, dict):
            kinds = {short_type(t) for t in types_of(item.get("type"))}
            if not kinds or kinds & ACTOR_TYPES:
                ident = item.get("id")
                if is_http_id(ident):
                    return ident
    return None


def audience(value: Any) -> tuple[str, ...]:
    """Recipients: http(s) ids and PUBLIC, deduplicated, at most MAX_RECIPIENTS (Public kept)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    seen: set[str] = set()
    public = False
    for item in items[:MAX_RECIPIENTS]:
        if isinstance(item, dict):
            item = item.get("id")
        if not isinstance(item, str):
            continue
        if item in PUBLIC_SPELLINGS:
            item = PUBLIC
            public = True
        elif not (item.startswith(("https://", "http://")) and len(item) <= MAX_IRI):
            continue
        if item not in seen:
            seen.add(item)
            out.append(item)
    if not public and len(items) > MAX_RECIPIENTS:
        rest = items[MAX_RECIPIENTS:]
        if any(isinstance(i, str) and i in PUBLIC_SPELLINGS for i in rest) or any(
            isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] in PUBLIC_SPELLINGS for i in rest
        ):
            out = [*out[: MAX_RECIPIENTS - 1], PUBLIC]
    return tuple(out)


def links(value: Any) -> Iterator[tuple[str, str | None]]:
    """(href, mediaType) of a url value: a URL, a Link (or object with a url), or a list."""
    for item in items_of(value):
        if isinstance(item, str):
            if is_http_id(item):
                yield item, None
        elif isinstance(item, dict):
            href = item.get("href")
            if href is None and isinstance(item.get("url"), str):
                href = item.get("url")
            if isinstance(href, str) and is_http_id(href):
                yield href, media_type_of(item.get("mediaType"))


def pick_url(value: Any, prefer: str | None = None) -> tuple[str, str | None] | None:
    first = None
    for href, media_type in links(value):
        if prefer is None:
            return href, media_type
        if media_type is not None and media_type.split(";")[0].strip().lower() == prefer:
            return href, media_type
        if first is None:
            first = (href, media_type)
    return first


def same_host(url: str | None, owner: str) -> str | None:
    """`url` when it is on the owner's host (hosts.same_host), else None."""
    return url if url is not None and hosts.same_host(url, owner) else None


def image_url(value: Any) -> str | None:
    """An image URL from a URL, an Image (url: URL / Link / list) or Link, or a list of those."""
    for item in items_of(value, 16):
        if isinstance(item, str):
            if is_http_id(item):
                return item
        elif isinstance(item, dict):
            picked = pick_url(item.get("url")) or pick_url(item.get("href"))
            if picked is not None:
                return picked[0]
    return None
