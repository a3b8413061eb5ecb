"""PURE: JSON-LD normalisation of inbound ActivityStreams documents, only when it is needed.

Almost every peer sends *compact* AS2: plain JSON keys under the ActivityStreams context
plus a small extension object (Mastodon, GoToSocial, Misskey, Akkoma, WordPress, Fedify,
Lemmy, Mitra, Funkwhale). Those documents read the same as plain JSON, so `normalise` hands
them back untouched (`jsonld_fast.is_compact_as2` decides, cheaply and without pyld).
Anything else -- expanded JSON-LD, full-IRI or ``as:``-prefixed keys, a context that
redefines a core term -- is compacted by pyld against the bundled ActivityStreams +
security v1 context (plus the extension terms in `COMPACT_CONTEXT`), so that `parse` can
read it with the same plain keys.

An unknown context URL is never fetched and never fatal: pyld gets `contexts.document_loader`,
which serves the bundled documents (see `contexts` for the list and their provenance) and
answers any other URL with an empty context, so its terms are dropped while the
ActivityStreams terms still count. pyld also gets a private, bounded context cache (its
global one is neither consulted nor filled), and is imported only on the slow path.

The slow path costs pyld time in proportion to what a peer sends; a server runs it through
`federation.jsonld_worker.JsonLdWorker`, which applies a size and a time budget off the
event loop. This module itself has no budget.

Layout: `contexts` (the bundle and the loader), `jsonld_terms` + `jsonld_fast` (the fast-path
verdict), `jsonld_errors`, and this module (the pyld slow path and `normalise`), which
re-exports the public names of the others.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .contexts import (
    AS_URL,
    CONTEXT_URLS,
    LITEPUB_PATH,
    SECURITY_V1_URL,
    bundled_context,
    document_loader,
)
from .jsonld_errors import ContextNotBundled, JsonLdBudgetExceeded, NormaliseError
from .jsonld_fast import is_compact_as2

__all__ = [
    "AS_URL",
    "COMPACT_CONTEXT",
    "CONTEXT_URLS",
    "LITEPUB_PATH",
    "SECURITY_V1_URL",
    "ContextNotBundled",
    "JsonLdBudgetExceeded",
    "NormaliseError",
    "bundled_context",
    "compact",
    "document_loader",
    "is_compact_as2",
    "normalise",
    "without_repeated_contexts",
]

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
        # Events (activitypub/events.py): schema.org's postal address as Mobilizon declares it; its
        # schema.org `location` and `Place` come out as `sc:location` and `sc:Place`.
        "sc": "http://schema.org#",
        "PostalAddress": "sc:PostalAddress",
        "address": "sc:address",
        "streetAddress": "sc:streetAddress",
        "postalCode": "sc:postalCode",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "addressCountry": "sc:addressCountry",
    },
]


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


MAX_REPEAT_DEPTH = 8  # nested nodes looked at for a repeated context (object, its object, tags ...)


def _as_list(ctx: Any) -> list[Any]:
    return ctx if isinstance(ctx, list) else [ctx]


def without_repeated_contexts(doc: dict[str, Any]) -> dict[str, Any]:
    """doc with every nested `@context` that only repeats the nearest enclosing one left out.

    Applying the same contexts again changes no term's meaning, yet JSON-LD 1.1 refuses it when
    one of them protects its terms (credentials v2 does): the ActivityStreams context, applied
    again, "redefines" them. Servers that repeat the activity's context in its object read the
    document as plain JSON; leaving the repeat out reads it exactly as its sender meant. Only
    an identical repeat is dropped: a nested context that changes anything still counts.
    """
    outer = doc.get("@context")
    if outer is None:
        return doc

    def clean(node: dict[str, Any], enclosing: list[Any], depth: int) -> dict[str, Any]:
        out = dict(node)
        own = out.get("@context")
        if depth > 0 and own is not None and _as_list(own) == enclosing:
            del out["@context"]
        elif own is not None:
            enclosing = _as_list(own)
        if depth >= MAX_REPEAT_DEPTH:
            return out
        for key, value in out.items():
            if isinstance(value, dict) and key != "@context":
                out[key] = clean(value, enclosing, depth + 1)
            elif isinstance(value, list) and key != "@context":
                out[key] = [clean(v, enclosing, depth + 1) if isinstance(v, dict) else v for v in value]
        return out

    return clean(doc, _as_list(outer), 0)


def compact(doc: Any) -> dict[str, Any]:
    """The slow path on its own: doc compacted by pyld against `COMPACT_CONTEXT` (a nested
    context that only repeats its enclosing one is left out first).

    Raises NormaliseError when pyld cannot process it or it holds several top-level nodes.
    """
    from pyld import jsonld as pyld_jsonld
    from pyld.context_resolver import ContextResolver

    source = _with_as_context(without_repeated_contexts(doc)) if isinstance(doc, dict) else doc
    options = {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_context_cache, document_loader),
        "processingMode": "json-ld-1.1",
    }
    try:
        out = pyld_jsonld.compact(source, COMPACT_CONTEXT, options)
    except Exception as exc:  # pyld raises JsonLdError, and sometimes plain errors on junk
        message = exc.args[0] if exc.args else type(exc).__name__
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

    Raises NormaliseError (a ValueError) when pyld cannot process it. A context URL outside
    the bundle is not an error: it is never fetched, and its terms are dropped; nor is a
    nested context that only repeats the enclosing one (`without_repeated_contexts`).
    """
    if is_compact_as2(doc):
        return doc
    return compact(doc)
