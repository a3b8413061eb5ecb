"""PURE: JSON-LD normalisation of inbound ActivityStreams documents, only when it is needed.

Almost every peer sends *compact* AS2: plain JSON keys under the ActivityStreams context
plus a small extension object (Mastodon, GoToSocial, Misskey, Akkoma, WordPress, Fedify).
Those documents read the same as plain JSON, so `normalise` hands them back untouched
(`is_compact_as2` decides, cheaply and without pyld). Anything else -- expanded JSON-LD,
full-IRI or ``as:``-prefixed keys, a context that redefines a core term -- is compacted by
pyld against the bundled ActivityStreams + security v1 context (plus the extension terms in
`COMPACT_CONTEXT`), so that `parse` can read it with the same plain keys.

pyld never touches the network here: every call gets `document_loader`, which serves
only the bundled context documents and raises `ContextNotBundled` for anything else, and
a private context cache (pyld's global one is neither consulted nor filled). pyld itself
is imported only on the slow path.

Bundled context documents (``contexts/*.json``, read lazily with importlib.resources),
by URL -> file: provenance.

* https://www.w3.org/ns/activitystreams -> activitystreams.json: verbatim copy of the
  frozen copy PyLD 3.3.0 ships (BSD-3 package; the document is W3C's, as served).
* https://w3id.org/security/v1 -> security-v1.json: verbatim from PyLD 3.3.0's bundle.
* https://www.w3.org/ns/did/v1 -> did-v1.json: verbatim from PyLD 3.3.0's bundle
  (Fedify and Mitra actors list it).
* https://w3id.org/identity/v1 -> identity-v1.json: web-payments.org's
  ``contexts/identity-v1.jsonld`` (where w3id redirects) plus the ``Group`` term the live
  document has (as in json-ld-preloaded's generated copy and Misskey's preloaded one).
  It redefines ``name``, ``url``, ``image``, ``Person``, ``Organization``: after the AS2
  context it is never a fast-path context.
* https://w3id.org/security/data-integrity/v1 -> data-integrity-v1.json: w3c/vc-data-integrity
  ``contexts/data-integrity/v1``, with the published version's ``digestMultibase`` and
  multibase-typed ``proofValue``.
* https://w3id.org/security/multikey/v1 -> multikey-v1.json: digitalbazaar/multikey-context
  ``contexts/multikey-v1.jsonld`` (main branch).
* https://gotosocial.org/ns -> gotosocial-ns.json: the GoToSocial namespace document
  (v0.20+ terms: interaction policies, requests and authorizations).
* https://purl.archive.org/socialweb/webfinger -> webfinger.json: the SocialCG WebFinger
  context that Mastodon 4.4+ actors list.
* https://<any host>/schemas/litepub-0.1.jsonld -> litepub-0.1.json: Akkoma's
  ``priv/static/schemas/litepub-0.1.jsonld``. Pleroma and Akkoma serve it from each
  instance, so every host's copy is answered with this one (versions differ only in
  extension terms; none touches a core term).

``http://`` spellings of the ActivityStreams, identity and WebFinger URLs are served too.
Not bundled (they make `normalise` raise `ContextNotBundled`): ``https://litepub.social/...``
(no faithful copy could be found), ``http://joinmastodon.org/ns`` (never a real document).

Fast path (`is_compact_as2`), in terms of JSON-LD semantics: the ActivityStreams context
is assumed to apply even when absent (ActivityStreams 2.0 Core, section 2.1); every
``@context`` entry is a bundled URL or an inline object; after applying them in order, each
core ActivityStreams / security v1 term that `parse` reads still has its standard
definition, no inline term aliases one of them (or ``@id``/``@type``), and the well-known
extension terms (``sensitive``, ``Hashtag``, ``quoteUrl``, ...) keep their usual IRIs; the
top-level node and its ``object`` chain have no keyword or IRI-looking keys and no
``prefix:Type`` types. Nested nodes deeper than that (tags, attachments) are not
inspected: a peer that puts full-IRI keys only there loses those fields, nothing more.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import orjson

__all__ = [
    "AS_URL",
    "COMPACT_CONTEXT",
    "CONTEXT_URLS",
    "LITEPUB_PATH",
    "SECURITY_V1_URL",
    "ContextNotBundled",
    "NormaliseError",
    "bundled_context",
    "document_loader",
    "is_compact_as2",
    "normalise",
]

AS_URL = "https://www.w3.org/ns/activitystreams"
SECURITY_V1_URL = "https://w3id.org/security/v1"
LITEPUB_PATH = "/schemas/litepub-0.1.jsonld"
_LITEPUB_FILE = "litepub-0.1.json"

_BUNDLE: dict[str, str] = {
    AS_URL: "activitystreams.json",
    "http://www.w3.org/ns/activitystreams": "activitystreams.json",
    SECURITY_V1_URL: "security-v1.json",
    "https://w3id.org/identity/v1": "identity-v1.json",
    "http://w3id.org/identity/v1": "identity-v1.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.json",
    "https://www.w3.org/ns/did/v1": "did-v1.json",
    "https://gotosocial.org/ns": "gotosocial-ns.json",
    "https://purl.archive.org/socialweb/webfinger": "webfinger.json",
    "http://purl.archive.org/socialweb/webfinger": "webfinger.json",
}

#: The context URLs served from the bundle (besides any host's ``/schemas/litepub-0.1.jsonld``).
CONTEXT_URLS: frozenset[str] = frozenset(_BUNDLE)

#: What the slow path compacts against: ActivityStreams, security v1, and the extension
#: terms `parse` reads under their customary short names.
COMPACT_CONTEXT: list[Any] = [
    AS_URL,
    SECURITY_V1_URL,
    {
        "toot": "http://joinmastodon.org/ns#",
        "misskey": "https://misskey-hub.net/ns#",
        "fedibird": "http://fedibird.com/ns#",
        "ostatus": "http://ostatus.org#",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "Emoji": "toot:Emoji",
        "quoteUrl": "as:quoteUrl",
        "quoteUri": "fedibird:quoteUri",
        "_misskey_quote": "misskey:_misskey_quote",
        "_misskey_content": "misskey:_misskey_content",
        "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
        "conversation": "ostatus:conversation",
        "Multikey": "https://w3id.org/security#Multikey",
        "assertionMethod": {
            "@id": "https://w3id.org/security#assertionMethod",
            "@type": "@id",
            "@container": "@set",
        },
        "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
        "publicKeyMultibase": {
            "@id": "https://w3id.org/security#publicKeyMultibase",
            "@type": "https://w3id.org/security#multibase",
        },
    },
]


class NormaliseError(ValueError):
    """The document could not be normalised (invalid JSON-LD, unloadable context, ...)."""


class ContextNotBundled(NormaliseError):
    """A ``@context`` URL that is not in the bundle: it is refused, never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context is not bundled and will not be fetched: {url[:300]}")
        self.url = url


# --- the bundle and the document loader ---------------------------------------------------

_raw: dict[str, bytes] = {}


def _file_for(url: str) -> str | None:
    name = _BUNDLE.get(url)
    if name is None and isinstance(url, str) and url.endswith(LITEPUB_PATH) and len(url) < 300:
        parts = urlsplit(url)
        if (
            parts.scheme in ("https", "http")
            and parts.netloc
            and "@" not in parts.netloc
            and parts.path == LITEPUB_PATH
            and not parts.query
            and not parts.fragment
        ):
            name = _LITEPUB_FILE
    return name


def _raw_bytes(name: str) -> bytes:
    data = _raw.get(name)
    if data is None:
        data = resources.files(__package__).joinpath("contexts", name).read_bytes()
        _raw[name] = data
    return data


def bundled_context(url: str) -> dict[str, Any]:
    """A fresh copy of the bundled context document for url; ContextNotBundled otherwise."""
    name = _file_for(url) if isinstance(url, str) else None
    if name is None:
        raise ContextNotBundled(str(url))
    return orjson.loads(_raw_bytes(name))


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld ``documentLoader`` that serves only the bundle and raises for anything else.

    Pass it in the options of each pyld call (``{"documentLoader": document_loader}``);
    it is never installed globally.
    """
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": bundled_context(url),
        "tag": "static",
    }


class _BoundedCache:
    """The shared cache handed to pyld's ContextResolver: bounded, private to this module."""

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            value = self._data.get(key, default)
            if key in self._data:
                self._data.move_to_end(key)
            return value

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_context_cache = _BoundedCache(256)


# --- term definitions, normalised for comparison -----------------------------------------

_Def = tuple[Any, ...]  # (iri, type, container, language, other keys)
_KEYWORDS_OK_IN_CONTEXT = frozenset(
    {"@vocab", "@language", "@version", "@protected", "@direction", "@propagate"}
)
_DEF_KEYS_IGNORED = frozenset({"@protected", "@prefix"})

# Every term of the ActivityStreams context, and the security v1 terms listed here, must
# keep its standard definition on the fast path (handlers dispatch on types too). The
# properties listed here are also protected against aliasing: an inline term mapping to
# one of their IRIs (or to @id / @type) under another name sends the document down the
# slow path.
_READ_TERMS = (
    "id", "type", "actor", "object", "target", "to", "cc", "bto", "bcc", "audience",
    "inReplyTo", "attributedTo", "content", "contentMap", "summary", "summaryMap", "name",
    "nameMap", "url", "href", "rel", "mediaType", "published", "updated", "tag", "attachment",
    "icon", "preferredUsername", "inbox", "outbox", "followers", "following", "endpoints",
    "sharedInbox", "context", "publicKey", "publicKeyPem", "owner", "Public",
    "as", "sec", "ldp", "xsd",
)  # fmt: skip
# Prefixes extension objects commonly use without defining them in the same object.
_EXTRA_PREFIXES = {
    "toot": "http://joinmastodon.org/ns#",
    "misskey": "https://misskey-hub.net/ns#",
    "fedibird": "http://fedibird.com/ns#",
    "ostatus": "http://ostatus.org#",
}
# Extension terms `parse` reads: only their IRI is compared (peers vary the @type).
_EXTENSION_IRIS: dict[str, str] = {
    "sensitive": "https://www.w3.org/ns/activitystreams#sensitive",
    "Hashtag": "https://www.w3.org/ns/activitystreams#Hashtag",
    "Emoji": "http://joinmastodon.org/ns#Emoji",
    "quoteUrl": "https://www.w3.org/ns/activitystreams#quoteUrl",
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "quote": "https://w3id.org/fep/044f#quote",
    "conversation": "http://ostatus.org#conversation",
    "Multikey": "https://w3id.org/security#Multikey",
    "assertionMethod": "https://w3id.org/security#assertionMethod",
    "controller": "https://w3id.org/security#controller",
    "publicKeyMultibase": "https://w3id.org/security#publicKeyMultibase",
}


def _expand(
    value: str,
    local: Mapping[str, Any],
    prefixes: Mapping[str, str],
    canon: Mapping[str, _Def],
    depth: int = 0,
) -> str:
    """IRI expansion of a term definition's value (vocab-relative, as JSON-LD does)."""
    if value.startswith("@") or depth > 4:
        return value
    colon = value.find(":")
    if colon > 0:
        prefix, suffix = value[:colon], value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        base = local.get(prefix, prefixes.get(prefix))
        if isinstance(base, dict):
            base = base.get("@id")
        if isinstance(base, str):
            return _expand(base, local, prefixes, canon, depth + 1) + suffix
        return value
    if value in local:
        ref = local[value]
        if isinstance(ref, dict):
            ref = ref.get("@id")
        if isinstance(ref, str) and ref != value:
            return _expand(ref, local, prefixes, canon, depth + 1)
    known = canon.get(value)
    if known is not None:
        return known[0]
    return "_:" + value  # the ActivityStreams context's "@vocab": "_:"


def _norm_def(
    term: str, value: Any, local: Mapping[str, Any], prefixes: Mapping[str, str], canon: Mapping[str, _Def]
) -> _Def | None:
    """A term definition as (iri, type, container, language, other keys); None when null."""
    if value is None:
        return None
    if isinstance(value, str):
        return (_expand(value, local, prefixes, canon), None, None, None, frozenset())
    if not isinstance(value, dict):
        return ("!invalid", None, None, None, frozenset())
    raw_id = value.get("@id", value.get("@reverse"))
    if isinstance(raw_id, str):
        iri = _expand(raw_id, local, prefixes, canon)
    elif ":" in term:
        iri = _expand(term, local, prefixes, canon)
    else:
        iri = "_:" + term
    kind = value.get("@type")
    if isinstance(kind, str):
        kind = _expand(kind, local, prefixes, canon)
    container = value.get("@container")
    if isinstance(container, list):
        container = tuple(sorted(c for c in container if isinstance(c, str)))
    others = frozenset(
        k
        for k in value
        if k not in ("@id", "@type", "@container", "@language") and k not in _DEF_KEYS_IGNORED
    )
    return (iri, kind, container, value.get("@language"), others)


def _simple_prefixes(ctx: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for term, value in ctx.items():
        if isinstance(value, str) and not term.startswith("@") and value.endswith(("#", "/", ":")):
            out[term] = value
    return out


@dataclass(frozen=True)
class _UrlEffect:
    good: frozenset[str]  # core/extension terms this context (re)defines in the standard way
    bad: frozenset[str]  # core/extension terms it redefines otherwise
    slow: bool  # it aliases a protected IRI or keyword: never the fast path
    prefixes: Mapping[str, str]


@dataclass(frozen=True)
class _Tables:
    canon: Mapping[str, _Def]
    extension: Mapping[str, str]
    protected: frozenset[str]
    prefixes: Mapping[str, str]
    urls: Mapping[str, _UrlEffect]


_tables_cache: list[_Tables] = []


def _flatten(ctx: Any, seen: tuple[str, ...] = ()) -> Iterable[Mapping[str, Any] | None]:
    """The inline context objects a (bundled) context value amounts to, in order."""
    for item in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(item, str):
            if item in seen or len(seen) > 8:
                raise NormaliseError(f"recursive bundled context {item}")
            yield from _flatten(bundled_context(item).get("@context"), (*seen, item))
        elif isinstance(item, dict) or item is None:
            yield item


def _tables() -> _Tables:
    if _tables_cache:
        return _tables_cache[0]
    canon: dict[str, _Def] = {}
    prefixes: dict[str, str] = {}
    for url in (AS_URL, SECURITY_V1_URL):
        for part in _flatten(url):
            assert part is not None
            prefixes.update(_simple_prefixes(part))
            for term, value in part.items():
                if not term.startswith("@") and (url == AS_URL or term in _READ_TERMS):
                    canon[term] = _norm_def(term, value, part, prefixes, {})  # type: ignore[assignment]
    for name, iri in _EXTRA_PREFIXES.items():
        prefixes.setdefault(name, iri)
    read_iris = {canon[t][0] for t in _READ_TERMS if t in canon}
    protected = frozenset(read_iris | set(_EXTENSION_IRIS.values()))
    tables = _Tables(canon=canon, extension=_EXTENSION_IRIS, protected=protected, prefixes=prefixes, urls={})
    urls: dict[str, _UrlEffect] = {}
    for url in set(_BUNDLE.values()) | {_LITEPUB_FILE}:
        urls[url] = _url_effect(url, tables)
    tables = _Tables(
        canon=canon, extension=_EXTENSION_IRIS, protected=protected, prefixes=prefixes, urls=urls
    )
    _tables_cache.append(tables)
    return tables


def _url_effect(filename: str, tables: _Tables) -> _UrlEffect:
    good: set[str] = set()
    bad: set[str] = set()
    slow = False
    pfx: dict[str, str] = {}
    doc = orjson.loads(_raw_bytes(filename))
    bundle_urls = {v: k for k, v in _BUNDLE.items()}
    start = doc.get("@context")
    for part in _flatten(start, (bundle_urls.get(filename, filename),)):
        if part is None:
            slow = True
            continue
        verdict = _dict_verdict(part, {**tables.prefixes, **pfx}, tables, vetted=True)
        if verdict is None:
            slow = True
            continue
        g, b, p = verdict
        bad -= g
        good |= g
        good -= b
        bad |= b
        pfx.update(p)
    extra = {k: v for k, v in pfx.items() if tables.prefixes.get(k) != v}
    return _UrlEffect(frozenset(good), frozenset(bad), slow, extra)


def _dict_verdict(
    ctx: Mapping[str, Any], prefixes: Mapping[str, str], tables: _Tables, vetted: bool = False
) -> tuple[set[str], set[str], dict[str, str]] | None:
    """(standard terms, changed terms, new prefixes) for an inline context; None = go slow.

    vetted: ctx is part of a bundled document, whose type- and property-scoped contexts
    (DataIntegrityProof, Multikey, did:service) apply only inside those nodes.
    """
    good: set[str] = set()
    bad: set[str] = set()
    canon, extension = tables.canon, tables.extension
    for term, value in ctx.items():
        if not isinstance(term, str) or not term:
            return None
        if term[0] == "@":
            if term in _KEYWORDS_OK_IN_CONTEXT:
                continue
            return None  # @base, @import, unknown keywords
        d = _norm_def(term, value, ctx, prefixes, canon)
        known = canon.get(term)
        if known is not None:
            (good if d == known else bad).add(term)
            continue
        ext = extension.get(term)
        if ext is not None:
            (good if d is not None and d[0] == ext else bad).add(term)
            continue
        if d is None:
            continue
        scoped = "@context" in d[4] and not vetted
        if d[0].startswith("@") or d[0] in tables.protected or "@reverse" in d[4] or scoped:
            return None  # an alias of a core IRI or keyword, a reverse property, a scoped context
    return good, bad, _simple_prefixes(ctx)


def _context_ok(ctx: Any) -> bool:
    """Whether applying ctx after the implicit ActivityStreams context leaves core terms intact."""
    tables = _tables()
    items = ctx if isinstance(ctx, list) else [ctx]
    if len(items) > 32:
        return False
    bad: set[str] = set()
    prefixes: Mapping[str, str] = tables.prefixes
    for item in items:
        if isinstance(item, str):
            name = _file_for(item)
            if name is None:
                return False
            effect = tables.urls[name]
            if effect.slow:
                return False
            if bad:
                bad -= effect.good
            if effect.bad:
                bad |= effect.bad
            if effect.prefixes:
                prefixes = {**prefixes, **effect.prefixes}
        elif isinstance(item, dict):
            verdict = _dict_verdict(item, prefixes, tables)
            if verdict is None:
                return False
            good, changed, new_prefixes = verdict
            if bad and good:
                bad -= good
            if changed:
                bad |= changed
            if new_prefixes:
                prefixes = {**prefixes, **new_prefixes}
        else:
            return False  # null resets the context; anything else is invalid
    return not bad


_verdicts: dict[bytes, bool] = {}
_VERDICTS_MAX = 1024
_VERDICT_KEY_MAX = 8192


def _context_ok_cached(ctx: Any) -> bool:
    """_context_ok, remembered per distinct @context value (each peer software sends a few)."""
    try:
        key = orjson.dumps(ctx)
    except (orjson.JSONEncodeError, TypeError):
        return _context_ok(ctx)
    verdict = _verdicts.get(key)
    if verdict is None:
        verdict = _context_ok(ctx)
        if len(key) <= _VERDICT_KEY_MAX:
            if len(_verdicts) >= _VERDICTS_MAX:
                _verdicts.clear()
            _verdicts[key] = verdict
    return verdict


def _plain_node(node: Mapping[str, Any]) -> bool:
    for key in node:
        if not key or (key[0] == "@" and key != "@context"):
            return False
        if ":" in key and not key.startswith("_:"):  # "_:x" is an undefined term, never a core one
            return False
    kind = node.get("type")
    if isinstance(kind, str):
        return ":" not in kind
    if isinstance(kind, list):
        return not any(isinstance(k, str) and ":" in k for k in kind[:16])
    return True


def is_compact_as2(doc: Any) -> bool:
    """Whether doc reads correctly as plain JSON keys (the fast path; no pyld involved).

    True when its ``@context`` is absent, the AS2 URL, or a list of bundled harmless URLs
    and inline objects that only add extension terms (see the module docstring), and
    neither the top-level node nor its ``object`` chain uses IRI-looking or keyword keys.
    """
    if not isinstance(doc, dict):
        return False
    ctx = doc.get("@context", AS_URL)
    if ctx != AS_URL and not _context_ok_cached(ctx):
        return False
    node: Any = doc
    contexts: list[Any] | None = None
    for _ in range(4):
        if not _plain_node(node):
            return False
        if node is not doc and "@context" in node:
            contexts = contexts or (list(ctx) if isinstance(ctx, list) else [ctx])
            inner = node["@context"]
            contexts.extend(inner if isinstance(inner, list) else [inner])
            if not _context_ok(contexts):
                return False
        node = node.get("object")
        if not isinstance(node, dict):
            break
    return True


# --- the slow path --------------------------------------------------------------------------


def _with_as_context(doc: dict[str, Any]) -> dict[str, Any]:
    """doc with the ActivityStreams context first in its @context (AS2 Core 2.1: it applies anyway)."""
    ctx = doc.get("@context")
    if ctx == AS_URL or (isinstance(ctx, list) and ctx and ctx[0] == AS_URL):
        return doc
    out = dict(doc)
    if ctx is None:
        out["@context"] = AS_URL
    elif isinstance(ctx, list):
        out["@context"] = [AS_URL, *ctx]
    else:
        out["@context"] = [AS_URL, ctx]
    return out


def _root_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 32:
        if isinstance(cur, kind):
            return cur
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def _compact(doc: Any) -> dict[str, Any]:
    from pyld import jsonld as pyld_jsonld
    from pyld.context_resolver import ContextResolver

    source = _with_as_context(doc) if isinstance(doc, dict) else doc
    options = {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_context_cache, document_loader),
        "processingMode": "json-ld-1.1",
    }
    try:
        out = pyld_jsonld.compact(source, COMPACT_CONTEXT, options)
    except Exception as exc:  # pyld raises JsonLdError, and sometimes plain errors on junk
        missing = _root_cause(exc, ContextNotBundled)
        if isinstance(missing, ContextNotBundled):
            raise ContextNotBundled(missing.url) from exc
        message = getattr(exc, "args", ("",))[0] if exc.args else type(exc).__name__
        raise NormaliseError(f"JSON-LD compaction failed: {str(message)[:200]}") from exc
    if not isinstance(out, dict):
        raise NormaliseError("JSON-LD compaction did not give an object")
    graph = out.get("@graph")
    if graph is not None:
        nodes = graph if isinstance(graph, list) else [graph]
        if len(nodes) != 1 or not isinstance(nodes[0], dict):
            raise NormaliseError("document holds more than one top-level node")
        out = {"@context": out.get("@context"), **nodes[0]}
    return out


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """doc itself when `is_compact_as2`; else its compaction against `COMPACT_CONTEXT`.

    Raises NormaliseError (a ValueError) when pyld cannot process it, and its subclass
    ContextNotBundled when it names a context URL outside the bundle (never fetched).
    """
    if is_compact_as2(doc):
        return doc
    return _compact(doc)
