"""PURE: Note-like objects (Note, Article, Page, Question ...) from inbound JSON.

Content is returned as the raw HTML the peer sent: sanitising is the caller's job. Names
are cut to `MAX_NAME`, alt text to `MAX_DESCRIPTION`, summaries to `MAX_SUMMARY` and content
to `MAX_CONTENT`; at most `MAX_TAGS` tags and `MAX_ATTACHMENTS` attachments are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .values import (
    BAD_URL_CHARS,
    MAX_ATTACHMENTS,
    MAX_CONTENT,
    MAX_DESCRIPTION,
    MAX_IRI,
    MAX_NAME,
    MAX_SCAN,
    MAX_SUMMARY,
    MAX_TAGS,
    ParseError,
    actor_ref,
    audience,
    date_of,
    image_url,
    is_http_id,
    items_of,
    media_type_of,
    natural,
    pick_url,
    ref,
    required_id,
    required_type,
    same_host,
    short_type,
    text_of,
    types_of,
)

__all__ = ["Attachment", "RemoteNote", "Tag", "parse_note"]

_TAG_TYPES = frozenset({"Mention", "Hashtag", "Emoji"})
_MISSKEY_QUOTE_REL = "https://misskey-hub.net/ns#_misskey_quote"
_AS_MEDIA_TYPES = (
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/activity+json",
)
_LANG_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Tag:
    type: str  # Mention | Hashtag | Emoji
    name: str  # "@user@host", "#tag", ":emoji:" as sent ("" for a Mention without one)
    href: str | None  # the mentioned actor / tag page / Emoji image URL


@dataclass(frozen=True)
class Attachment:
    media_type: str | None
    url: str
    name: str | None  # the description (alt text)


@dataclass(frozen=True)
class RemoteNote:
    id: str
    type: str  # Note | Article | Page | Question ...
    attributed_to: str
    in_reply_to: str | None
    content: str  # raw HTML, not sanitised
    summary: str | None  # content warning ("" is None)
    sensitive: bool
    name: str | None  # title of an Article
    url: str | None  # None when on another host than attributed_to
    published: str | None
    updated: str | None
    language: str | None  # contentMap's key ("und" is None)
    to: tuple[str, ...]
    cc: tuple[str, ...]
    tags: tuple[Tag, ...]
    attachments: tuple[Attachment, ...]
    quote: str | None
    context: str | None  # thread id: context, else conversation (may be a tag: URI)


def _content(doc: dict[str, Any]) -> tuple[str, str | None]:
    """(HTML content, language): content preferred, else contentMap's first entry."""
    content = text_of(doc.get("content"), MAX_CONTENT)
    cmap = doc.get("contentMap")
    language = None
    if isinstance(cmap, dict):
        first: tuple[str, str] | None = None
        for count, (lang, text) in enumerate(cmap.items()):
            if count >= MAX_SCAN:
                break
            if not isinstance(text, str) or not isinstance(lang, str):
                continue
            if first is None:
                first = (lang, text)
            if content is not None and text[:MAX_CONTENT] == content:
                language = lang
                break
        if language is None and first is not None:
            language = first[0]
            if content is None:
                content = first[1][:MAX_CONTENT]
    if language is not None and (len(language) > 35 or not _LANG_TAG.fullmatch(language) or language.lower() == "und"):
        language = None
    return content or "", language


def _tags(value: Any) -> tuple[Tag, ...]:
    out = []
    for item in items_of(value, MAX_TAGS):
        if not isinstance(item, dict):
            continue
        kinds = [short_type(t) for t in types_of(item.get("type"))]
        kind = next((k for k in kinds if k in _TAG_TYPES), None)
        if kind is None:
            continue
        name = natural(item, "name", MAX_NAME)
        if kind == "Emoji":
            href = image_url(item.get("icon"))
        else:
            href = item.get("href") if is_http_id(item.get("href")) else None
        if kind == "Mention":
            if href is None:
                continue
            name = name or ""
        elif not name:
            continue
        out.append(Tag(kind, name, href))
    return tuple(out)


def _attachments(value: Any) -> tuple[Attachment, ...]:
    out = []
    for item in items_of(value, MAX_ATTACHMENTS):
        if isinstance(item, str):
            if is_http_id(item):
                out.append(Attachment(None, item, None))
            continue
        if not isinstance(item, dict):
            continue
        picked = pick_url(item.get("url")) or pick_url(item.get("href"))
        if picked is None:
            continue
        url, link_type = picked
        out.append(
            Attachment(
                media_type_of(item.get("mediaType")) or link_type,
                url,
                natural(item, "name", MAX_DESCRIPTION) or None,
            )
        )
    return tuple(out)


def _quote(doc: dict[str, Any]) -> str | None:
    """FEP-044f quote, Misskey _misskey_quote, quoteUrl, Fedibird quoteUri, FEP-e232 link."""
    for key in ("quote", "_misskey_quote", "quoteUrl", "quoteUri"):
        found = ref(doc.get(key))
        if found is not None:
            return found
    for item in items_of(doc.get("tag"), MAX_TAGS):
        if not isinstance(item, dict) or "href" not in item:
            continue
        if "Link" not in {short_type(t) for t in types_of(item.get("type"))}:
            continue
        rel = item.get("rel")
        rels = {r for r in items_of(rel, 16) if isinstance(r, str)}
        media_type = media_type_of(item.get("mediaType"))
        if _MISSKEY_QUOTE_REL in rels or media_type in _AS_MEDIA_TYPES:
            href = item.get("href")
            if is_http_id(href):
                return href
    return None


def _thread(doc: dict[str, Any]) -> str | None:
    for key in ("context", "conversation"):
        for item in items_of(doc.get(key), 4):
            if isinstance(item, dict):
                item = item.get("id")
            if isinstance(item, str) and 0 < len(item) <= MAX_IRI and ":" in item and not BAD_URL_CHARS.search(item):
                return item
    return None


def parse_note(doc: dict[str, Any], default_author: str | None = None) -> RemoteNote:
    """A Note-like object (Note, Article, Page, Question, ...). ParseError when unusable.

    An object without `attributedTo` (or `actor`), or with `attributedTo: null`, belongs to
    `default_author` when given: the actor that signed the activity it came in. Whether that
    actor may own the object is the caller's origin check.
    """
    if not isinstance(doc, dict):
        raise ParseError("object is not a JSON object")
    ident = required_id(doc.get("id"), "id")
    kind = required_type(doc)
    author = actor_ref(doc.get("attributedTo")) or actor_ref(doc.get("actor"))
    if author is None and doc.get("attributedTo") is None and doc.get("actor") is None:
        author = default_author
    if author is None:
        raise ParseError("attributedTo is missing or unusable")
    content, language = _content(doc)
    summary = natural(doc, "summary", MAX_SUMMARY)
    picked = pick_url(doc.get("url"), prefer="text/html")
    return RemoteNote(
        id=ident,
        type=kind,
        attributed_to=author,
        in_reply_to=ref(doc.get("inReplyTo")),
        content=content,
        summary=summary or None,
        sensitive=doc.get("sensitive") is True,
        name=natural(doc, "name", MAX_NAME) or None,
        url=same_host(picked[0] if picked else None, author),
        published=date_of(doc.get("published")),
        updated=date_of(doc.get("updated")),
        language=language,
        to=audience(doc.get("to")),
        cc=audience(doc.get("cc")),
        tags=_tags(doc.get("tag")),
        attachments=_attachments(doc.get("attachment")),
        quote=_quote(doc),
        context=_thread(doc),
    )
