"""PURE: inbound ActivityStreams JSON -> the small frozen dataclasses that handlers use.

Input is a plain dict in compact AS2 form (run `jsonld.normalise` first when a peer may
send anything else). Hostile input is expected: every field is type-checked, the forms
AS2 allows are accepted (string / object / list), unknown fields are ignored, and sizes
are capped *before* any object is built:

* at most `MAX_TAGS` tags, `MAX_ATTACHMENTS` attachments, `MAX_KEYS` keys, and
  `MAX_RECIPIENTS` entries in each of ``to`` / ``cc`` (Public is kept when it appears
  anywhere in the full list);
* names (display names, usernames, tag names, titles) are cut to `MAX_NAME` characters,
  attachment descriptions (alt text) to `MAX_DESCRIPTION`, summaries to `MAX_SUMMARY` and
  content to `MAX_CONTENT`. Truncation is silent: a caller that would rather refuse an
  oversized document should compare ``len(raw["content"])`` with `MAX_CONTENT` itself;
* identifiers must be absolute http(s) URLs of at most `MAX_IRI` characters, without
  user-info, whitespace or backslashes. A bad *required* identifier is a ParseError; a bad
  optional reference (inReplyTo, url, icon, a recipient, ...) is dropped.

Content is returned as the raw HTML the peer sent: sanitising is the caller's job.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

try:  # IDNA 2008 + UTS 46, as the HTTP client (httpx) uses it
    import idna as _idna
except ImportError:  # pragma: no cover - httpx depends on it
    _idna = None  # type: ignore[assignment]

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_CONTENT",
    "MAX_DESCRIPTION",
    "MAX_IRI",
    "MAX_KEYS",
    "MAX_NAME",
    "MAX_RECIPIENTS",
    "MAX_SUMMARY",
    "MAX_TAGS",
    "PUBLIC",
    "Activity",
    "ActorKey",
    "Attachment",
    "ParseError",
    "RemoteActor",
    "RemoteNote",
    "Tag",
    "find_key",
    "is_public",
    "parse_activity",
    "parse_actor",
    "parse_note",
    "same_origin",
]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_PUBLIC_SPELLINGS = frozenset({PUBLIC, "as:Public", "Public", "http://www.w3.org/ns/activitystreams#Public"})

MAX_TAGS = 100
MAX_ATTACHMENTS = 100
MAX_RECIPIENTS = 500
MAX_KEYS = 20
MAX_NAME = 200
MAX_DESCRIPTION = 1_500
MAX_SUMMARY = 10_000
MAX_CONTENT = 100_000
MAX_IRI = 4_096
_MAX_TYPE = 200
_MAX_SCAN = 100  # items looked at in a list when one value is picked from it
_MAX_PEM = 16_384
_MAX_MULTIBASE = 4_096
_MAX_DATE = 64
_MAX_MEDIA_TYPE = 255

_ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
_KEY_TYPES = frozenset({"CryptographicKey", "Key", "Multikey"})
_TAG_TYPES = frozenset({"Mention", "Hashtag", "Emoji"})
_TYPE_PREFIXES = (
    "https://www.w3.org/ns/activitystreams#",
    "http://www.w3.org/ns/activitystreams#",
    "as:",
    "_:",
    "http://joinmastodon.org/ns#",
    "toot:",
    "https://w3id.org/security#",
    "sec:",
)
_MISSKEY_QUOTE_REL = "https://misskey-hub.net/ns#_misskey_quote"
_AS_MEDIA_TYPES = (
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/activity+json",
)
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NETLOC_END = re.compile(r"[/?#]")
_IPV6 = re.compile(r"[0-9a-f:.]+")
_ASCII_HOST = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_LANG_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_USERNAME_BAD = re.compile(r"[\x00-\x20\x7f@/\\:?#]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ParseError(ValueError):
    """The document lacks a required field or has one of an unusable shape."""


@dataclass(frozen=True)
class Activity:
    id: str | None
    type: str
    actor: str
    object: str | dict[str, Any] | None  # the id, or the embedded object as sent
    object_id: str | None  # the object's id, embedded or not
    target: str | None
    to: tuple[str, ...]  # every Public spelling is given as PUBLIC
    cc: tuple[str, ...]
    raw: dict[str, Any]


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


@dataclass(frozen=True)
class ActorKey:
    id: str
    owner: str  # owner (publicKey) or controller (Multikey)
    pem: str | None  # RSA public key, PEM
    multibase: str | None  # FEP-521a publicKeyMultibase


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    summary: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    url: str | None  # None when on another host than id
    icon: str | None  # avatar URL
    keys: tuple[ActorKey, ...]
    handle: str  # "@preferredUsername@host" (normalised host of id, port kept if not default)


# --- origins ---------------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def _norm_host(host: str) -> str | None:
    """Lower-case, without the trailing dot, IDN as punycode; None when not a usable host."""
    if host.endswith("."):
        host = host[:-1]
    if not host or "%" in host or ".." in host or host.startswith("."):
        return None
    if host.isascii():
        return host.lower() if _ASCII_HOST.fullmatch(host) else None
    try:
        if _idna is not None:
            return _idna.encode(host, uts46=True).decode("ascii").lower()
        return host.encode("idna").decode("ascii").lower()  # pragma: no cover
    except (UnicodeError, ValueError):
        return None


def _origin(url: Any) -> tuple[str, str, int] | None:
    """(scheme, normalised host, port) of an absolute http(s) URL; None when not one.

    Stricter than urlsplit: no user-info, whitespace, control characters or backslashes
    anywhere, a decimal port of at most 65535, a bracketed IPv6 literal or a host name.
    """
    if type(url) is not str or len(url) > MAX_IRI:
        return None
    head = url[:8].lower()
    if head.startswith("https://"):
        scheme, rest = "https", url[8:]
    elif head.startswith("http://"):
        scheme, rest = "http", url[7:]
    else:
        return None
    if _BAD_URL_CHARS.search(url):
        return None
    netloc = _NETLOC_END.split(rest, 1)[0]
    if not netloc or "@" in netloc:
        return None
    if netloc[0] == "[":
        close = netloc.find("]")
        if close < 0:
            return None
        host, port_text = netloc[1:close].lower(), netloc[close + 1 :]
        if not _IPV6.fullmatch(host):
            return None
        try:
            host = ipaddress.IPv6Address(host).compressed
        except ValueError:
            return None
        if port_text and not port_text.startswith(":"):
            return None
        port_text = port_text[1:]
    else:
        host, _, port_text = netloc.partition(":")
        normalised = _norm_host(host)
        if normalised is None:
            return None
        host = normalised
    if port_text:
        if not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5 or int(port_text) > 65535:
            return None
        port = int(port_text)
    else:
        port = _DEFAULT_PORTS[scheme]
    return scheme, host, port


def same_origin(a: str, b: str) -> bool:
    """Whether two http(s) URLs share scheme, host and port (hosts compared normalised).

    Hosts are lower-cased, a trailing dot is dropped and IDNs are compared as punycode, so
    ``https://Mastodon.Example./x`` and ``https://mastodon.example:443/y`` match (the
    normalisation gap behind CVE-2023-42451). Anything that is not a plain absolute
    http(s) URL -- user-info, whitespace, backslashes, bad ports -- never matches.
    """
    oa = _origin(a)
    return oa is not None and oa == _origin(b)


def _host_port(url: str) -> str | None:
    origin = _origin(url)
    if origin is None:
        return None
    scheme, host, port = origin
    if ":" in host:
        host = f"[{host}]"
    return host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"


def is_public(to: Iterable[str], cc: Iterable[str]) -> bool:
    """Whether the audience includes the Public collection, in any of its spellings."""
    for audience in (to, cc):
        for item in audience:
            if isinstance(item, str) and item in _PUBLIC_SPELLINGS:
                return True
    return False


# --- small readers ----------------------------------------------------------------------------


def _is_http_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_IRI
        and value.startswith(("https://", "http://"))
        and _origin(value) is not None
    )


def _required_id(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what} is missing or not a string")
    if not _is_http_id(value):
        raise ParseError(f"{what} is not an absolute http(s) URL")
    return value


def _optional_id(value: Any, what: str) -> str | None:
    """None when absent; the id when valid; ParseError when present but unusable."""
    if value is None:
        return None
    return _required_id(value, what)


def _items(value: Any, limit: int = _MAX_SCAN) -> list[Any]:
    """value as a list of at most limit items (AS2 allows a single value or a list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value[:limit]
    return [value]


def _ref(value: Any) -> str | None:
    """The id of a reference given as a URL, an object with an id, or a list of those."""
    for item in _items(value):
        if isinstance(item, str):
            if _is_http_id(item):
                return item
        elif isinstance(item, dict):
            ident = item.get("id")
            if _is_http_id(ident):
                return ident
    return None


def _text(value: Any, limit: int) -> str | None:
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
            if count >= _MAX_SCAN:
                break
            if isinstance(text, str):
                return text[:limit]
    return None


def _natural(value: Any, key: str, limit: int) -> str | None:
    """A natural-language field: the plain form, else the first entry of its ...Map form."""
    text = _text(value.get(key), limit)
    if text is None:
        text = _first_map_value(value.get(key + "Map"), limit)
    return text


def _short_type(kind: str) -> str:
    if ":" not in kind:
        return kind
    for prefix in _TYPE_PREFIXES:
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def _types(value: Any) -> list[str]:
    if type(value) is str:
        return [value] if 0 < len(value) <= _MAX_TYPE else []
    return [t for t in _items(value, 16) if isinstance(t, str) and 0 < len(t) <= _MAX_TYPE]


def _required_type(doc: dict[str, Any]) -> str:
    kinds = _types(doc.get("type"))
    if not kinds:
        raise ParseError("type is missing or not a string")
    return kinds[0]


def _date(value: Any) -> str | None:
    text = _text(value, _MAX_DATE + 1)
    return text if text and len(text) <= _MAX_DATE else None


def _media_type(value: Any) -> str | None:
    text = _text(value, _MAX_MEDIA_TYPE + 1)
    return text if text and len(text) <= _MAX_MEDIA_TYPE else None


def _actor_ref(value: Any) -> str | None:
    """The actor among the forms AS2 allows: the first Person, else the first URL or actor."""
    items = _items(value)
    for item in items:
        if isinstance(item, dict) and "Person" in {_short_type(t) for t in _types(item.get("type"))}:
            ident = item.get("id")
            if _is_http_id(ident):
                return ident
    for item in items:
        if isinstance(item, str):
            if _is_http_id(item):
                return item
        elif isinstance(item, dict):
            kinds = {_short_type(t) for t in _types(item.get("type"))}
            if not kinds or kinds & _ACTOR_TYPES:
                ident = item.get("id")
                if _is_http_id(ident):
                    return ident
    return None


def _audience(value: Any) -> tuple[str, ...]:
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
        if item in _PUBLIC_SPELLINGS:
            item = PUBLIC
            public = True
        elif not (item.startswith(("https://", "http://")) and len(item) <= MAX_IRI):
            continue
        if item not in seen:
            seen.add(item)
            out.append(item)
    if not public and len(items) > MAX_RECIPIENTS:
        rest = items[MAX_RECIPIENTS:]
        if any(isinstance(i, str) and i in _PUBLIC_SPELLINGS for i in rest) or any(
            isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] in _PUBLIC_SPELLINGS
            for i in rest
        ):
            out = [*out[: MAX_RECIPIENTS - 1], PUBLIC]
    return tuple(out)


def _links(value: Any) -> Iterator[tuple[str, str | None]]:
    """(href, mediaType) of a url value: a URL, a Link (or object with a url), or a list."""
    for item in _items(value):
        if isinstance(item, str):
            if _is_http_id(item):
                yield item, None
        elif isinstance(item, dict):
            href = item.get("href")
            if href is None and isinstance(item.get("url"), str):
                href = item.get("url")
            if _is_http_id(href):
                yield href, _media_type(item.get("mediaType"))


def _pick_url(value: Any, prefer: str | None = None) -> tuple[str, str | None] | None:
    first = None
    for href, media_type in _links(value):
        if prefer is None:
            return href, media_type
        if media_type is not None and media_type.split(";")[0].strip().lower() == prefer:
            return href, media_type
        if first is None:
            first = (href, media_type)
    return first


def _same_host(url: str | None, owner: str) -> str | None:
    if url is None:
        return None
    a, b = _origin(url), _origin(owner)
    return url if a is not None and b is not None and a[1] == b[1] else None


def _image_url(value: Any) -> str | None:
    """An image URL from a URL, an Image (url: URL / Link / list) or Link, or a list of those."""
    for item in _items(value, 16):
        if isinstance(item, str):
            if _is_http_id(item):
                return item
        elif isinstance(item, dict):
            picked = _pick_url(item.get("url")) or _pick_url(item.get("href"))
            if picked is not None:
                return picked[0]
    return None


# --- notes -------------------------------------------------------------------------------


def _content(doc: dict[str, Any]) -> tuple[str, str | None]:
    """(HTML content, language): content preferred, else contentMap's first entry."""
    content = _text(doc.get("content"), MAX_CONTENT)
    cmap = doc.get("contentMap")
    language = None
    if isinstance(cmap, dict):
        first: tuple[str, str] | None = None
        for count, (lang, text) in enumerate(cmap.items()):
            if count >= _MAX_SCAN:
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
    if language is not None and (
        len(language) > 35 or not _LANG_TAG.fullmatch(language) or language.lower() == "und"
    ):
        language = None
    return content or "", language


def _tags(value: Any) -> tuple[Tag, ...]:
    out = []
    for item in _items(value, MAX_TAGS):
        if not isinstance(item, dict):
            continue
        kinds = [_short_type(t) for t in _types(item.get("type"))]
        kind = next((k for k in kinds if k in _TAG_TYPES), None)
        if kind is None:
            continue
        name = _natural(item, "name", MAX_NAME)
        if kind == "Emoji":
            href = _image_url(item.get("icon"))
        else:
            href = item.get("href") if _is_http_id(item.get("href")) else None
        if kind == "Mention":
            if href is None:
                continue
            name = name or ""
        elif not name:
            continue
        out.append(Tag(kind, name, href))  # type: ignore[arg-type]
    return tuple(out)


def _attachments(value: Any) -> tuple[Attachment, ...]:
    out = []
    for item in _items(value, MAX_ATTACHMENTS):
        if isinstance(item, str):
            if _is_http_id(item):
                out.append(Attachment(None, item, None))
            continue
        if not isinstance(item, dict):
            continue
        picked = _pick_url(item.get("url")) or _pick_url(item.get("href"))
        if picked is None:
            continue
        url, link_type = picked
        out.append(
            Attachment(
                _media_type(item.get("mediaType")) or link_type,
                url,
                _natural(item, "name", MAX_DESCRIPTION) or None,
            )
        )
    return tuple(out)


def _quote(doc: dict[str, Any]) -> str | None:
    """FEP-044f quote, Misskey _misskey_quote, quoteUrl, Fedibird quoteUri, FEP-e232 link."""
    for key in ("quote", "_misskey_quote", "quoteUrl", "quoteUri"):
        found = _ref(doc.get(key))
        if found is not None:
            return found
    for item in _items(doc.get("tag"), MAX_TAGS):
        if not isinstance(item, dict) or "href" not in item:
            continue
        if "Link" not in {_short_type(t) for t in _types(item.get("type"))}:
            continue
        rel = item.get("rel")
        rels = {r for r in _items(rel, 16) if isinstance(r, str)}
        media_type = _media_type(item.get("mediaType"))
        if _MISSKEY_QUOTE_REL in rels or media_type in _AS_MEDIA_TYPES:
            href = item.get("href")
            if _is_http_id(href):
                return href
    return None


def _thread(doc: dict[str, Any]) -> str | None:
    for key in ("context", "conversation"):
        for item in _items(doc.get(key), 4):
            if isinstance(item, dict):
                item = item.get("id")
            if (
                isinstance(item, str)
                and 0 < len(item) <= MAX_IRI
                and ":" in item
                and not _BAD_URL_CHARS.search(item)
            ):
                return item
    return None


def parse_note(doc: dict[str, Any]) -> RemoteNote:
    """A Note-like object (Note, Article, Page, Question, ...). ParseError when unusable."""
    if not isinstance(doc, dict):
        raise ParseError("object is not a JSON object")
    ident = _required_id(doc.get("id"), "id")
    kind = _required_type(doc)
    author = _actor_ref(doc.get("attributedTo")) or _actor_ref(doc.get("actor"))
    if author is None:
        raise ParseError("attributedTo is missing or unusable")
    content, language = _content(doc)
    summary = _natural(doc, "summary", MAX_SUMMARY)
    picked = _pick_url(doc.get("url"), prefer="text/html")
    return RemoteNote(
        id=ident,
        type=kind,
        attributed_to=author,
        in_reply_to=_ref(doc.get("inReplyTo")),
        content=content,
        summary=summary or None,
        sensitive=doc.get("sensitive") is True,
        name=_natural(doc, "name", MAX_NAME) or None,
        url=_same_host(picked[0] if picked else None, author),
        published=_date(doc.get("published")),
        updated=_date(doc.get("updated")),
        language=language,
        to=_audience(doc.get("to")),
        cc=_audience(doc.get("cc")),
        tags=_tags(doc.get("tag")),
        attachments=_attachments(doc.get("attachment")),
        quote=_quote(doc),
        context=_thread(doc),
    )


# --- activities ---------------------------------------------------------------------------


def parse_activity(doc: dict[str, Any]) -> Activity:
    """An activity envelope. ParseError when type or actor is missing or ids are unusable."""
    if not isinstance(doc, dict):
        raise ParseError("activity is not a JSON object")
    ident = _optional_id(doc.get("id"), "id")
    kind = _required_type(doc)
    actor = _actor_ref(doc.get("actor"))
    if actor is None:
        raise ParseError("actor is missing or unusable")
    obj = doc.get("object")
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    object_id: str | None
    if isinstance(obj, str):
        object_id = _required_id(obj, "object")
    elif isinstance(obj, dict):
        object_id = _optional_id(obj.get("id"), "object id")
    elif obj is None:
        object_id = None
    else:
        raise ParseError("object is neither an id nor an object")
    return Activity(
        id=ident,
        type=kind,
        actor=actor,
        object=obj,
        object_id=object_id,
        target=_ref(doc.get("target")),
        to=_audience(doc.get("to")),
        cc=_audience(doc.get("cc")),
        raw=doc,
    )


# --- actors and keys -------------------------------------------------------------------------


def _key_from(item: dict[str, Any], multikey: bool) -> ActorKey | None:
    ident = item.get("id")
    owner = item.get("controller") if multikey else item.get("owner")
    if multikey and owner is None:
        owner = item.get("owner")
    if not multikey and owner is None:
        owner = item.get("controller")
    if not _is_http_id(ident) or not _is_http_id(owner):
        return None
    pem = _text(item.get("publicKeyPem"), _MAX_PEM + 1)
    multibase = _text(item.get("publicKeyMultibase"), _MAX_MULTIBASE + 1)
    if pem is not None and (len(pem) > _MAX_PEM or "-----BEGIN" not in pem):
        pem = None
    if multibase is not None and (len(multibase) > _MAX_MULTIBASE or not multibase.startswith("z")):
        multibase = None
    if pem is None and multibase is None:
        return None
    return ActorKey(ident, owner, pem, multibase)


def _keys(doc: dict[str, Any]) -> tuple[ActorKey, ...]:
    """publicKey entries and FEP-521a assertionMethod Multikeys; same id and owner merged."""
    found: dict[tuple[str, str], ActorKey] = {}
    sources = [(item, False) for item in _items(doc.get("publicKey"), MAX_KEYS)]
    sources += [(item, True) for item in _items(doc.get("assertionMethod"), MAX_KEYS)]
    for item, multikey in sources:
        if not isinstance(item, dict):
            continue  # a bare reference: nothing to verify with
        key = _key_from(item, multikey)
        if key is None:
            continue
        slot = (key.id, key.owner)
        old = found.get(slot)
        if old is not None:
            key = ActorKey(key.id, key.owner, old.pem or key.pem, old.multibase or key.multibase)
        elif len(found) >= MAX_KEYS:
            continue
        found[slot] = key
    return tuple(found.values())


def _username(value: Any) -> str | None:
    name = _text(value, MAX_NAME)
    return name if name and not _USERNAME_BAD.search(name) else None


def parse_actor(doc: dict[str, Any]) -> RemoteActor:
    """An actor document. ParseError when id, type or inbox is missing or unusable."""
    if not isinstance(doc, dict):
        raise ParseError("actor is not a JSON object")
    ident = _required_id(doc.get("id"), "id")
    kind = _required_type(doc)
    inbox = _required_id(doc.get("inbox"), "inbox")
    endpoints = doc.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    preferred = _text(doc.get("preferredUsername"), MAX_NAME)
    user = _username(preferred)
    if user is None:
        path = urlsplit(ident).path.rstrip("/")
        user = _username(path.rsplit("/", 1)[-1]) if path else None
    host = _host_port(ident)
    if user is None or host is None:
        raise ParseError("no usable preferredUsername")
    picked = _pick_url(doc.get("url"), prefer="text/html")
    return RemoteActor(
        id=ident,
        type=kind,
        preferred_username=preferred or None,
        name=_natural(doc, "name", MAX_NAME) or None,
        summary=_natural(doc, "summary", MAX_SUMMARY) or None,
        inbox=inbox,
        shared_inbox=shared if _is_http_id(shared) else None,
        outbox=_ref(doc.get("outbox")),
        followers=_ref(doc.get("followers")),
        following=_ref(doc.get("following")),
        url=_same_host(picked[0] if picked else None, ident),
        icon=_image_url(doc.get("icon")),
        keys=_keys(doc),
        handle=f"@{user}@{host}",
    )


def find_key(doc: dict[str, Any], key_id: str) -> ActorKey | None:
    """The key with id key_id in an actor document, or doc itself when it is that key.

    A key document is a CryptographicKey / Key / Multikey with an owner or controller (what
    a GoToSocial-style ``.../main-key`` may dereference to). Actor documents are searched
    without requiring the rest of the actor to be valid (GoToSocial serves a stub there).
    """
    if not isinstance(doc, dict) or not isinstance(key_id, str):
        return None
    kinds = {_short_type(t) for t in _types(doc.get("type"))}
    if doc.get("id") == key_id and kinds & _KEY_TYPES:
        return _key_from(doc, "Multikey" in kinds)
    for key in _keys(doc):
        if key.id == key_id:
            return key
    return None
