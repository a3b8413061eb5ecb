"""Search stems come from PyStemmer (Snowball's C stemmers): the same stems as the pure-Python
snowballstemmer package, so an index built before the switch is still found by the same words.

The corpus: every word of the Dutch interface texts, the stopwords, and inflected forms of the
words a civil servants' network writes; each word also with its common suffixes, so every
branch of the Dutch algorithm (plurals, -heid, -ing, -lijk, -baar, diminutives, undoubling,
accents) is reached. (On Debian's whole Dutch word list, 408,152 folded words, the two agree
on every one; bench/README.md.)
"""

from __future__ import annotations

import re

import Stemmer
from babel.messages.pofile import read_po
from snowballstemmer.dutch_stemmer import DutchStemmer

from fediverse_a2.i18n import catalog_path
from fediverse_a2.search_text import STOPWORDS, fold, query_terms

WORDS = (
    "ambtenaar",
    "ambtenaren",
    "gemeente",
    "gemeenten",
    "gemeentes",
    "overheid",
    "overheden",
    "vergadering",
    "vergaderingen",
    "beleid",
    "beleidsmedewerker",
    "provincie",
    "provincies",
    "waterschap",
    "waterschappen",
    "rijksoverheid",
    "ministerie",
    "ministeries",
    "samenwerking",
    "samenwerken",
    "digitalisering",
    "informatie",
    "informatiebeveiliging",
    "burger",
    "burgers",
    "bestuurlijk",
    "bestuurlijke",
    "bestuurder",
    "bestuurders",
    "wethouder",
    "wethouders",
    "raadslid",
    "raadsleden",
    "ideeën",
    "geïnteresseerd",
    "café",
    "reünie",
    "coördinatie",
    "financiële",
    "één",
    "zeeën",
    "knieën",
    "fietspad",
    "fietspaden",
    "steden",
    "stad",
    "kinderen",
    "kind",
    "huisje",
    "huisjes",
    "boompje",
    "boompjes",
    "meisje",
    "lopen",
    "liep",
    "gelopen",
    "gewerkt",
    "werkende",
    "werkzaamheden",
    "mogelijk",
    "mogelijkheden",
    "bereikbaar",
    "bereikbaarheid",
    "vriendelijk",
    "vriendelijkheid",
    "duurzaam",
    "duurzaamheid",
    "opgaven",
    "opgave",
)
SUFFIXES = ("", "en", "s", "e", "heid", "heden", "ing", "ingen", "lijk", "lijke", "baar", "je", "jes", "end", "ende")


def _dutch_texts() -> list[str]:
    """Every Dutch interface text (both forms of a plural), from the catalog."""
    with catalog_path("nl").open("rb") as f:
        catalog = read_po(f, locale="nl")
    return [text for m in catalog if m.id for text in (m.string if isinstance(m.string, tuple) else (m.string,))]


def _corpus() -> list[str]:
    words: set[str] = set(WORDS) | STOPWORDS
    for text in _dutch_texts():
        words.update(re.findall(r"[^\W\d_]+", text))
    folded = {fold(w) for w in words}
    return sorted({w + s for w in folded for s in SUFFIXES})


def test_pystemmer_gives_the_pure_python_stems() -> None:
    c_stemmer, pure = Stemmer.Stemmer("dutch"), DutchStemmer()
    corpus = _corpus()
    assert len(corpus) > 5_000
    different = [
        (w, c_stemmer.stemWord(w), pure.stemWord(w)) for w in corpus if c_stemmer.stemWord(w) != pure.stemWord(w)
    ]
    assert different == []


def test_the_index_terms_are_the_stems_of_either() -> None:
    pure = DutchStemmer()
    for word in ("gemeenten", "vergaderingen", "ambtenaren", "duurzaamheid", "bereikbaarheid"):
        assert query_terms(word) == [pure.stemWord(word)]
