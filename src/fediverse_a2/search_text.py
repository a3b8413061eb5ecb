"""Search text, engine-independent: fold accents, split into words, stem them the Dutch way.

The index stores the stemmed words of each post and comment, and a query is stemmed the same
way, so SQLite FTS5 and PostgreSQL's full text search only ever compare ready-made terms and
find the same documents. The snippet of a hit is made here too, from the original text: the
words whose stem is one of the query's are marked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer  # PyStemmer: Snowball's own C stemmers

from .content import plain_text

__all__ = [
    "MAX_QUERY",
    "Segment",
    "document_terms",
    "fold",
    "mark",
    "query_terms",
    "snippet",
    "stem",
]

MAX_QUERY = 200  # characters of a query; longer ones are refused
MAX_QUERY_TERMS = 12
MAX_WORD = 40  # longer "words" (hashes, URLs run together) are not indexed
MAX_INDEXED_CHARS = 200_000
SNIPPET_CHARS = 240

# Letters and digits; `_` separates, as it does in FTS5's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+")

# Words too common to narrow a search: dropped from a query that has other words.
STOPWORDS = frozenset(
    [
        "aan",
        "al",
        "alle",
        "als",
        "bij",
        "dan",
        "dat",
        "de",
        "der",
        "deze",
        "die",
        "dit",
        "doch",
        "door",
        "een",
        "en",
        "er",
        "had",
        "heb",
        "hebben",
        "heeft",
        "het",
        "hij",
        "hoe",
        "hun",
        "ik",
        "in",
        "is",
        "je",
        "kan",
        "kon",
        "maar",
        "me",
        "meer",
        "men",
        "met",
        "mij",
        "mijn",
        "na",
        "naar",
        "niet",
        "niets",
        "nog",
        "nu",
        "of",
        "om",
        "omdat",
        "ook",
        "op",
        "over",
        "te",
        "tegen",
        "toch",
        "tot",
        "u",
        "uit",
        "van",
        "veel",
        "voor",
        "want",
        "was",
        "wat",
        "we",
        "wel",
        "werd",
        "wie",
        "wij",
        "word",
        "worden",
        "wordt",
        "zal",
        "ze",
        "zich",
        "zij",
        "zijn",
        "zo",
        "zou",
    ]
)
# Where the stemmer makes a common word of a subject word ("overheid" -> "over"), the
# folded word is kept instead; these join such words' plural to their singular.
_KEEP = {"overheden": "overheid"}

# The C implementation of Snowball's Dutch stemmer (PyStemmer), with its word cache off (ours is
# the lru_cache below): the same stems as the pure-Python snowballstemmer package, checked on the
# 408,152 words of Debian's Dutch word list, at ~2 µs a word instead of ~140 µs.
_STEMMER = Stemmer.Stemmer("dutch", 0)


def fold(text: str) -> str:
    """Lower case without accents: 'Ideeën' -> 'ideeen'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=200_000)
def _stem_folded(word: str) -> str:
    if word in _KEEP:
        return _KEEP[word]
    stemmed: str = _STEMMER.stemWord(word)
    if stemmed in STOPWORDS and stemmed != word:
        return word
    return stemmed


def stem(word: str) -> str:
    """The index term of one word: folded, then stemmed (so accents never change the stem)."""
    return _stem_folded(fold(word))


def _terms(text: str) -> list[str]:
    return [_stem_folded(w) for w in _WORD.findall(fold(text[:MAX_INDEXED_CHARS])) if len(w) <= MAX_WORD]


def document_terms(text: str, *, html: bool = False) -> str:
    """The stemmed words of a text (or HTML fragment), space-separated, as the index stores them."""
    return " ".join(_terms(plain_text(text) if html else text))


def query_terms(query: str) -> list[str]:
    """The distinct stemmed words of a query; stopwords are dropped unless nothing else is left."""
    seen: dict[str, None] = {}
    for term in _terms(query[:MAX_QUERY]):
        seen.setdefault(term, None)
    terms = list(seen)
    narrowing = [t for t in terms if t not in STOPWORDS]
    return (narrowing or terms)[:MAX_QUERY_TERMS]


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet or title; `hit` pieces are shown marked."""

    text: str
    hit: bool = False


def _hits(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) of every word in text whose stem is one of terms."""
    spans = []
    for match in _WORD.finditer(text):
        # A word may fold into several (a ligature, a superscript): any of them counts.
        if any(_stem_folded(w) in terms for w in _WORD.findall(fold(match.group()))):
            spans.append(match.span())
    return spans


def _segments(text: str, spans: list[tuple[int, int]], start: int, end: int) -> list[Segment]:
    out: list[Segment] = []
    at = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        if a > at:
            out.append(Segment(text[at:a]))
        out.append(Segment(text[a:b], True))
        at = b
    if at < end:
        out.append(Segment(text[at:end]))
    return out


def mark(text: str, terms: list[str]) -> list[Segment]:
    """All of a short text (a title), with the words matching the query marked."""
    return _segments(text, _hits(text, frozenset(terms)), 0, len(text))


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> list[Segment]:
    """About `width` characters of a plain text around its first match, matches marked.

    Cut at word boundaries; an ellipsis shows where text was left out.
    """
    spans = _hits(text, frozenset(terms))
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", max(start, first), end)
        end = space if space > start else end
    segments = _segments(text, spans, start, end)
    if start > 0:
        segments.insert(0, Segment("… "))
    if end < len(text):
        segments.append(Segment(" …"))
    return segments
