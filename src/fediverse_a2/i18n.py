"""Interface text in Dutch (the default) and English, and choosing between them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .texts import TEXT

__all__ = [
    "LANGUAGES",
    "choose_language",
    "format_date",
    "format_span",
    "has_text",
    "local_input",
    "month_name",
    "translate",
]

LANGUAGES = ("nl", "en")

_TEXT = TEXT


_MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


_DASH = "\u2013"  # an en dash between two times
_WEEKDAYS = {
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


def has_text(key: str) -> bool:
    """Whether an interface text of this name exists (in Dutch and English alike)."""
    return key in _TEXT["nl"] and key in _TEXT["en"]


def translate(language: str, key: str, **values: str) -> str:
    """The text for key in language, with {placeholders} filled in."""
    text = _TEXT.get(language, _TEXT["nl"]).get(key) or _TEXT["en"].get(key, key)
    return text.format(**values) if values else text


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


def format_date(ts: float, language: str, tz: ZoneInfo) -> str:
    """A date as the old platform wrote it: '20 februari 2014 om 15.16'."""
    dt = datetime.fromtimestamp(ts, tz)
    month = _MONTHS.get(language, _MONTHS["nl"])[dt.month - 1]
    if language == "en":
        return f"{dt.day} {month} {dt.year} at {dt:%H:%M}"
    return f"{dt.day} {month} {dt.year} om {dt:%H.%M}"


def month_name(month: int, language: str) -> str:
    """The name of a month (1-12) in the interface language: 'februari', 'February'."""
    return _MONTHS.get(language, _MONTHS["nl"])[month - 1]


def format_span(start: float, end: float | None, language: str, tz: ZoneInfo) -> str:
    """When an event takes place: 'zaterdag 14 juni 2025, 10.00-17.00' (with an en dash), or across days."""
    days = _WEEKDAYS.get(language, _WEEKDAYS["nl"])
    months = _MONTHS.get(language, _MONTHS["nl"])
    clock = "%H:%M" if language == "en" else "%H.%M"

    def day(dt: datetime) -> str:
        return f"{days[dt.weekday()]} {dt.day} {months[dt.month - 1]} {dt.year}"

    first = datetime.fromtimestamp(start, tz)
    if end is None:
        return f"{day(first)}, {first:{clock}}"
    last = datetime.fromtimestamp(end, tz)
    if first.date() == last.date():
        return f"{day(first)}, {first:{clock}}{_DASH}{last:{clock}}"
    return f"{day(first)}, {first:{clock}} {_DASH} {day(last)}, {last:{clock}}"


def local_input(ts: float, tz: ZoneInfo) -> str:
    """A moment as a datetime-local form field holds it: wall-clock time in tz, 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%dT%H:%M")
