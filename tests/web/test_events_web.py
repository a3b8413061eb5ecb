"""Events on the web through real HTTP: creating one (times typed in Europe/Amsterdam, stored in UTC,
across summer time), the listing and the front page, answering (RSVP), commenting, editing and
cancelling (asked first), and the iCalendar feeds read back with `icalendar`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import icalendar
import pytest

from event_samples import DASH, utc
from fediverse_a2.models import GOING, MAYBE
from fediverse_a2.store import events
from helpers import AP, LiveServer, live_server
from html_check import check_html
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
FORM = {"title": "Dag van de Ambtenaar 2.0", "start": "2031-06-14T10:00", "end": "2031-06-14T17:00",
        "location": "Jaarbeurs", "address": "Jaarbeursplein 6, 3521 AL Utrecht",
        "link": "https://video.example.nl/dag", "body": "Het jaarlijkse **netwerkfeest**."}  # fmt: skip


@pytest.fixture
async def a2(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as server:
        await member_with_password(server, "alice", "Alice de Vries", PASSWORD)
        await member_with_password(server, "bob", "Bob Bakker", PASSWORD)
        yield server


async def _create(web: WebUser, **changes: str) -> httpx.Response:
    return await web.submit("/events/new", "/events/new", {**FORM, **changes})


def _id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_create_on_the_web_in_amsterdam_time(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as web:
        assert (await web.get("/events/new")).status_code == 303  # visitors sign in first
        await web.login("alice", PASSWORD)
        form = await web.get("/events/new")
        check_html(form.text)
        for name in ("title", "start", "end", "location", "address", "link", "body"):
            assert f'name="{name}"' in form.text
        assert 'type="datetime-local"' in form.text and "Europe/Amsterdam" in form.text
        created = await _create(web)
        event_id = _id(created)
        assert created.headers["location"] == f"{a2.base_url}/events/{event_id}"
        page = await web.get(f"/events/{event_id}")
    event = await events.by_id(a2.rt.db, event_id)
    assert event is not None and event.post.is_event
    # Summer time: 10:00-17:00 in Amsterdam is 08:00-15:00 UTC.
    assert (event.starts_at, event.ends_at) == (utc(2031, 6, 14, 8), utc(2031, 6, 14, 15))
    assert (event.location_name, event.location_address) == ("Jaarbeurs", "Jaarbeursplein 6, 3521 AL Utrecht")
    assert event.online_url == "https://video.example.nl/dag"
    check_html(page.text)
    assert f"zaterdag 14 juni 2031, 10.00{DASH}17.00" in page.text
    assert '<time class="dt-start" datetime="2031-06-14T08:00:00Z">' in page.text
    assert "Jaarbeursplein 6, 3521 AL Utrecht" in page.text and "<strong>netwerkfeest</strong>" in page.text
    assert 'href="https://video.example.nl/dag" rel="nofollow noopener noreferrer"' in page.text
    assert f'href="/events/{event_id}/edit"' in page.text  # the organiser's own
    # In English the same moment, in the same zone.
    async with WebUser(a2.base_url) as web:
        english = (await web.get(f"/events/{event_id}?lang=en")).text
    assert f"Saturday 14 June 2031, 10:00{DASH}17:00" in english and "times in Europe/Amsterdam" in english


async def test_times_across_summer_time(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        winter = _id(await _create(web, start="2031-01-15T10:00", end="2031-01-15T12:30"))
        # The night the clocks go back (26 October 2031): 02:30 happens twice; the first (summer time) counts.
        night = _id(await _create(web, start="2031-10-25T22:00", end="2031-10-26T02:30"))
        across = _id(await _create(web, start="2031-10-25T22:00", end="2031-10-26T04:00"))
        # The night they go forward (30 March 2031) has no 02:30.
        skipped = await _create(web, start="2031-03-30T02:30", end="2031-03-30T05:00")
        assert skipped.status_code == 400 and "de klok wordt dan een uur vooruit gezet" in skipped.text
        backwards = await _create(web, start="2031-06-14T17:00", end="2031-06-14T10:00")
        assert backwards.status_code == 400 and "eindigt voordat het begint" in backwards.text
        nonsense = await _create(web, start="morgen", end="2031-06-14T10:00")
        assert nonsense.status_code == 400 and "geen datum met tijd" in nonsense.text
        assert "morgen" in nonsense.text  # what was typed stays in the form
        offset = _id(await _create(web, start="2031-06-14T10:00+00:00", end="2031-06-14T11:00Z"))
        page = (await web.get(f"/events/{across}")).text
    found = {i: await events.by_id(a2.rt.db, i) for i in (winter, night, across, offset)}
    spans = {i: (e.starts_at, e.ends_at) for i, e in found.items() if e is not None}
    assert spans[winter] == (utc(2031, 1, 15, 9), utc(2031, 1, 15, 11, 30))
    assert spans[night] == (utc(2031, 10, 25, 20), utc(2031, 10, 26, 0, 30))
    # 22:00 summer time to 04:00 winter time: seven hours, not six.
    assert spans[across] == (utc(2031, 10, 25, 20), utc(2031, 10, 26, 3))
    assert spans[offset] == (utc(2031, 6, 14, 10), utc(2031, 6, 14, 11))
    assert f"zaterdag 25 oktober 2031, 22.00 {DASH} zondag 26 oktober 2031, 04.00" in page
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM events") == 4  # the refused ones stored nothing


async def test_listing_front_page_and_navigation(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        later = _id(await _create(web, title="Later", start="2032-02-01T09:00", end="2032-02-01T10:00"))
        sooner = _id(await _create(web, title="Eerder", start="2031-06-14T10:00", end="2031-06-14T11:00"))
        past = _id(await _create(web, title="Al geweest", start="2020-05-01T10:00", end="2020-05-01T11:00"))
    async with WebUser(a2.base_url) as visitor:
        listing = (await visitor.get("/events")).text
        home = (await visitor.get("/")).text
    check_html(listing)
    check_html(home)
    coming, gone = listing.split("<h2>Geweest</h2>")
    assert coming.index(f"/events/{sooner}") < coming.index(f"/events/{later}")
    assert f"/events/{past}" in gone and f"/events/{past}" not in coming
    assert 'href="/events.ics"' in listing
    assert 'href="/events"' in home and "Komende evenementen" in home
    assert f"/events/{sooner}" in home and f"/events/{past}" not in home
    # Events are no blog posts: not in the posts listing, the feed or the archive.
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        feed = (await client.get("/feed.atom")).text
        archive = (await client.get("/archive")).text
    assert "Eerder" not in feed and "Eerder" not in archive
    assert "Er zijn nog geen blogposts" in home


async def test_rsvp_on_the_web(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        event_id = _id(await _create(alice))
    path = f"/events/{event_id}"
    bob_uri = f"{a2.base_url}/users/bob"
    async with WebUser(a2.base_url) as visitor:
        page = (await visitor.get(path)).text
        assert 'action="/events/' not in page.split('id="answers"')[1].split("</section>")[0]
        refused = await visitor.client.post(f"{path}/rsvp", data={"status": GOING})
        assert refused.status_code == 303 and "/login" in refused.headers["location"]
    async with WebUser(a2.base_url) as bob:
        await bob.login("bob", PASSWORD)
        page = (await bob.get(path)).text
        check_html(page)
        assert 'name="status" value="going"' in page and 'value="none"' not in page
        answered = await bob.submit(path, f"{path}/rsvp", {"status": GOING})
        assert answered.status_code == 303 and answered.headers["location"].endswith(f"{path}#answers")
        assert await events.answer_of(a2.rt.db, event_id, bob_uri) == GOING
        page = (await bob.get(path)).text
        going = page[page.index("Aanwezig (1)") : page.index("Misschien (0)")]
        assert "Bob Bakker" in going
        assert 'id="rsvp-going" name="status" value="going" checked' in page
        await bob.submit(path, f"{path}/rsvp", {"status": MAYBE})
        page = (await bob.get(path)).text
        assert "Aanwezig (0)" in page and "Misschien (1)" in page
        # Refused: an unknown answer, no token, another site's form. Nothing changes.
        bad = await bob.submit(path, f"{path}/rsvp", {"status": "definitely"})
        assert bad.status_code == 400
        assert (await bob.submit(path, f"{path}/rsvp", {"status": GOING}, token=False)).status_code == 403
        foreign = await bob.submit(path, f"{path}/rsvp", {"status": GOING}, origin="http://evil.example")
        assert foreign.status_code == 403
        assert await events.answer_of(a2.rt.db, event_id, bob_uri) == MAYBE
        await bob.submit(path, f"{path}/rsvp", {"status": "none"})
        assert await events.answer_of(a2.rt.db, event_id, bob_uri) is None
    # An event that is over takes no more answers.
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        past = _id(await _create(alice, start="2020-05-01T10:00", end="2020-05-01T11:00"))
    async with WebUser(a2.base_url) as bob:
        await bob.login("bob", PASSWORD)
        page = (await bob.get(f"/events/{past}")).text
        assert "Dit evenement is al geweest." in page and 'name="status"' not in page
        late = await bob.submit(f"/events/{past}", f"/events/{past}/rsvp", {"status": GOING})
        assert late.status_code == 400 and "al geweest" in late.text
        assert await events.answer_of(a2.rt.db, past, bob_uri) is None


async def test_comment_edit_and_cancel(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        event_id = _id(await _create(alice))
        path = f"/events/{event_id}"
        # A comment under the event.
        commented = await alice.submit(path, f"{path}/comments", {"body": "Zaal 2, **na** de lunch."})
        assert commented.status_code == 303 and f"{path}#comment-" in commented.headers["location"]
        assert "<strong>na</strong> de lunch" in (await alice.get(path)).text
        # The edit form holds the times as they were typed, in Amsterdam time.
        form = (await alice.get(f"{path}/edit")).text
        check_html(form)
        assert 'value="2031-06-14T10:00"' in form and 'value="2031-06-14T17:00"' in form
        edited = await alice.submit(
            f"{path}/edit", f"{path}/edit", {**FORM, "title": "Dag 2.0", "end": "2031-06-14T18:00"}
        )
        assert edited.status_code == 303
        page = (await alice.get(path)).text
        assert "Dag 2.0" in page and f"10.00{DASH}18.00" in page and "bewerkt" in page
        async with WebUser(a2.base_url) as bob:
            await bob.login("bob", PASSWORD)
            assert (await bob.get(f"{path}/edit")).status_code == 403
            assert (await bob.get(f"{path}/cancel")).status_code == 403
            stolen = await bob.submit(path, f"{path}/cancel", {})
            assert stolen.status_code == 403
        # Cancelling asks first, on a page of its own; that page changes nothing.
        ask = await alice.get(f"{path}/cancel")
        check_html(ask.text)
        assert "Dag 2.0 afzeggen?" in ask.text and 'action="/events/' in ask.text
        assert (await alice.get(path)).status_code == 200
        done = await alice.submit(f"{path}/cancel", f"{path}/cancel", {})
        assert done.status_code == 303 and done.headers["location"] == f"{a2.base_url}/events"
        assert (await alice.get(path)).status_code == 410
        assert f"/events/{event_id}" not in (await alice.get("/events")).text
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        tombstone = await client.get(path, headers={"Accept": AP})
        assert tombstone.status_code == 410 and tombstone.json()["type"] == "Tombstone"
        assert (await client.get(f"{path}.ics")).status_code == 410


async def test_posts_address_of_an_event_redirects_and_the_post_editor_refuses_it(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        event_id = _id(await _create(alice))
        moved = await alice.get(f"/posts/{event_id}")
        assert moved.status_code == 301 and moved.headers["location"] == f"{a2.base_url}/events/{event_id}"
        assert (await alice.get(f"/posts/{event_id}/edit")).status_code == 404
        # Answering from one's own fediverse server passes the event on, by its own address only.
        event_url = quote(f"{a2.base_url}/events/{event_id}", safe="")
        assert (await alice.get(f"/interact?uri={event_url}")).status_code == 200
        post_url = quote(f"{a2.base_url}/posts/{event_id}", safe="")
        assert (await alice.get(f"/interact?uri={post_url}")).status_code == 404


async def test_icalendar_feeds_parse_back(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as alice:
        await alice.login("alice", PASSWORD)
        summer = _id(await _create(alice))
        winter = _id(await _create(alice, title="Winteroverleg", start="2031-12-18T14:00", end="2031-12-18T15:30",
                                   location="", address="", link=""))  # fmt: skip
        past = _id(await _create(alice, title="Oud", start="2020-01-01T10:00", end="2020-01-01T11:00"))
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        feed = await client.get("/events.ics")
        single = await client.get(f"/events/{summer}.ics")
    assert feed.status_code == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(feed.content)
    found = {str(v["uid"]): v for v in calendar.walk("VEVENT")}
    assert set(found) == {f"{a2.base_url}/events/{summer}", f"{a2.base_url}/events/{winter}"}  # not the past one
    assert f"{a2.base_url}/events/{past}" not in found
    day = found[f"{a2.base_url}/events/{summer}"]
    assert str(day["summary"]) == "Dag van de Ambtenaar 2.0"
    start, end = day.decoded("dtstart"), day.decoded("dtend")
    assert str(start.tzinfo) == "Europe/Amsterdam" and (start.hour, end.hour) == (10, 17)
    assert (start.timestamp(), end.timestamp()) == (utc(2031, 6, 14, 8), utc(2031, 6, 14, 15))
    assert str(day["location"]) == "Jaarbeurs, Jaarbeursplein 6, 3521 AL Utrecht"
    assert "netwerkfeest" in str(day["description"]) and "https://video.example.nl/dag" in str(day["description"])
    assert str(day["url"]) == f"{a2.base_url}/events/{summer}"
    cold = found[f"{a2.base_url}/events/{winter}"]
    assert cold.decoded("dtstart").timestamp() == utc(2031, 12, 18, 13) and "location" not in cold
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    one = icalendar.Calendar.from_ical(single.content)
    assert [str(v["uid"]) for v in one.walk("VEVENT")] == [f"{a2.base_url}/events/{summer}"]
    assert single.headers["content-disposition"] == f'inline; filename="event-{summer}.ics"'
