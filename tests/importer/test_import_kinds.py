"""`import ning` of everything else the archiver writes, through the CLI and real HTTP: the report per
kind (and its CSV), photos and albums, videos, music, the network's pages, profile answers, private
groups with their members; a second run adds nothing."""

from __future__ import annotations

import csv
import html
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest

from fediverse_a2.services.accounts import set_password
from fediverse_a2.store import members
from helpers import AP, LiveServer, cli, kill_at_line, live_server, write_config
from html_check import check_html
from media_samples import photo
from ning_archive_gen import GeneratedArchive, generate_archive
from webclient import WebUser

PASSWORD = "een lang genoeg wachtwoord"
EXIF_SECRET = "GPS 52.37N 4.89E"


def make_archive(folder: Path) -> GeneratedArchive:
    """A generated export whose first album's photos and first video's thumbnail are real JPEGs (with EXIF)."""
    archive = generate_archive(folder, members=30, posts=12, comments_per_post=2)
    for n in (1, 2, 4):
        (folder / "photos" / f"foto{n}.jpg").write_bytes(photo((64 + n, 48)))
    (folder / "videos" / "thumb1.jpg").write_bytes(photo((32, 18)))
    return archive


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as a2:
        yield a2


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_import(server: LiveServer, folder: Path, *extra: str) -> str:
    return cli(server.config_path, "import", "ning", str(folder), *extra, timeout=120).stdout


def report_of(out: str) -> dict[str, tuple[int, int, int, int]]:
    """kind -> (found, imported, already there, skipped) from the printed report."""
    found = {}
    for m in re.finditer(r"^  (\w[\w ]*): (\d+) found, (\d+) imported, (\d+) already there, (\d+) skipped$", out, re.M):
        found[m[1]] = (int(m[2]), int(m[3]), int(m[4]), int(m[5]))
    return found


async def post_of(server: LiveServer, legacy_id: str) -> tuple[int, str]:
    row = await server.rt.db.fetchone("SELECT id, state FROM posts WHERE legacy_id = ?", (legacy_id,))
    assert row is not None, legacy_id
    return int(row["id"]), str(row["state"])


async def test_the_report_counts_every_kind_and_is_written_as_csv(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    out = run_import(server, archive.folder, "--report", str(tmp_path / "report.csv"))
    report = report_of(out)
    for kind in ("members", "posts", "comments", "groups", "discussions", "events", "albums", "photos", "videos",
                 "music", "pages", "files"):  # fmt: skip
        found, imported, existing, skipped = report[kind]
        assert found == imported + existing + skipped, kind  # nothing dropped without a line
    assert report["members"] == (archive.counts["members"], len(archive.members), 0, 1)
    assert report["posts"] == (archive.counts["blogs"], len(archive.posts), 0, 2)
    assert report["photos"] == (archive.counts["photos"], archive.counts["photos"], 0, 0)
    assert report["videos"] == (archive.counts["videos"], archive.counts["videos"], 0, 0)
    assert report["music"] == (2, 2, 0, 0)
    assert report["pages"] == (len(archive.pages), len(archive.pages), 0, 0)
    assert report["groups"] == (len(archive.groups), len(archive.groups), 0, 0)
    assert report["discussions"][0] == archive.counts["discussions"] and report["discussions"][3] == 1
    assert report["events"][0] == archive.counts["events"]
    assert "record 6 of ning-events.json: event without a readable startDate" in out
    # every file the -local twins name: copied, or a line why not
    assert report["files"][1] > 0 and "an unsafe path (outside the export folder), not read" in out
    assert "skipped 1: not in the export folder" in out or "not in the export folder" in out  # the missing photo
    with (tmp_path / "report.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["kind", "outcome", "count", "reason"]
    by_kind: dict[str, dict[str, int]] = {}
    for kind, outcome, count, reason in rows[1:]:
        totals = by_kind.setdefault(kind, {})
        totals[outcome] = totals.get(outcome, 0) + int(count)
        assert (outcome == "skipped") == bool(reason)
    for kind, (found, imported, existing, skipped) in report.items():
        totals = by_kind[kind]
        assert (totals["found"], totals["imported"], totals["already there"]) == (found, imported, existing), kind
        assert totals.get("skipped", 0) == skipped, kind
    assert out.strip().splitlines()[-1] == f"report written to {tmp_path / 'report.csv'}"
    # A report that cannot be written is said before anything is imported.
    bad = cli(server.config_path, "import", "ning", str(archive.folder), "--report", "/nonexistent/r.csv", check=False)
    assert bad.returncode != 0 and "cannot write the report" in bad.stderr and len(bad.stderr.splitlines()) == 1


async def test_photos_videos_music_and_pages_on_the_web(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server, archive.folder)
    base = server.base_url
    db = server.rt.db
    album_1 = [pid for pid, p in archive.photos.items() if p.album == "2570916:Album:1"]
    album_2 = [pid for pid, p in archive.photos.items() if p.album == "2570916:Album:2"]
    alone = [pid for pid, p in archive.photos.items() if p.album is None]
    assert album_1 and album_2 and alone
    async with server.client() as visitor:
        # An album is one post: each photo a figure, its description as alt text, its comments kept with it.
        post_id, state = await post_of(server, "album:2570916:Album:2")
        assert state == "published"
        page = (await visitor.get(f"/posts/{post_id}")).text
        check_html(page)
        assert page.count("<figure>") == len(album_2) and "Album 2 &amp; zo" in page
        assert "[foto niet in het archief]" in page  # photo 3's file is missing: said, not dropped
        for pid in album_2:
            assert html.escape(archive.photos[pid].title, quote=False) in page
            for cid in archive.photos[pid].comments:
                found = await db.fetchone("SELECT post_id, content_html FROM comments WHERE legacy_id = ?", (cid,))
                assert found["post_id"] == post_id and "Bij de foto" in found["content_html"]
            r = await visitor.get(f"/xn/detail/{pid}")
            assert (r.status_code, r.headers["location"]) == (301, server.rt.urls.post(post_id))
        images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page)
        real = [(src, alt) for src, alt in images if src.startswith(f"{base}/media/")]
        assert real and all(alt for _, alt in real)  # described: the photo's description, else its title
        media_file = real[0][0].removeprefix(f"{base}/media/")
        data = (tmp_path / "a2/media" / media_file).read_bytes()
        assert EXIF_SECRET.encode() not in data  # re-encoded, metadata stripped
        # A photo in no album is a post of its own.
        lone_id, _ = await post_of(server, f"photo:{alone[0]}")
        assert html.escape(archive.photos[alone[0]].title, quote=False) in (await visitor.get(f"/posts/{lone_id}")).text
        # Album 1 lies in a private group: for that group's members only.
        private_album, state = await post_of(server, "album:2570916:Album:1")
        assert state == "group"
        assert (await visitor.get(f"/posts/{private_album}")).status_code == 303

        # Videos: a link to the provider's page with the title (and the thumbnail when archived), never an iframe.
        for vid, expected in archive.videos.items():
            video_id, _ = await post_of(server, vid)
            text = (await visitor.get(f"/posts/{video_id}")).text
            assert "<iframe" not in text and "<object" not in text and "<embed" not in text
            if expected.link is not None:
                assert f'<a href="{html.escape(expected.link)}"' in text
            if expected.upload:
                url = re.search(r'Bijlagen: <a href="([^"]+)"', text)[1]  # type: ignore[index]
                r = await visitor.get(url)
                assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
                assert r.headers["content-disposition"].startswith("attachment")
        first, _ = await post_of(server, "2570916:Video:1")
        text = (await visitor.get(f"/posts/{first}")).text
        assert re.search(r'<a href="https://www.youtube.com/watch\?v=dQw4w9WgXcQ"[^>]*><img src="[^"]*/media/', text)

        # Music: the track's audio, attached and served from here.
        track_id, _ = await post_of(server, "2570916:Track:1")
        text = (await visitor.get(f"/posts/{track_id}")).text
        assert "Het Ambtenarenkoor" in text
        r = await visitor.get(re.search(r'Bijlagen: <a href="([^"]+)"', text)[1])  # type: ignore[index]
        assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg" and r.content.startswith(b"ID3")

        # The network's pages: /pages/SLUG, in every page's footer, the old addresses lead there.
        about = await visitor.get("/pages/over-ambtenaar-2-0")
        assert about.status_code == 200 and "Over Ambtenaar 2.0" in about.text
        check_html(about.text)
        assert "Reacties" in about.text and "Reactie van" in about.text  # its comments kept with it
        footer = (await visitor.get("/")).text.split('<footer class="site">', 1)[1]
        assert f'href="{base}/pages/over-ambtenaar-2-0"' in footer
        assert f'href="{base}/pages/notitie-1-wiki-meer"' in footer
        assert "Huisregels &amp; privacy" in footer
        r = await visitor.get("/page/pagina-1")
        assert (r.status_code, r.headers["location"]) == (301, f"{base}/pages/over-ambtenaar-2-0")
        r = await visitor.get("/xn/detail/2570916:Page:2")
        assert (r.status_code, r.headers["location"]) == (301, f"{base}/pages/huisregels-privacy")
        assert (await visitor.get("/pages/niet-bestaand")).status_code == 404
        note = (await visitor.get("/pages/notitie-1-wiki-meer", headers={"Accept-Language": "en"})).text
        assert "Notitie 1: wiki &amp; meer" in note


async def test_profile_answers_become_the_summary_and_private_fields(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server, archive.folder)
    cn, (about, fields) = next((cn, p) for cn, p in archive.profiles.items() if archive.members[cn][1] == "active")
    username = await server.rt.db.fetchval("SELECT username FROM members WHERE legacy_id = ?", (cn,))
    birth = await server.rt.db.fetchval("SELECT COUNT(*) FROM members WHERE hidden_fields LIKE '%1970-%'")
    assert birth == 0  # the birth date is not imported
    async with server.client() as visitor:
        actor = (await visitor.get(f"/users/{username}", headers={"Accept": AP})).json()
        assert re.sub(r"<[^>]+>", "", about) in actor["summary"]
        assert actor["attachment"] == []  # the answers are private until the member shows them
        profile = (await visitor.get(f"/users/{username}")).text
        assert fields[0][1] not in profile and fields[1][1] not in profile
        # Nor does the member directory find anyone by them.
        found = (await visitor.get("/members", params={"q": fields[1][1]})).text
        assert "Geen leden gevonden" in found and f"/users/{username}" not in found
    member = await members.by_username(server.rt.db, username)
    assert member is not None and list(member.hidden_fields) == fields
    await set_password(server.rt, member, PASSWORD)
    async with WebUser(server.base_url) as web:
        await web.login(username, PASSWORD)
        settings = (await web.get("/settings/profile")).text
        check_html(settings)
        for name, value in fields:
            assert html.escape(name) in settings and html.escape(value) in settings
        r = await web.submit("/settings/profile", "/settings/profile/fields", {"field": "1", "action": "show"})
        assert r.status_code == 200
        r = await web.submit("/settings/profile", "/settings/profile/fields", {"field": "0", "action": "forget"})
        assert r.status_code == 200
        r = await web.submit("/settings/profile", "/settings/profile/fields", {"field": "99", "action": "show"})
        assert r.status_code == 400
    async with server.client() as visitor:
        actor = (await visitor.get(f"/users/{username}", headers={"Accept": AP})).json()
        assert actor["attachment"] == [{"type": "PropertyValue", "name": fields[1][0],
                                        "value": html.escape(fields[1][1])}]  # fmt: skip
        # The answer shown is found in the directory; of everyone who gave it, only this member.
        found = (await visitor.get("/members", params={"q": fields[1][1]})).text
        assert f"/users/{username}" in found and len(re.findall(r'class="[^"]*h-card', found)) == 1
    member = await members.by_username(server.rt.db, username)
    assert member is not None and list(member.hidden_fields) == fields[2:]


async def test_a_private_ning_group_is_members_only_with_its_members(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server, archive.folder)
    db = server.rt.db
    gid, (title, _, group_members) = next((g, v) for g, v in archive.groups.items() if v[1])
    topic, visibility = await db.fetchone(
        "SELECT username, group_visibility FROM members WHERE legacy_id = ?", (f"group:{gid}",)
    )
    assert visibility == "members"
    rows = await db.fetchall(
        "SELECT m.legacy_id FROM group_members g JOIN members m ON m.id = g.member_id "
        "JOIN members k ON k.id = g.group_id WHERE k.username = ?",
        (topic,),
    )
    joined = {r[0] for r in rows}
    # Its members, owner and admins (not the invited or banned); one may be an archive author only.
    assert joined <= group_members and group_members & archive.members.keys() <= joined
    discussion = next(d for d, (g, _) in archive.discussions.items() if g == gid)
    post_id, state = await post_of(server, discussion)
    assert state == "group"
    inside = next(m for m in group_members if m in archive.members and archive.members[m][1] == "active")
    outside = next(m for m, v in archive.members.items() if v[1] == "active" and m not in group_members)
    for cn in (inside, outside):
        member = await members.by_username(
            db, await db.fetchval("SELECT username FROM members WHERE legacy_id = ?", (cn,))
        )
        assert member is not None
        await set_password(server.rt, member, PASSWORD)
    async with server.client() as visitor:
        assert (await visitor.get(f"/posts/{post_id}")).status_code == 303
        assert html.escape(title) not in (await visitor.get("/")).text
        assert (await visitor.get(f"/posts/{post_id}", headers={"Accept": AP})).status_code == 404
    for cn, sees in ((inside, True), (outside, False)):
        username = await db.fetchval("SELECT username FROM members WHERE legacy_id = ?", (cn,))
        async with WebUser(server.base_url) as web:
            await web.login(username, PASSWORD)
            r = await web.get(f"/posts/{post_id}")
            assert r.status_code == (200 if sees else 404), cn
            group_page = (await web.get(f"/groups/{topic}")).text
            assert (f"/posts/{post_id}" in group_page) is sees
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0


async def test_a_second_run_adds_nothing(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server, archive.folder)
    tables = ("members", "posts", "comments", "activities", "legacy_redirects", "media", "site_pages",
              "group_members", "group_posts")  # fmt: skip
    before = {t: await server.rt.db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in tables}
    files = sorted(p.name for p in (tmp_path / "a2/media").rglob("*"))
    again = report_of(run_import(server, archive.folder))
    for kind, (found, imported, existing, skipped) in again.items():
        assert imported == 0 and existing + skipped == found, kind
    assert again["members"][2] == len(archive.members) and again["photos"][2] == archive.counts["photos"]
    assert "files" not in again  # nothing new was read, so no file was copied (or looked at)
    assert {t: await server.rt.db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in tables} == before
    assert sorted(p.name for p in (tmp_path / "a2/media").rglob("*")) == files


def test_an_import_killed_among_the_photos_finishes_when_run_again(tmp_path: Path) -> None:
    archive = generate_archive(tmp_path / "export", members=20, posts=5, comments_per_post=1, photos=900, videos=0)
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")
    argv = [sys.executable, "-m", "fediverse_a2", "--config", str(config), "import", "ning", str(archive.folder)]
    # Killed once a first batch of albums is committed.
    assert kill_at_line([*argv, "--batch-size", "5"], "photos:") == -signal.SIGKILL

    def photo_posts() -> tuple[int, int]:
        conn = sqlite3.connect(tmp_path / "a2/data/db.sqlite3")
        try:
            posts = conn.execute(
                "SELECT COUNT(*) FROM posts WHERE legacy_id LIKE 'album:%' OR legacy_id LIKE 'photo:%'"
            ).fetchone()[0]
            comments = conn.execute(
                "SELECT COUNT(*) FROM comments WHERE legacy_id LIKE '2570916:Comment:p%'"
            ).fetchone()[0]
        finally:
            conn.close()
        return int(posts), int(comments)

    posts, _ = photo_posts()
    albums = {(p.album or pid, p.group) for pid, p in archive.photos.items()}
    assert 0 < posts < len(albums), "the kill should land among the photos"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True)
    report = report_of(done.stdout)
    assert report["albums"][2] == posts and report["albums"][1] == len(albums) - posts  # the rest, once
    assert report["photos"][1] + report["photos"][2] == len(archive.photos)
    assert photo_posts() == (len(albums), sum(len(p.comments) for p in archive.photos.values()))


async def test_events_come_home_with_their_times_answers_and_comments(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    out = run_import(server, archive.folder)
    db = server.rt.db
    assert report_of(out)["events"] == (archive.counts["events"], len(archive.events), 0, 1)
    public = [e for e in archive.events.values() if e.group is None or not archive.groups[e.group][1]]
    assert f"imported {len(public)} events" in out
    base = server.base_url
    usernames = {
        str(r[0]): str(r[1])
        for r in await db.fetchall("SELECT legacy_id, username FROM members WHERE legacy_id IS NOT NULL")
    }
    future = next(eid for eid, e in archive.events.items() if e.starts_at > 1.9e9)
    async with server.client() as visitor:
        for eid, expected in archive.events.items():
            row = await db.fetchone(
                "SELECT p.id, p.kind, p.state, p.title, e.starts_at, e.ends_at, e.location_name FROM posts p "
                "JOIN events e ON e.post_id = p.id WHERE p.legacy_id = ?",
                (eid,),
            )
            assert row is not None, eid
            private = expected.group is not None and archive.groups[expected.group][1]
            assert (row["kind"], row["state"]) == ("event", "group" if private else "published")
            # the instant in UTC, read in the event's own time zone
            assert (row["title"], row["starts_at"], row["ends_at"]) == (
                expected.title,
                expected.starts_at,
                expected.ends_at,
            )
            assert row["location_name"] == expected.location
            answers = {
                str(r[0]).rsplit("/", 1)[1]: str(r[1])
                for r in await db.fetchall("SELECT actor_uri, status FROM event_rsvps WHERE post_id = ?", (row["id"],))
            }
            assert answers == {usernames[cn]: status for cn, status in expected.answers.items() if cn in usernames}
            comments = await db.fetchall(
                "SELECT legacy_id FROM comments WHERE post_id = ? ORDER BY published, id", (row["id"],)
            )
            assert [r[0] for r in comments] == expected.comments
            r = await visitor.get(f"/xn/detail/{eid}")
            assert (r.status_code, r.headers["location"]) == (301, f"{base}/events/{row['id']}")
            page = await visitor.get(f"/events/{row['id']}")
            ics = await visitor.get(f"/events/{row['id']}.ics")
            if private:  # a private group's event: for that group's members only
                assert page.status_code == 303 and ics.status_code == 404
                assert (await visitor.get(f"/events/{row['id']}", headers={"Accept": AP})).status_code == 404
                continue
            assert page.status_code == 200 and html.escape(expected.title, quote=False) in page.text
            check_html(page.text)
            going = [cn for cn, status in expected.answers.items() if status == "going" and cn in archive.members]
            assert all(html.escape(archive.members[cn][0], quote=False) in page.text for cn in going)
            one = icalendar.Calendar.from_ical(ics.content)
            [vevent] = one.walk("VEVENT")
            assert vevent.decoded("dtstart").timestamp() == expected.starts_at
            assert str(vevent["summary"]) == expected.title and expected.location in str(vevent["location"])
            doc = (await visitor.get(f"/events/{row['id']}", headers={"Accept": AP})).json()
            assert doc["type"] == "Event" and doc["startTime"] == iso(expected.starts_at)
            outbox = await db.fetchval("SELECT COUNT(*) FROM activities WHERE object_id = ? AND type = 'Create'",
                                       (f"{base}/events/{row['id']}",))  # fmt: skip
            assert outbox == 1  # its Create stored in the organiser's outbox, dated then; never sent
        listing = (await visitor.get("/events")).text
        assert html.escape(archive.events[future].title, quote=False) in listing
        feed = icalendar.Calendar.from_ical((await visitor.get("/events.ics")).content)
        assert [v.decoded("dtstart").timestamp() for v in feed.walk("VEVENT")] == [archive.events[future].starts_at]
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    again = report_of(run_import(server, archive.folder))
    assert again["events"] == (archive.counts["events"], 0, len(archive.events), 1)
    assert again["answers"][1] == 0
