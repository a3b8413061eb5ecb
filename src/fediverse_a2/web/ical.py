"""iCalendar (RFC 5545) feeds of events, written with the `icalendar` library: /events.ics and /events/ID.ics.

Times carry the instance's time zone (`TZID=Europe/Amsterdam`, with its VTIMEZONE), so Outlook and
phone calendars show them right across summer time; each event's UID is its URL, so a
subscribed calendar updates an event in place when it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as VEvent
from starlette.responses import Response

from ..activitypub.urls import Urls
from ..content import plain_text
from ..models import Event

__all__ = ["MEDIA_TYPE", "calendar", "calendar_response"]

MEDIA_TYPE = "text/calendar; charset=utf-8"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _vevent(event: Event, urls: Urls, tz: ZoneInfo) -> VEvent:
    post = event.post
    url = urls.object_of(post)
    item = VEvent()
    item.add("uid", url)
    item.add("dtstamp", _utc(post.updated or post.published))
    item.add("created", _utc(post.published))
    item.add("last-modified", _utc(post.updated or post.published))
    item.add("dtstart", datetime.fromtimestamp(event.starts_at, tz))
    if event.ends_at is not None:
        item.add("dtend", datetime.fromtimestamp(event.ends_at, tz))
    item.add("summary", post.title)
    description = plain_text(post.content_html)
    if event.online_url:
        description = f"{description}\n\n{event.online_url}".strip()
    if description:
        item.add("description", description)
    place = ", ".join(p for p in (event.location_name, event.location_address) if p)
    if place:
        item.add("location", place)
    item.add("url", url)
    item.add("status", "CONFIRMED")
    return item


def calendar(events: Sequence[Event], urls: Urls, name: str, tz: ZoneInfo) -> bytes:
    """A VCALENDAR with one VEVENT per event, in `tz` with its time zone definition."""
    cal = Calendar()
    cal.add("prodid", "-//fediverse-a2//events//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz.key)
    for event in events:
        cal.add_component(_vevent(event, urls, tz))
    cal.add_missing_timezones()
    return cal.to_ical()


def calendar_response(body: bytes, file_name: str) -> Response:
    """An .ics answer: shown inline (calendar apps subscribe to it), with its file name."""
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{file_name}"', "Cache-Control": "public, max-age=300"},
    )
