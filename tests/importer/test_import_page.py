"""`fediverse-a2 import page`: pages saved from the old site, through the CLI and real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fediverse_a2.federation.delivery import Deliverer
from fediverse_a2.services.members import add_member
from fediverse_a2.store import follows
from helpers import AP, FIXTURES, LiveServer, cli, last_line, live_server
from media_samples import PHONE, reveals, tagged_images

FIXTURE = FIXTURES / "archive" / "ambtenaar20-blogpost.txt"  # a copy of ../shared/fixtures
TITLE = "Programma Ambtenaar 2.0 stopt. Netwerk gaat door."
COMMENTS = [  # the page's comments, oldest first, in UTC (the page shows Amsterdam time)
    ("Henny van Doorn", datetime(2013, 12, 16, 13, 34, tzinfo=UTC)),
    ("Wilbert Schermer Voest", datetime(2013, 12, 18, 16, 10, tzinfo=UTC)),
    ("GJA van de Bovenkamp", datetime(2014, 2, 20, 14, 13, tzinfo=UTC)),
    ("GJA van de Bovenkamp", datetime(2014, 2, 20, 14, 16, tzinfo=UTC)),
]
HTML_PAGE = (
    "<!-- saved from url=(0060)https://ambtenaar20.ning.com/profiles/blogs/kaal -->\n<html><body>"
    "<div>Ambtenaar 2.0</div><h1>Kale pagina</h1><p>Eerste <b>alinea</b>.</p><p>Tweede<br>regel.</p>"
    "<p>Weergaven: 7</p><div>Reactie van Henny van Doorn op 2 januari 2014 op 10.00</div><div>Hallo!</div>"
    "<p>© 2018 Gemaakt door iemand</p></body></html>"
)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as a2:
        await add_member(a2.rt, "redactie", "Redactie Ambtenaar 2.0")
        await add_member(a2.rt, "henny", "Henny van Doorn")  # matched by full name
        yield a2


async def test_the_fixture_page_becomes_a_post_with_every_comment_and_its_views(server: LiveServer) -> None:
    assert FIXTURE.is_file()
    proc = cli(server.config_path, "import", "page", str(FIXTURE), "--author", "redactie")
    url = last_line(proc)
    post_id = server.rt.urls.post_id(url)
    assert post_id is not None and "imported 1 posts" in proc.stdout and "imported 4 comments" in proc.stdout
    db = server.rt.db
    post = await db.fetchone("SELECT * FROM posts WHERE id = ?", (post_id,))
    assert (post["title"], post["views"], post["state"], post["source"]) == (TITLE, 808, "published", "page")
    assert post["published"] == COMMENTS[0][1].timestamp()  # the page has no date: its first comment's
    for chrome in ("Je moet lid zijn", "Word lid van", "Weergaven", "Reactie van"):
        assert chrome not in post["content_html"]
    assert "<p>Het voortbestaan van Ambtenaar 2.0" in post["content_html"]
    rows = await db.fetchall(
        "SELECT c.published, c.content_html, m.name, m.username, m.state, m.legacy_id FROM comments c "
        "JOIN members m ON m.id = c.member_id WHERE c.post_id = ? ORDER BY c.published, c.id",
        (post_id,),
    )
    assert [(r["name"], r["published"]) for r in rows] == [(n, d.timestamp()) for n, d in COMMENTS]
    assert rows[0]["username"] == "henny"  # an existing member of that name
    assert {r["state"] for r in rows[1:]} == {"left"}  # archive authors by name, one per name
    assert rows[2]["username"] == rows[3]["username"] and rows[1]["legacy_id"] == "name:Wilbert Schermer Voest"
    assert "Rijlands praktijkboekje" in rows[2]["content_html"] and "☺" in rows[3]["content_html"]

    async with server.client(headers={"Accept": AP}) as http:
        note = (await http.get(url)).json()
        assert note["type"] == "Note" and note["published"] == "2013-12-16T13:34:00Z"
        assert TITLE in note["content"]
        replies = note["replies"]["first"]["orderedItems"]
        assert len(replies) == 4
        published = [(await http.get(r)).json()["published"] for r in replies]
        assert published == [d.strftime("%Y-%m-%dT%H:%M:%SZ") for _, d in COMMENTS]
    async with server.client(headers={"User-Agent": "Mozilla/5.0 (X11)"}) as http:
        page = await http.get(url)
        assert page.status_code == 200 and TITLE in page.text
        assert ": 809" in page.text  # the view counter continues from 808
        found = await http.get("/search", params={"q": "Rijlandse praktijkboekje"})  # words of a comment
        assert found.status_code == 200 and TITLE in found.text
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0


async def test_importing_a_page_again_changes_nothing(server: LiveServer) -> None:
    first = last_line(cli(server.config_path, "import", "page", str(FIXTURE), "--author", "redactie"))
    db = server.rt.db
    counts = [await db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in ("posts", "comments", "members", "activities")]
    again = cli(server.config_path, "import", "page", str(FIXTURE), "--author", "redactie")
    assert last_line(again) == first
    assert "imported 0 posts (1 already there)" in again.stdout
    assert [await db.fetchval(f"SELECT COUNT(*) FROM {t}") for t in ("posts", "comments", "members", "activities")] == (
        counts
    )


async def test_an_html_page_keeps_its_old_address_and_is_never_pushed(server: LiveServer, tmp_path: Path) -> None:
    rt = server.rt
    redactie = await rt.db.fetchval("SELECT id FROM members WHERE username = 'redactie'")
    await follows.add_follower(
        rt.db, redactie, "http://127.0.0.1:9/users/f", "http://127.0.0.1:9/inbox", None, "127.0.0.1", None
    )
    page = tmp_path / "kaal.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    dry = cli(server.config_path, "import", "page", str(page), "--author", "redactie", "--dry-run")
    assert "would import 1 posts" in dry.stdout and await rt.db.fetchval("SELECT COUNT(*) FROM posts") == 0
    url = last_line(cli(server.config_path, "import", "page", str(page), "--author", "redactie"))
    assert await Deliverer(rt).run_once() == 0
    assert await rt.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    assert await rt.db.fetchval("SELECT views FROM posts WHERE id = ?", (rt.urls.post_id(url),)) == 7
    async with server.client() as http:
        r = await http.get("/profiles/blogs/kaal")
        assert (r.status_code, r.headers["location"]) == (301, url)
        assert (await http.get("/profiles/blogs/onbekend")).status_code == 404
    assert f"/profiles/blogs/kaal,{url},page" in cli(server.config_path, "import", "map").stdout


async def test_several_pages_print_their_urls_in_order(server: LiveServer, tmp_path: Path) -> None:
    page = tmp_path / "kaal.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    proc = cli(server.config_path, "import", "page", str(FIXTURE), str(page), "--author", "redactie")
    urls = [line for line in proc.stdout.splitlines() if line.startswith(server.base_url)]
    assert len(urls) == 2 and proc.stdout.rstrip().endswith(urls[1])
    # The same commenter on two pages is one member.
    assert await server.rt.db.fetchval("SELECT COUNT(*) FROM members WHERE name = 'Henny van Doorn'") == 1


def test_page_errors_are_one_line(tmp_path: Path) -> None:
    from helpers import write_config

    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")
    cli(config, "member", "add", "redactie", "--name", "Redactie")
    empty = tmp_path / "leeg.txt"
    empty.write_text("", encoding="utf-8")
    for args, message in [
        ([str(tmp_path / "missing.txt")], "page not found"),
        ([str(tmp_path)], "not a file"),
        ([str(empty)], "does not look like a saved page"),
    ]:
        proc = cli(config, "import", "page", *args, "--author", "redactie", check=False)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def _saved_page(folder: Path, secret: str) -> tuple[Path, bytes]:
    """`Verslag dag 1.html` with its `Verslag dag 1_files/` as a browser saves it: two images there
    (carrying `secret` in EXIF and in PNG text), one missing, one not an image, an escape out of the
    folder and a link out of it, and a remote image."""
    folder.mkdir()
    files = folder / "Verslag dag 1_files"
    files.mkdir()
    tagged = tagged_images(secret)
    (files / "foto 1.jpg").write_bytes(tagged["jpeg-exif"])
    (files / "logo.png").write_bytes(tagged["png-itxt"])
    (files / "kapot.jpg").write_bytes(b"<html>no image</html>")
    (folder / "geheim.jpg").write_bytes(tagged["jpeg-comment"])  # beside the folder: never read
    (files / "link.jpg").symlink_to(folder / "geheim.jpg")  # a link out of the folder
    body = (
        '<p>Dag een.</p><p><img src="Verslag%20dag%201_files/foto%201.jpg" alt="De zaal"></p>'
        '<p><img src="./Verslag dag 1_files/logo.png" title="Het logo"></p>'
        '<p><img src="Verslag%20dag%201_files/weg.jpg" alt="Kwijt"></p>'
        '<p><img src="Verslag%20dag%201_files/kapot.jpg" alt="Kapot"></p>'
        '<p><img src="Verslag%20dag%201_files/../geheim.jpg" alt="Ontsnapt"></p>'
        '<p><img src="Verslag%20dag%201_files/link.jpg" alt="Gelinkt"></p>'
        '<p><img src="https://elders.example/plaatje.png" alt="Elders"></p>'
        '<p><img src="Verslag%20dag%201_files/foto%201.jpg" alt="Nog eens"></p>'
    )
    page = folder / "Verslag dag 1.html"
    page.write_text(
        "<html><head><title>Verslag dag 1 - Ambtenaar 2.0</title></head><body><h1>Verslag dag 1</h1>"
        f'<div class="xg_user_generated">{body}</div><p>Weergaven: 3</p></body></html>',
        encoding="utf-8",
    )
    return page, tagged["jpeg-exif"]


async def test_the_images_saved_beside_a_page_become_the_authors_media(server: LiveServer, tmp_path: Path) -> None:
    secret = PHONE
    page, original = _saved_page(tmp_path / "opgeslagen", secret)
    media_before = sorted(p.name for p in server.rt.config.media_path.glob("*"))
    dry = cli(server.config_path, "import", "page", str(page), "--author", "redactie", "--dry-run")
    assert await server.rt.db.fetchval("SELECT COUNT(*) FROM media") == 0
    assert sorted(p.name for p in server.rt.config.media_path.glob("*")) == media_before  # a dry run writes nothing
    assert "weg.jpg" in dry.stderr

    proc = cli(server.config_path, "import", "page", str(page), "--author", "redactie")
    warnings = proc.stderr.splitlines()
    assert f"warning: {page}: image Verslag%20dag%201_files/weg.jpg is not in Verslag dag 1_files; left out" in warnings
    assert f"warning: {page}: Verslag%20dag%201_files/kapot.jpg is not an image; left out" in warnings
    assert any("../geheim.jpg" in w and "is outside Verslag dag 1_files; not read" in w for w in warnings)
    assert any("link.jpg" in w and "is outside Verslag dag 1_files; not read" in w for w in warnings)
    assert not any("elders.example" in w or "foto%201" in w or "logo" in w for w in warnings)
    url = last_line(proc)
    post_id = server.rt.urls.post_id(url)
    db = server.rt.db
    redactie = await db.fetchval("SELECT id FROM members WHERE username = 'redactie'")
    rows = await db.fetchall("SELECT member_id, file_name, alt, original_name FROM media ORDER BY id")
    assert [(r["member_id"], r["alt"], r["original_name"]) for r in rows] == [
        (redactie, "De zaal", "foto 1.jpg"),
        (redactie, "Het logo", "logo.png"),  # no alt: its title
    ]
    own = server.rt.urls.media("")
    content = await db.fetchval("SELECT content_html FROM posts WHERE id = ?", (post_id,))
    for gone in ("weg.jpg", "kapot.jpg", "geheim", "link.jpg", "_files", "Kwijt", "Kapot", "Ontsnapt", "Gelinkt"):
        assert gone not in content
    assert content.count(f'src="{own}{rows[0]["file_name"]}"') == 2

    async with server.client(headers={"User-Agent": "Mozilla/5.0 (X11)"}) as http:
        shown = (await http.get(url)).text
        sources = re.findall(r'<img src="([^"]+)"', shown.split('class="e-content"', 1)[1].split("</div>", 1)[0])
        assert len(sources) == 4 and all(s.startswith(server.base_url + "/media/") for s in sources)
        assert any("/media/proxy/" in s for s in sources)  # the remote one, through the proxy
        assert 'alt="Het logo"' in shown and "elders.example" not in shown
        for row in rows:
            served = await http.get(f"/media/{row['file_name']}")
            assert served.status_code == 200 and served.headers["content-type"].startswith("image/")
            assert served.content != original and not reveals(served.content, secret)

    files_before = sorted(p.name for p in server.rt.config.media_path.glob("*"))
    again = cli(server.config_path, "import", "page", str(page), "--author", "redactie")
    assert last_line(again) == url and "imported 0 posts (1 already there)" in again.stdout
    assert await db.fetchval("SELECT COUNT(*) FROM media") == 2
    assert sorted(p.name for p in server.rt.config.media_path.glob("*")) == files_before
