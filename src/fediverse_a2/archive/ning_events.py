"""PURE: events of a Ning export (`ning-events.json`) with their answers and time zones.

Fields, as the Ning importers of Discourse, BuddyPress and Pleio met them (FEDIVERSE_NOTES):
`id`, `contributorName` (the organiser's account), `title` (HTML-escaped), `description` (HTML),
`startDate`, `endDate`, `timeZone` (also `timezone`), `location`, `street`/`address` and `city`,
`organizedBy` (the organiser as the page named them), `eventType` (a category), `photoUrl` (the
event's image), `groupId`, `createdDate`, `updatedDate`, `attendees[{contributorName,
attendeeStatus}]` and `comments[]` (newest first, like a post's).

Times: a date with `Z` or an offset is that instant; a date without one is wall-clock time in the
event's own `timeZone` (an IANA name such as `Europe/Amsterdam`, `UTC`, or an offset such as
`+01:00`), else in Europe/Amsterdam, the old platform's zone. An unknown zone name is noted and
Amsterdam used. An end before the start is dropped (noted); an event without a readable start
cannot be placed in time and is not an event (NingRecordError).

Answers: `attending` is going, `might attend` (any spelling: `might_attend`, `maybe`) is maybe,
`not attending` (`declined`) is not going. Other statuses (`invited`) are no answer and are counted
apart, so the report can say what was left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fediverse_a2.archive.ning_dates import AMSTERDAM
from fediverse_a2.archive.ning_fields import FieldReader, NingRecordError, synthetic_id
from fediverse_a2.archive.ning_model import NingComment, parse_comments

__all__ = ["GOING", "MAYBE", "NOT_GOING", "NingAttendee", "NingEvent", "answer_for", "parse_event", "zone_for"]

GOING, MAYBE, NOT_GOING = "going", "maybe", "not_going"

_EVENT_FIELDS = frozenset(
    {
        "id", "contributorName", "title", "description", "startDate", "endDate", "timeZone", "timezone",
        "location", "street", "address", "city", "organizedBy", "eventType", "photoUrl", "groupId", "createdDate",
        "updatedDate", "attendees", "comments", "url", "fileAttachments",
    }
)  # fmt: skip
_ANSWERS = {
    "attending": GOING, "going": GOING, "yes": GOING,
    "mightattend": MAYBE, "maybe": MAYBE, "tentative": MAYBE,
    "notattending": NOT_GOING, "declined": NOT_GOING, "notgoing": NOT_GOING, "no": NOT_GOING,
}  # fmt: skip
_NOT_LETTERS = re.compile(r"[^a-z]+")
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?")


def answer_for(status: str | None) -> str | None:
    """going / maybe / not_going for Ning's attendeeStatus; None for no answer (invited, unknown)."""
    return _ANSWERS.get(_NOT_LETTERS.sub("", (status or "").lower()))


def zone_for(name: str | None) -> tzinfo | None:
    """The time zone an event names (IANA, UTC/GMT, or an offset); None when absent or unknown."""
    text = (name or "").strip()
    if not text:
        return None
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    m = _OFFSET.fullmatch(text)
    if m is not None:
        hours, minutes = int(m[2]), int(m[3] or 0)
        if hours > 14 or minutes > 59:
            return None
        sign = -1 if m[1] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a name that is not a path (`../x`)
        return None


@dataclass(frozen=True, slots=True)
class NingAttendee:
    """One entry of an event's attendees[]: who, and their answer (None: invited, no answer)."""

    contributor_name: str
    status: str  # as written
    answer: str | None


@dataclass(frozen=True, slots=True)
class NingEvent:
    """An event of the old network, its times as UTC epoch seconds."""

    id: str
    contributor_name: str
    title: str
    description: str
    starts_at: float
    ends_at: float | None
    time_zone: str  # the zone its wall-clock times were read in (for the report and tests)
    location: str
    address: str
    organized_by: str
    event_type: str | None
    photo: str | None
    group_id: str | None
    created: float | None
    updated: float | None
    attendees: tuple[NingAttendee, ...]
    comments: tuple[NingComment, ...]
    file_attachments: tuple[str, ...] = ()
    extra_fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _attendees(f: FieldReader) -> tuple[NingAttendee, ...]:
    found: dict[str, NingAttendee] = {}
    for item in f.objects("attendees"):
        a = FieldReader(item, frozenset())
        name = a.opt_text("contributorName")
        if name is None:
            f.warnings.append("attendee without contributorName")
            continue
        status = a.text("attendeeStatus") or a.text("status")
        found[name] = NingAttendee(name, status, answer_for(status))  # listed twice: the last answer counts
    return tuple(found.values())


def parse_event(data: Mapping[str, Any]) -> NingEvent:
    """An event from a record of ning-events(-local).json; NingRecordError without a start date."""
    f = FieldReader(data, _EVENT_FIELDS)
    eid = f.opt_text("id")
    if eid is None:
        eid = synthetic_id("event", data)
        f.warnings.append("event without id")
    zone_name = f.opt_text("timeZone") or f.opt_text("timezone")
    zone = zone_for(zone_name)
    if zone is None:
        if zone_name:
            f.warnings.append(f"unknown timeZone {zone_name[:40]!r}, Europe/Amsterdam used")
        zone, zone_name = AMSTERDAM, "Europe/Amsterdam"
    starts = f.date("startDate", zone)
    if starts is None:
        raise NingRecordError("event without a readable startDate")
    ends = f.date("endDate", zone)
    if ends is not None and ends < starts:
        f.warnings.append("event endDate before its startDate: end left out")
        ends = None
    author = f.text("contributorName")
    if not author:
        f.warnings.append("event without contributorName")
    address = ", ".join(t for t in (f.text("street") or f.text("address"), f.text("city")) if t)
    return NingEvent(
        id=eid,
        contributor_name=author,
        title=f.text("title", unescape=True),
        description=f.html("description"),
        starts_at=starts,
        ends_at=ends,
        time_zone=zone_name or "Europe/Amsterdam",
        location=f.text("location", unescape=True),
        address=address,
        organized_by=f.text("organizedBy", unescape=True),
        event_type=f.opt_text("eventType", unescape=True),
        photo=f.opt_text("photoUrl"),
        group_id=f.opt_text("groupId"),
        created=f.date("createdDate"),
        updated=f.date("updatedDate"),
        attendees=_attendees(f),
        comments=parse_comments(f.objects("comments"), eid),
        file_attachments=f.strings("fileAttachments"),
        extra_fields=f.extra,
        warnings=tuple(f.warnings),
    )
