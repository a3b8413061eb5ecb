"""PURE: Ning's dates, and the old site's Europe/Amsterdam wall-clock times, as UTC epoch seconds.

The archiver writes ISO 8601 timestamps, normally in UTC with a `Z` and milliseconds
(`2013-12-16T13:34:00.000Z`, the Ning API's form); some carry an offset (`+01:00`, `+0100`, `+01`).
A date without a zone is the old platform's local time, Europe/Amsterdam. A bare number is epoch
seconds (milliseconds when it is too large to be seconds).

Wall-clock times that do not exist or happen twice around the DST changes are read the way
`zoneinfo` reads them with fold=0: in the spring gap (02:00-03:00 on the last Sunday of March) with
the winter offset, in the autumn overlap (02:00-03:00 on the last Sunday of October) as the first,
summer-time, instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["AMSTERDAM", "amsterdam_epoch", "parse_ning_date"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[Tt ]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Epoch values above this are milliseconds (as seconds it would be the year 5138).
_MS_THRESHOLD = 1e11


def amsterdam_epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> float:
    """UTC epoch seconds of an Amsterdam wall-clock time (fold=0 in the DST gap and overlap, see above)."""
    return _local_epoch(AMSTERDAM, year, month, day, hour, minute, second, microsecond)


def _local_epoch(
    zone: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> float:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone).timestamp()


def _zone(value: str) -> timezone | None:
    if value in ("Z", "z", "UTC", "GMT"):
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_ning_date(value: object, zone: tzinfo = AMSTERDAM) -> float | None:
    """UTC epoch seconds of a Ning date (ISO 8601 with Z or an offset; naive is in `zone`), else None.

    `zone` is Europe/Amsterdam, the old platform's, unless the record names its own (an event's).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number / 1000 if abs(number) > _MS_THRESHOLD else number
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) >= 10 and text[4] == "-":
        try:
            # The fast path for the usual forms (Z, +01:00, naive): the C parser of datetime.
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp()
    if _NUMBER.fullmatch(text):
        return parse_ning_date(float(text), zone)
    m = _ISO.fullmatch(text)
    if m is None:
        return None
    try:
        frac = (m["frac"] or "0")[:6].ljust(6, "0")
        parts = (
            int(m["y"]), int(m["mo"]), int(m["d"]),
            int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0), int(frac),
        )  # fmt: skip
        if m["zone"] is None:
            return _local_epoch(zone, *parts)
        return datetime(*parts, tzinfo=_zone(m["zone"])).timestamp()
    except ValueError:  # 31 February, hour 25, offset +25:00 ...
        return None
