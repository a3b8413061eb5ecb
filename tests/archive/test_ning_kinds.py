"""The pure reading of the rest of the Ning export: events (time zones, answers), photos and albums,
videos (embeds as links), music, pages and notes, profile answers; and the generator's files of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fediverse_a2.archive.ning_events import GOING, MAYBE, NOT_GOING, answer_for, parse_event, zone_for
from fediverse_a2.archive.ning_fields import NingRecordError
from fediverse_a2.archive.ning_files import iter_export, resolve_media
from fediverse_a2.archive.ning_gallery import parse_photo, parse_track, parse_video, video_link
from fediverse_a2.archive.ning_model import parse_member
from fediverse_a2.archive.ning_pages import page_slug, parse_page
from fediverse_a2.archive.ning_profile import read_profile
from ning_archive_gen import GeneratedArchive, generate_archive


def at(zone: str, *parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).timestamp()  # type: ignore[misc]


# -- events -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # A time without offset is the event's own zone ...
        ({"startDate": "2013-11-20T09:30:00", "timeZone": "Europe/Amsterdam"},
         at("Europe/Amsterdam", 2013, 11, 20, 9, 30)),
        ({"startDate": "2013-07-04T09:30:00", "timeZone": "America/New_York"},
         at("America/New_York", 2013, 7, 4, 9, 30)),
        ({"startDate": "2013-07-04 09:30", "timezone": "UTC"}, datetime(2013, 7, 4, 9, 30, tzinfo=UTC).timestamp()),
        ({"startDate": "2013-07-04T09:30:00", "timeZone": "+05:30"},
         datetime(2013, 7, 4, 4, 0, tzinfo=UTC).timestamp()),
        # ... else Amsterdam, summer time and winter time alike
        ({"startDate": "2013-07-04T09:30:00"}, datetime(2013, 7, 4, 7, 30, tzinfo=UTC).timestamp()),
        ({"startDate": "2013-01-04T09:30:00"}, datetime(2013, 1, 4, 8, 30, tzinfo=UTC).timestamp()),
        # an instant stays that instant whatever zone the event names
        ({"startDate": "2013-07-04T09:30:00.000Z", "timeZone": "America/New_York"},
         datetime(2013, 7, 4, 9, 30, tzinfo=UTC).timestamp()),
        ({"startDate": "2013-07-04T09:30:00+0200"}, datetime(2013, 7, 4, 7, 30, tzinfo=UTC).timestamp()),
    ],
)  # fmt: skip
def test_event_times_in_their_time_zone(record: dict[str, str], expected: float) -> None:
    event = parse_event({"id": "e1", "contributorName": "a", "title": "t", **record})
    assert event.starts_at == expected


def test_event_fields_answers_and_comments() -> None:
    event = parse_event(
        {
            "id": "2570916:Event:1", "contributorName": "org1", "title": "Dag van de Ambtenaar 2.0 &amp; meer",
            "description": "<p>Kom!</p>", "startDate": "2013-11-20T09:00:00", "endDate": "2013-11-20T17:00:00",
            "timeZone": "Europe/Amsterdam", "location": "Jaarbeurs &amp; zaal", "street": "Jaarbeursplein 6",
            "city": "Utrecht", "organizedBy": "Ambtenaar 2.0", "eventType": "Congres",
            "photoUrl": "events/flyer.jpg?width=600", "groupId": "g1",
            "attendees": [
                {"contributorName": "a", "attendeeStatus": "attending"},
                {"contributorName": "b", "attendeeStatus": "might attend"},
                {"contributorName": "c", "attendeeStatus": "Not Attending"},
                {"contributorName": "d", "attendeeStatus": "invited"},
                {"contributorName": "a", "attendeeStatus": "not_attending"},  # changed their mind: the last counts
                {"attendeeStatus": "attending"},
            ],
            "comments": [
                {"id": "c2", "contributorName": "b", "description": "later", "createdDate": "2013-11-02T10:00:00Z"},
                {"id": "c1", "contributorName": "a", "description": "first", "createdDate": "2013-11-01T10:00:00Z"},
            ],
        }
    )  # fmt: skip
    assert event.title == "Dag van de Ambtenaar 2.0 & meer" and event.location == "Jaarbeurs & zaal"
    assert event.address == "Jaarbeursplein 6, Utrecht" and event.time_zone == "Europe/Amsterdam"
    assert event.ends_at is not None and event.ends_at - event.starts_at == 8 * 3600
    assert event.photo == "events/flyer.jpg?width=600" and event.group_id == "g1"
    assert [(a.contributor_name, a.answer) for a in event.attendees] == [
        ("a", NOT_GOING), ("b", MAYBE), ("c", NOT_GOING), ("d", None)
    ]  # fmt: skip
    assert [c.id for c in event.comments] == ["c1", "c2"]  # oldest first
    assert "attendee without contributorName" in event.warnings


def test_event_odd_times() -> None:
    unknown = parse_event({"id": "e", "startDate": "2013-07-04T09:30:00", "timeZone": "Mars/Olympus"})
    assert unknown.time_zone == "Europe/Amsterdam" and unknown.starts_at == at("Europe/Amsterdam", 2013, 7, 4, 9, 30)
    assert any("unknown timeZone" in w for w in unknown.warnings)
    backwards = parse_event({"id": "e", "startDate": "2013-07-04T09:30:00", "endDate": "2013-07-03T09:30:00"})
    assert backwards.ends_at is None and any("before its startDate" in w for w in backwards.warnings)
    for record in ({"id": "e"}, {"id": "e", "startDate": "morgen"}):
        with pytest.raises(NingRecordError):
            parse_event(record)
    assert zone_for("../../etc/passwd") is None and zone_for("+25:00") is None and zone_for("") is None
    assert answer_for("Might Attend") == MAYBE and answer_for("attending") == GOING and answer_for(None) is None


# -- photos, videos, music ------------------------------------------------------------------------


def test_photo_album_fields() -> None:
    photo = parse_photo(
        {"id": "p1", "contributorName": "a", "title": "Foto &quot;buiten&quot;", "photoUrl": "photos/p1.jpg?width=10",
         "album": {"id": "al1", "title": "Album &amp; zo"}, "comments": []}
    )  # fmt: skip
    assert (photo.title, photo.album_id, photo.album_title) == ('Foto "buiten"', "al1", "Album & zo")
    assert photo.photo == "photos/p1.jpg?width=10"
    by_title = parse_photo({"id": "p2", "album": "Vakantie"})
    assert (by_title.album_id, by_title.album_title) == ("title:Vakantie", "Vakantie")
    alone = parse_photo({"id": "p3"})
    assert alone.album_id is None and "photo without photoUrl" in alone.warnings


@pytest.mark.parametrize(
    ("embed", "provider", "url"),
    [
        ('<iframe src="//www.youtube.com/embed/dQw4w9WgXcQ?wmode=opaque"></iframe>', "youtube",
         "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("<iframe src='https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ'></iframe>", "youtube",
         "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ('<object><param name="movie" value="http://www.youtube.com/v/9bZkp7q19f0&amp;hl=nl"></object>', "youtube",
         "https://www.youtube.com/watch?v=9bZkp7q19f0"),
        ("https://youtu.be/9bZkp7q19f0", "youtube", "https://www.youtube.com/watch?v=9bZkp7q19f0"),
        ('<iframe src="https://www.youtube.com/watch?v=9bZkp7q19f0&t=1"></iframe>', "youtube",
         "https://www.youtube.com/watch?v=9bZkp7q19f0"),
        ('<iframe src="https://player.vimeo.com/video/76979871?title=0"></iframe>', "vimeo", "https://vimeo.com/76979871"),
        ('<embed src="http://vimeo.com/moogaloop.swf?clip_id=1234&server=vimeo.com">', "vimeo", "https://vimeo.com/1234"),
        ('<iframe src="https://video.example.org/embed/42"></iframe>', "other", "https://video.example.org/embed/42"),
    ],
)  # fmt: skip
def test_video_embeds_become_links(embed: str, provider: str, url: str) -> None:
    link = video_link(embed)
    assert link is not None and (link.provider, link.url) == (provider, url)


@pytest.mark.parametrize(
    "embed", ["", "<iframe></iframe>", '<iframe src="javascript:alert(1)"></iframe>', "<b>geen video</b>"]
)
def test_embeds_without_a_usable_address(embed: str) -> None:
    assert video_link(embed) is None


def test_video_and_track_fields() -> None:
    video = parse_video(
        {"id": "v1", "title": "Film &amp; zo", "embedCode": '<iframe src="javascript:x"></iframe>',
         "previewFrameUrl": "videos/t.jpg?width=320"}
    )  # fmt: skip
    assert video.link is None and video.thumbnail == "videos/t.jpg?width=320"
    assert any("without a usable address" in w for w in video.warnings)
    uploaded = parse_video({"id": "v2", "embedCode": "", "videoAttachmentUrl": "videos/film.mp4"})
    assert uploaded.file == "videos/film.mp4" and not uploaded.warnings
    track = parse_track({"id": "t1", "title": "Lied", "artist": "Koor &amp; co", "trackUrl": "music/lied.mp3"})
    assert (track.artist, track.audio) == ("Koor & co", "music/lied.mp3")


# -- pages, notes, profile answers -----------------------------------------------------------------


def test_pages_and_notes() -> None:
    page = parse_page({"id": "pg1", "title": "Over Ambtenaar 2.0", "url": "https://x.ning.com/page/over"}, "pages")
    assert page.kind == "pages" and page.url == "https://x.ning.com/page/over"
    note = parse_page({"title": "Huisregels &amp; privacy", "description": "<p>x</p>"}, "notes")
    assert note.id == "notes:Huisregels & privacy" and note.title == "Huisregels & privacy"
    assert page_slug("Over Ambtenaar 2.0", "x") == "over-ambtenaar-2-0"
    assert page_slug("Huisregels & privacy", "x") == "huisregels-privacy"
    assert page_slug("李小龙", "notes:李小龙") == "notes" and page_slug("—", "—") == "pagina"


def test_profile_answers() -> None:
    profile = read_profile(
        {
            "profileQuestions": {
                "About Me": "<p>Ik werk bij de gemeente.</p>", "Organisatie:": "Gemeente &amp; Co",
                "Functie": ["Adviseur", "Projectleider"], "Geboortedatum": "1970-01-01", "Geslacht": "v",
                "Regio": "", "Website?": "https://example.nl",
            },
            "birthdate": "1970-01-01", "location": "Utrecht", "country": "NL",
        }
    )  # fmt: skip
    assert profile.about == "<p>Ik werk bij de gemeente.</p>"
    assert profile.fields == (
        ("Organisatie", "Gemeente & Co"), ("Functie", "Adviseur, Projectleider"), ("Website", "https://example.nl"),
        ("Plaats", "Utrecht, NL"),
    )  # fmt: skip
    assert profile.left_out == ("Geboortedatum", "Geslacht", "birthdate")
    as_list = read_profile(
        {"profileQuestions": [{"question": "Over mij", "answer": "Hallo"}, {"question": "Regio", "answer": "Oost"}]}
    )
    assert as_list.about == "Hallo" and as_list.fields == (("Regio", "Oost"),)
    assert read_profile({"profileQuestions": "garbage"}).fields == ()
    member = parse_member({"contributorName": "m1", "profileQuestions": {"About me": "Hoi"}, "birthdate": "x"})
    assert member.profile.about == "Hoi" and "profileQuestions" not in member.extra_fields


# -- the generated archive ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> GeneratedArchive:
    return generate_archive(tmp_path_factory.mktemp("ning") / "export", members=30, posts=12, comments_per_post=2)


def test_generated_events_read_back(archive: GeneratedArchive) -> None:
    events = {}
    skipped = 0
    for result in iter_export(archive.folder, "events"):
        assert result.data is not None
        try:
            event = parse_event(result.data)
        except NingRecordError:
            skipped += 1
            continue
        events[event.id] = event
    assert skipped == 1 and events.keys() == archive.events.keys()
    zones = {e.time_zone for e in events.values()}
    assert {"Europe/Amsterdam", "America/New_York", "UTC"} <= zones
    for eid, expected in archive.events.items():
        event = events[eid]
        assert (event.contributor_name, event.title, event.starts_at, event.ends_at, event.location) == (
            expected.author, expected.title, expected.starts_at, expected.ends_at, expected.location,
        )  # fmt: skip
        assert {a.contributor_name: a.answer for a in event.attendees if a.answer} == expected.answers
        assert [c.id for c in event.comments] == expected.comments
        if event.photo is not None:
            assert resolve_media(archive.folder, event.photo) is not None


def test_generated_photos_videos_music_pages_read_back(archive: GeneratedArchive) -> None:
    photos = {p.id: p for p in (parse_photo(r.data) for r in iter_export(archive.folder, "photos") if r.data)}
    assert photos.keys() == archive.photos.keys()
    for pid, expected in archive.photos.items():
        photo = photos[pid]
        assert (photo.title, photo.album_id, photo.group_id) == (expected.title, expected.album, expected.group)
        assert [c.id for c in photo.comments] == expected.comments
        assert photo.photo is not None and "?" in photo.photo  # the quirk: a query suffix on the path
        assert (resolve_media(archive.folder, photo.photo) is not None) is expected.has_file
    videos = {v.id: v for v in (parse_video(r.data) for r in iter_export(archive.folder, "videos") if r.data)}
    for vid, expected in archive.videos.items():
        video = videos[vid]
        assert (video.link.url if video.link else None) == expected.link
        assert video.thumbnail is not None and resolve_media(archive.folder, video.thumbnail) is not None
        assert (video.file is not None) is expected.upload
    tracks = [parse_track(r.data) for r in iter_export(archive.folder, "music") if r.data]
    assert {t.id: t.title for t in tracks} == archive.tracks
    assert all(t.audio and resolve_media(archive.folder, t.audio) for t in tracks)
    pages = [
        parse_page(r.data, kind) for kind in ("pages", "notes") for r in iter_export(archive.folder, kind) if r.data
    ]
    assert {p.id: (p.kind, p.title, len(p.comments)) for p in pages} == archive.pages


def test_generated_profile_answers(archive: GeneratedArchive, tmp_path: Path) -> None:
    members = [parse_member(r.data) for r in iter_export(archive.folder, "members") if r.data]
    for member in members:
        about, fields = archive.profiles[member.contributor_name]
        assert member.profile.about == about and list(member.profile.fields) == fields
        assert "Geboortedatum" in member.profile.left_out
