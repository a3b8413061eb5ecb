"""PURE: the fast-path verdict -- does a document read correctly as plain JSON keys?

In terms of JSON-LD semantics: the ActivityStreams context is assumed to apply even when
absent (ActivityStreams 2.0 Core, section 2.1); every ``@context`` entry is a URL or an
inline object; a URL outside the bundle counts as an empty context (its terms are dropped,
exactly as the slow path's document loader drops them, so it cannot redefine a core term);
after applying the entries in order, each core ActivityStreams / security v1 term that
`parse` reads still has its standard definition, no inline term aliases one of them (or
``@id``/``@type``), and the well-known extension terms (``sensitive``, ``Hashtag``,
``quoteUrl``, ...) keep their usual IRIs; the top-level node and its ``object`` chain have no
keyword or IRI-looking keys and no ``prefix:Type`` types. Nested nodes deeper than that
(tags, attachments) are not inspected: a peer that puts full-IRI keys only there loses those
fields, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .contexts import AS_URL, bundled_bytes, bundled_file, bundled_files, url_for_file
from .jsonld_terms import TermTables, core_tables, dict_verdict, flatten

__all__ = ["is_compact_as2"]


@dataclass(frozen=True)
class _UrlEffect:
    good: frozenset[str]  # core/extension terms this context (re)defines in the standard way
    bad: frozenset[str]  # core/extension terms it redefines otherwise
    slow: bool  # it aliases a protected IRI or keyword: never the fast path
    prefixes: Mapping[str, str]


_NO_EFFECT = _UrlEffect(frozenset(), frozenset(), False, {})


@dataclass(frozen=True)
class _Tables:
    terms: TermTables
    urls: Mapping[str, _UrlEffect]  # bundled file name -> what applying it does


_tables_cache: list[_Tables] = []


def _tables() -> _Tables:
    if not _tables_cache:
        terms = core_tables()
        urls = {name: _url_effect(name, terms) for name in bundled_files()}
        _tables_cache.append(_Tables(terms=terms, urls=urls))
    return _tables_cache[0]


def _url_effect(filename: str, terms: TermTables) -> _UrlEffect:
    good: set[str] = set()
    bad: set[str] = set()
    slow = False
    pfx: dict[str, str] = {}
    doc = orjson.loads(bundled_bytes(filename))
    for part in flatten(doc.get("@context"), (url_for_file(filename),)):
        if part is None:
            slow = True
            continue
        verdict = dict_verdict(part, {**terms.prefixes, **pfx}, terms, vetted=True)
        if verdict is None:
            slow = True
            continue
        g, b, p = verdict
        bad -= g
        good |= g
        good -= b
        bad |= b
        pfx.update(p)
    extra = {k: v for k, v in pfx.items() if terms.prefixes.get(k) != v}
    return _UrlEffect(frozenset(good), frozenset(bad), slow, extra)


def _context_ok(ctx: Any) -> bool:
    """Whether applying ctx after the implicit ActivityStreams context leaves core terms intact."""
    tables = _tables()
    items = ctx if isinstance(ctx, list) else [ctx]
    if len(items) > 32:
        return False
    bad: set[str] = set()
    prefixes: Mapping[str, str] = tables.terms.prefixes
    for item in items:
        if isinstance(item, str):
            name = bundled_file(item)
            effect = tables.urls[name] if name is not None else _NO_EFFECT  # unknown: an empty context
            if effect.slow:
                return False
            if bad:
                bad -= effect.good
            if effect.bad:
                bad |= effect.bad
            if effect.prefixes:
                prefixes = {**prefixes, **effect.prefixes}
        elif isinstance(item, dict):
            verdict = dict_verdict(item, prefixes, tables.terms)
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

    True when its ``@context`` is absent, the AS2 URL, or a list of harmless URLs (bundled
    ones that only add extension terms, or unknown ones, which count as empty) and inline
    objects that only add extension terms (see the module docstring), and neither the
    top-level node nor its ``object`` chain uses IRI-looking or keyword keys.
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
