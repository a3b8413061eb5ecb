"""PURE: events as AS2 Events, and incoming Events read the way Mobilizon, Gancio and Friendica send them."""

from __future__ import annotations

from typing import Any

from event_samples import MOBILIZON_CONTEXT, utc
from fediverse_a2.activitypub.events import event_object, is_event, parse_event
from fediverse_a2.activitypub.jsonld import normalise
from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.models import EVENT, Event, Post

URLS = Urls("https://a2.example")


def _event(**kw: Any) -> Event:
    post = Post(
        id=7, member_id=1, username="alice", author_name="Alice", title="Overleg", body_md="x",
        content_html="<p>x</p>", published=1_900_000_000.0, updated=None, deleted_at=None, views=0, kind=EVENT,
    )  # fmt: skip
    return Event(
        post=post,
        starts_at=kw.pop("starts_at", utc(2031, 10, 17, 10, 40)),
        ends_at=kw.pop("ends_at", None),
        **kw,
    )


def test_an_event_without_end_place_or_link() -> None:
    doc = event_object(_event(), URLS, "nl", "Europe/Amsterdam")
    assert doc["id"] == doc["url"] == "https://a2.example/events/7"
    assert doc["type"] == "Event" and doc["startTime"] == "2031-10-17T10:40:00Z"
    assert "endTime" not in doc and "location" not in doc and doc["attachment"] == []
    assert doc["isOnline"] is False and "updated" not in doc
    assert doc["replies"]["id"] == "https://a2.example/events/7/replies"


def test_a_place_with_only_an_address_is_named_by_it() -> None:
    doc = event_object(_event(location_address="Dorpsstraat 1"), URLS, "nl", "Europe/Amsterdam", group="https://g")
    assert doc["location"]["name"] == "Dorpsstraat 1"
    assert doc["location"]["address"] == {"type": "PostalAddress", "streetAddress": "Dorpsstraat 1"}
    assert doc["audience"] == "https://g" and doc["cc"][-1] == "https://g"


def test_mobilizon_event_after_json_ld_normalisation() -> None:
    activity = {
        "@context": MOBILIZON_CONTEXT, "id": "https://m.example/c/1", "type": "Create", "actor": "https://m.example/@t",
        "object": {
            "id": "https://m.example/events/1", "type": "Event", "attributedTo": "https://m.example/@t",
            "name": "Launch  party", "startTime": "2031-12-18T13:00:00Z", "endTime": "2031-12-18T14:00:00Z",
            "location": {"type": "Place", "name": "Cour", "address": {"type": "PostalAddress",
                         "streetAddress": " ", "postalCode": None, "addressLocality": "Nantes",
                         "addressCountry": "France"}},
            "attachment": [{"type": "Link", "href": "https://visio.example/room", "mediaType": "text/html",
                            "name": "Website"}],
        },
    }  # fmt: skip
    normalised = normalise(activity)
    assert "location" not in normalised["object"]  # schema.org's location, renamed by compaction
    fields = parse_event(normalised["object"])
    assert fields is not None
    assert fields.name == "Launch party" and fields.start == "2031-12-18T13:00:00Z"
    assert fields.end == "2031-12-18T14:00:00Z"
    assert fields.location == "Cour, Nantes, France"
    assert fields.online_url == "https://visio.example/room"


def test_gancio_and_friendica_places() -> None:
    gancio = {"type": "Event", "name": "Repair café", "startTime": "2031-12-20T10:00:00+01:00",
              "location": {"name": "Buurthuis", "address": "Dorpsstraat 1,\n Utrecht"}}  # fmt: skip
    fields = parse_event(gancio)
    assert fields is not None and fields.location == "Buurthuis, Dorpsstraat 1, Utrecht"
    friendica = {"type": "Event", "name": "Borrel", "startTime": "2031-12-20T17:00:00Z", "location": "Café De Zaak"}
    fields = parse_event(friendica)
    assert fields is not None and fields.location == "Café De Zaak" and fields.end is None
    by_link = {"type": "Event", "startTime": "2031-12-20T17:00:00Z", "location": "https://places.example/1"}
    fields = parse_event(by_link)
    assert fields is not None and fields.location == "" and fields.name == ""


def test_what_is_not_a_usable_event() -> None:
    assert not is_event({"type": "Note"}) and not is_event("Event") and not is_event({"type": ["Note", "Event"]})
    assert is_event({"type": "as:Event"})
    assert parse_event({"type": "Note", "startTime": "2031-01-01T00:00:00Z"}) is None
    assert parse_event({"type": "Event"}) is None  # no start
    assert parse_event({"type": "Event", "startTime": ["x" * 100]}) is None  # not a date of sane size
    hostile = {
        "type": "Event", "startTime": "2031-01-01T00:00:00Z", "name": "x" * 10_000,
        "location": {"name": {"nested": True}, "address": {"streetAddress": "y" * 10_000}},
        "attachment": [{"type": "Link", "href": "javascript:alert(1)"}, {"type": "Link", "href": "data:x"}],
    }  # fmt: skip
    fields = parse_event(hostile)
    assert fields is not None and len(fields.name) <= 200 and len(fields.location) <= 500
    assert fields.online_url is None
