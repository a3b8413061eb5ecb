"""PURE: the Dutch dates of the old site's pages ("20 Februari 2014 op 15.16") and the lines that carry them.

The old platform showed times in Europe/Amsterdam, 24-hour, with a dot ("15.16"; a colon is read
too). Month names in any case, full or abbreviated ("februari", "FEBRUARI", "feb.", "mrt").
The results are UTC epoch seconds (`ning_dates.amsterdam_epoch`, which also explains the DST gap
and overlap).

Lines read here:
- a comment header: "Reactie van NAAM op 20 Februari 2014 op 15.16"
- a byline: "Geplaatst door NAAM op 16 December 2013 op 10.00" (also "om 10:00", or without time)
- the view counter: "Weergaven: 808" (a thousands dot allowed: "Weergaven: 1.234")
A name may itself contain " op " ("Jan op den Akker"): the date is matched from the end.
"""

from __future__ import annotations

import re

from fediverse_a2.archive.ning_dates import amsterdam_epoch

__all__ = ["MONTHS", "match_byline", "match_comment_header", "match_views", "parse_dutch_datetime"]

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3, "april": 4, "apr": 4,
    "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip

_DATE = (
    r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})"
    r"(?:,?\s+(?:op|om|at)?\s*(?P<hour>\d{1,2})[.:](?P<minute>\d{2}))?"
)
_SPACE = r"[\s\u00a0]+"
_DATE_ONLY = re.compile(rf"\s*{_DATE}\s*", re.IGNORECASE)
_HEADER = re.compile(rf"\s*Reactie{_SPACE}van{_SPACE}(?P<name>.+?){_SPACE}op{_SPACE}{_DATE}\s*", re.IGNORECASE)
_BYLINE = re.compile(
    rf"\s*Geplaatst{_SPACE}door{_SPACE}(?P<name>.+?){_SPACE}op{_SPACE}{_DATE}(?:\s+in\s+.*)?\s*", re.IGNORECASE
)
_VIEWS = re.compile(r"\s*Weergaven\s*:\s*(?P<n>\d{1,3}(?:\.\d{3})+|\d+)\s*", re.IGNORECASE)


def _epoch(m: re.Match[str]) -> float | None:
    month = MONTHS.get(m["month"].lower())
    if month is None:
        return None
    hour = int(m["hour"]) if m["hour"] is not None else 0
    minute = int(m["minute"]) if m["minute"] is not None else 0
    try:
        return amsterdam_epoch(int(m["year"]), month, int(m["day"]), hour, minute)
    except ValueError:  # 31 februari, 25.00
        return None


def parse_dutch_datetime(text: str) -> float | None:
    """UTC epoch seconds of "20 Februari 2014 op 15.16" (the time is optional), or None."""
    m = _DATE_ONLY.fullmatch(text)
    return None if m is None else _epoch(m)


def _name_and_date(pattern: re.Pattern[str], line: str) -> tuple[str, float] | None:
    m = pattern.fullmatch(line)
    if m is None:
        return None
    epoch = _epoch(m)
    name = " ".join(m["name"].split())
    if epoch is None or not name:
        return None
    return name, epoch


def match_comment_header(line: str) -> tuple[str, float] | None:
    """(author name, UTC epoch) of a line "Reactie van NAAM op 20 Februari 2014 op 15.16", else None."""
    return _name_and_date(_HEADER, line)


def match_byline(line: str) -> tuple[str, float] | None:
    """(author name, UTC epoch) of a line "Geplaatst door NAAM op 16 December 2013 op 10.00", else None."""
    return _name_and_date(_BYLINE, line)


def match_views(line: str) -> int | None:
    """The count of a line "Weergaven: 808", else None."""
    m = _VIEWS.fullmatch(line)
    return None if m is None else int(m["n"].replace(".", ""))
