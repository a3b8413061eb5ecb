"""Interface text in Dutch (the default) and English, and choosing between them.

Texts come from gettext catalogs, `locale/LANG/LC_MESSAGES/messages.po` in this package, with
symbolic message ids (the key) and `{name}` placeholders (str.format). They are read
with Babel and compiled in memory on first use, so an editable and a plain install both work
without a build step. Dates and numbers are formatted by Babel in `nl_NL` and `en_GB`.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_month_names, parse_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

__all__ = [
    "LANGUAGES",
    "LOCALES",
    "catalog_path",
    "choose_language",
    "environment_language",
    "format_date",
    "format_number",
    "format_span",
    "has_text",
    "local_input",
    "month_name",
    "plural_keys",
    "translate",
    "translations",
]

LANGUAGES = ("nl", "en")
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
DOMAIN = "messages"

_DASH = "\u2013"  # an en dash between two times
# The clock as each language writes it: Dutch "15.16" (as the old platform did), British "15:16".
_CLOCK = {"nl": "HH.mm", "en": "HH:mm"}


def catalog_path(language: str) -> resources.abc.Traversable:
    """Where a language's catalog lives inside the package."""
    return resources.files(__package__) / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog(language: str) -> tuple[Translations, frozenset[str], frozenset[str]]:
    """A language's translations, compiled in memory; the ids it translates; those with plural forms."""
    with catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    ids = frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string)
    plurals = frozenset(m.id[0] for m in catalog if isinstance(m.id, tuple))
    return Translations(compiled, domain=DOMAIN), ids, plurals


def translations(language: str) -> Translations:
    """The gettext translations of a language (Dutch for one we lack), falling back to English, then the key."""
    return _with_fallback(language if language in LANGUAGES else "nl")


@functools.cache
def _with_fallback(language: str) -> Translations:
    english = _catalog("en")[0]
    if language == "en":
        return english
    own = _catalog(language)[0]
    own.add_fallback(english)
    return own


def plural_keys() -> frozenset[str]:
    """The message ids that have plural forms (they take a count `n`)."""
    return _catalog("en")[2]


def has_text(key: str) -> bool:
    """Whether an interface text of this name exists (in Dutch and English alike)."""
    key = key.removesuffix("_one") if key.removesuffix("_one") in plural_keys() else key
    return key in _catalog("nl")[1] and key in _catalog("en")[1]


def _count(value: str | int) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        return 2  # not a whole number: the plural reads right


def translate(language: str, key: str, **values: str | int) -> str:
    """The text for key in language, with {placeholders} filled in (whole numbers formatted for the language).

    A key with plural forms picks its form by `n`; `KEY_one` is the singular of such a key.
    """
    tr = translations(language)
    base = key.removesuffix("_one")
    if key in plural_keys():
        text = tr.ngettext(key, key, _count(values.get("n", 2)))
    elif base != key and base in plural_keys():
        text = tr.ngettext(base, base, 1)
    else:
        text = tr.gettext(key)
    if not values:
        return text
    shown = {name: format_number(v, language) if isinstance(v, int) else v for name, v in values.items()}
    return text.format(**shown)


def format_number(number: int | float, language: str) -> str:
    """A number as the language writes it: '1.234' in Dutch, '1,234' in British English."""
    return format_decimal(number, locale=_locale(language))


def choose_language(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """?lang= wins, then the first supported Accept-Language entry by weight, then the default."""
    if query_lang in LANGUAGES:
        return query_lang
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, primary)
    return best[1] if best else default


def environment_language(environ: Mapping[str, str]) -> str:
    """A command-line program's language as gettext finds it: LANGUAGE, LC_ALL, LC_MESSAGES, LANG.

    The first of them that is set decides (LANGUAGE may list several, 'nl:en'); a language we have no
    catalog for, or C/POSIX, gives English, the language the command line speaks by default.
    """
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if not value:
            continue
        for tag in value.split(":") if variable == "LANGUAGE" else [value]:
            primary = tag.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            if primary in LANGUAGES:
                return primary
        if variable != "LANGUAGE":
            break  # LC_ALL / LC_MESSAGES / LANG: the first one set is the locale, supported or not
    return "en"


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["nl"])


@dataclass(frozen=True, slots=True)
class _DateFormats:
    """A language's date patterns, parsed once: a page formats a date per comment."""

    locale: Locale
    long_date: DateTimePattern
    day: DateTimePattern
    clock: DateTimePattern
    at_time: str


@functools.cache
def _formats(language: str) -> _DateFormats:
    locale = Locale.parse(_locale(language))
    return _DateFormats(
        locale=locale,
        long_date=parse_pattern(get_date_format("long", locale=locale).pattern),
        day=parse_pattern("EEEE d MMMM y"),
        clock=parse_pattern(_CLOCK.get(language, _CLOCK["nl"])),
        at_time=translate(language, "date_at_time"),
    )


def _clock(dt: datetime, language: str) -> str:
    formats = _formats(language)
    return formats.clock.apply(dt, formats.locale)


def format_date(ts: float, language: str, tz: ZoneInfo) -> str:
    """A date as the old platform wrote it: '20 februari 2014 om 15.16'."""
    dt = datetime.fromtimestamp(ts, tz)
    formats = _formats(language)
    day = formats.long_date.apply(dt.date(), formats.locale)
    return formats.at_time.format(date=day, time=formats.clock.apply(dt, formats.locale))


def month_name(month: int, language: str) -> str:
    """The name of a month (1-12) in the interface language: 'februari', 'February'."""
    return str(get_month_names("wide", context="stand-alone", locale=_locale(language))[month])


def format_span(start: float, end: float | None, language: str, tz: ZoneInfo) -> str:
    """When an event takes place: 'zaterdag 14 juni 2025, 10.00-17.00' (with an en dash), or across days."""

    formats = _formats(language)

    def day(dt: datetime) -> str:
        return formats.day.apply(dt.date(), formats.locale)

    first = datetime.fromtimestamp(start, tz)
    if end is None:
        return f"{day(first)}, {_clock(first, language)}"
    last = datetime.fromtimestamp(end, tz)
    if first.date() == last.date():
        return f"{day(first)}, {_clock(first, language)}{_DASH}{_clock(last, language)}"
    return f"{day(first)}, {_clock(first, language)} {_DASH} {day(last)}, {_clock(last, language)}"


def local_input(ts: float, tz: ZoneInfo) -> str:
    """A moment as a datetime-local form field holds it: wall-clock time in tz, 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%dT%H:%M")
