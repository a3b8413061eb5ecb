"""PURE: JSON-LD term definitions, normalised so that two contexts can be compared cheaply.

The fast path (`jsonld_fast`) asks one question of each inline context object: which core
ActivityStreams / security terms does it define the standard way, which does it change, and
does it alias a protected IRI or keyword (then only pyld can read the document right)?
`TermTables` holds the standard definitions, taken from the bundled contexts themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .contexts import AS_URL, SECURITY_V1_URL, bundled_context, bundled_file
from .jsonld_errors import NormaliseError

__all__ = ["Def", "TermTables", "core_tables", "dict_verdict", "flatten", "simple_prefixes"]

Def = tuple[Any, ...]  # (iri, type, container, language, other keys)

_KEYWORDS_OK_IN_CONTEXT = frozenset({"@vocab", "@language", "@version", "@protected", "@direction", "@propagate"})
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


@dataclass(frozen=True)
class TermTables:
    """The standard definitions the fast path compares against."""

    canon: Mapping[str, Def]  # core term -> its standard definition
    extension: Mapping[str, str]  # extension term -> its usual IRI
    protected: frozenset[str]  # IRIs no other term may alias
    prefixes: Mapping[str, str]  # prefixes in scope after the core contexts


def _expand(
    value: str, local: Mapping[str, Any], prefixes: Mapping[str, str], canon: Mapping[str, Def], depth: int = 0
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
        return str(known[0])
    return "_:" + value  # the ActivityStreams context's "@vocab": "_:"


def _norm_def(
    term: str, value: Any, local: Mapping[str, Any], prefixes: Mapping[str, str], canon: Mapping[str, Def]
) -> Def | None:
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
        k for k in value if k not in ("@id", "@type", "@container", "@language") and k not in _DEF_KEYS_IGNORED
    )
    return (iri, kind, container, value.get("@language"), others)


def simple_prefixes(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The terms of an inline context that look like prefixes (an IRI ending in #, / or :)."""
    out = {}
    for term, value in ctx.items():
        if isinstance(value, str) and not term.startswith("@") and value.endswith(("#", "/", ":")):
            out[term] = value
    return out


def flatten(ctx: Any, seen: tuple[str, ...] = ()) -> Iterable[Mapping[str, Any] | None]:
    """The inline context objects a bundled context value amounts to, in order."""
    for item in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(item, str):
            if bundled_file(item) is None:
                continue  # an unknown URL is an empty context, here as everywhere
            if item in seen or len(seen) > 8:
                raise NormaliseError(f"recursive bundled context {item}")
            yield from flatten(bundled_context(item).get("@context"), (*seen, item))
        elif isinstance(item, dict) or item is None:
            yield item


def core_tables() -> TermTables:
    """The standard definitions, read from the bundled ActivityStreams and security v1 contexts."""
    canon: dict[str, Def] = {}
    prefixes: dict[str, str] = {}
    for url in (AS_URL, SECURITY_V1_URL):
        for part in flatten(url):
            assert part is not None
            prefixes.update(simple_prefixes(part))
            for term, value in part.items():
                if not term.startswith("@") and (url == AS_URL or term in _READ_TERMS):
                    definition = _norm_def(term, value, part, prefixes, {})
                    assert definition is not None
                    canon[term] = definition
    for name, iri in _EXTRA_PREFIXES.items():
        prefixes.setdefault(name, iri)
    read_iris = {canon[t][0] for t in _READ_TERMS if t in canon}
    protected = frozenset(read_iris | set(_EXTENSION_IRIS.values()))
    return TermTables(canon=canon, extension=_EXTENSION_IRIS, protected=protected, prefixes=prefixes)


def dict_verdict(
    ctx: Mapping[str, Any], prefixes: Mapping[str, str], tables: TermTables, vetted: bool = False
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
    return good, bad, simple_prefixes(ctx)
