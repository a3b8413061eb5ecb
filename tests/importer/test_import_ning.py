"""`fediverse-a2 import ning`: a generated export with the real format's quirks, through the CLI and real HTTP."""

from __future__ import annotations

import html
import io
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image

from fediverse_a2.config import load_config
from fediverse_a2.federation.delivery import Deliverer
from fediverse_a2.federation.outbox import queue_activity
from fediverse_a2.keys import public_pem
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import follows
from helpers import AP, LiveServer, cli, kill_at_line, live_server, serving, write_config
from helpers import CountingSink as Sink
from ning_archive_gen import GeneratedArchive, generate_archive
from webclient import WebUser, member_with_password

TABLES = ("members", "posts", "comments", "activities", "legacy_redirects", "media", "tags", "post_tags")


def jpeg(color: str = "red", size: tuple[int, int] = (48, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def make_archive(folder: Path, **kw: Any) -> GeneratedArchive:
    """A generated export, with real JPEGs for the owner's photo and two posts' images."""
    archive = generate_archive(folder, **kw)
    owner = next(iter(archive.members))
    (folder / "members" / f"{owner}.jpg").write_bytes(jpeg("blue", (500, 300)))
    for i in (1, 3):
        (folder / "blogs" / f"foto{i}.jpg").write_bytes(jpeg())
    return archive


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def counts(rt: Runtime) -> dict[str, int]:
    return {t: int(await rt.db.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as a2:
        yield a2


def run_import(config: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(config, "import", "ning", str(folder), *extra, timeout=120)


# -- the whole archive, through the CLI -----------------------------------------------------


async def test_import_brings_everything_in_with_original_dates_authors_and_order(
    server: LiveServer, tmp_path: Path
) -> None:
    archive = make_archive(tmp_path / "export")
    proc = run_import(server.config_path, archive.folder)
    out = proc.stdout
    private = {g for g, (_, is_private, _) in archive.groups.items() if is_private}
    photo_posts = {(p.album or pid, p.group) for pid, p in archive.photos.items()}
    public = (
        sum(1 for p in archive.posts.values() if p.status == "publish")
        + len(archive.groups) - len(private)
        + sum(1 for group, _ in archive.discussions.values() if group not in private)
        + sum(1 for _, group in photo_posts if group not in private) + len(archive.videos) + len(archive.tracks)
    )  # fmt: skip
    members_only = (
        len(private)
        + sum(1 for group, _ in archive.discussions.values() if group in private)
        + sum(1 for _, group in photo_posts if group in private)
    )
    assert members_only >= 3, "the generator puts discussions and an album in a private group"
    assert f"imported {len(archive.members)} members" in out
    assert f"imported {public} posts" in out
    assert f"imported {members_only} members-only posts" in out
    assert f"imported {sum(1 for p in archive.posts.values() if p.status != 'publish')} drafts" in out
    assert "members record 3:" in out and "blogs record 5:" in out and "blogs record 8:" in out
    assert "discussions record 6:" in out
    assert "Traceback" not in proc.stderr and "blogs:" in proc.stderr  # plain progress lines

    db = server.rt.db
    # Members: usernames, names, roles, states, e-mail kept, no key pair yet.
    rows = {r["legacy_id"]: r for r in await db.fetchall("SELECT * FROM members WHERE legacy_id IS NOT NULL")}
    for cn, (name, state, level, joined) in archive.members.items():
        row = rows[cn]
        assert row["name"] == name and row["state"] == state and row["created_at"] == joined
        assert row["role"] == {"owner": "admin", "admin": "admin", "moderator": "moderator"}.get(level, "member")
        assert bool(row["disabled"]) == (state in ("suspended", "pending"))
        assert row["email"].endswith("@example.nl") and row["public_key_pem"] == ""
        assert row["password_hash"] is None
    assert rows["0deleted0member"]["state"] == "left"  # a commenter the member list lacks
    assert not any(p.name.endswith(".pem") and p.stem != "instance-actor" for p in (tmp_path / "a2/keys").iterdir())
    owner = next(iter(archive.members))
    assert rows[owner]["avatar_id"] is not None  # the real photo, re-encoded

    # Posts: dates, drafts, tags; comments oldest first by their members.
    for legacy_id, expected in archive.posts.items():
        post = await db.fetchone("SELECT * FROM posts WHERE legacy_id = ?", (legacy_id,))
        author = await db.fetchval("SELECT legacy_id FROM members WHERE id = ?", (post["member_id"],))
        assert (author, post["title"], post["published"]) == (expected.author, expected.title, expected.published)
        assert post["updated"] == (expected.updated if expected.updated > expected.published else None)
        assert post["state"] == ("published" if expected.status == "publish" else "draft")
        tags = [r["name"] for r in await db.fetchall(
            "SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ?", (post["id"],)
        )]  # fmt: skip
        assert tags == ([expected.category.replace(" d", "D")] if expected.category else [])
        comments = await db.fetchall(
            "SELECT c.legacy_id, c.published, m.legacy_id AS author FROM comments c "
            "JOIN members m ON m.id = c.member_id WHERE c.post_id = ? ORDER BY c.published, c.id",
            (post["id"],),
        )
        assert [(c["legacy_id"], c["author"], c["published"]) for c in comments] == [
            (c.id, c.author, c.created) for c in expected.comments
        ]
        creates = await db.fetchval(
            "SELECT COUNT(*) FROM activities WHERE type = 'Create' AND object_id = ?",
            (server.rt.urls.post(post["id"]),),
        )
        assert creates == (1 if expected.status == "publish" else 0)

    # Sanitising: structure kept, hostile markup gone, images re-encoded, attachments copied.
    html = "".join(r["content_html"] for r in await db.fetchall("SELECT content_html FROM posts"))
    for bad in ("<script", "onerror", "javascript:", "<iframe"):
        assert bad not in html
    assert "<ul><li>" in html and '<a href="https://www.pleio.nl/"' in html
    assert 'href="https://evil.example/"' in html  # the iframe became a link
    one = await db.fetchval("SELECT content_html FROM posts WHERE legacy_id = '2570916:BlogPost:1003'")
    assert f'<img src="{server.base_url}/media/' in one and "Bijlagen:" in one and "verslag.pdf</a>" in one
    media_files = [p.name for p in (tmp_path / "a2/media").iterdir() if p.is_file()]
    assert len(media_files) == 2  # the two posts' image (one picture: one file) and the avatar
    assert not any("passwd" in p.name for p in (tmp_path / "a2/media").rglob("*"))
    assert "attachment not in the export" in out

    # Groups and discussions: posts under the group's tag; a private group's for its members only.
    for did, (group, replies) in archive.discussions.items():
        post = await db.fetchone("SELECT id, state FROM posts WHERE legacy_id = ?", (did,))
        private = group is not None and archive.groups[group][1]
        assert post["state"] == ("group" if private else "published")
        found = await db.fetchall(
            "SELECT legacy_id FROM comments WHERE post_id = ? ORDER BY published, id", (post["id"],)
        )
        assert [r["legacy_id"] for r in found] == replies
    assert await db.fetchval("SELECT COUNT(*) FROM posts WHERE legacy_id LIKE '%:Group:%'") == len(archive.groups)


async def test_imported_posts_are_notes_in_outboxes_never_delivered(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    # The members first (a folder with only the members file), then followers on a sink for all of them.
    members_only = tmp_path / "members-only"
    members_only.mkdir()
    for name in ("ning-members.json", "ning-members-local.json"):
        (members_only / name).write_bytes((archive.folder / name).read_bytes())
    run_import(server.config_path, members_only)
    rt = server.rt
    async with serving(Sink()) as sink:
        ids = [r["id"] for r in await rt.db.fetchall("SELECT id FROM members WHERE legacy_id IS NOT NULL")]
        for n, member_id in enumerate(ids):
            actor = f"{sink.base}/users/f{n}"
            await follows.add_follower(
                rt.db, member_id, actor, f"{actor}/inbox", f"{sink.base}/inbox", "127.0.0.1", None
            )
        run_import(server.config_path, archive.folder)
        assert await Deliverer(rt).run_once() == 0
        assert await rt.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
        assert sum(sink.hits.values()) == 0

        legacy_id, expected = next((k, p) for k, p in archive.posts.items() if p.status == "publish" and p.comments)
        post = await rt.db.fetchone("SELECT id, member_id FROM posts WHERE legacy_id = ?", (legacy_id,))
        username = await rt.db.fetchval("SELECT username FROM members WHERE id = ?", (post["member_id"],))
        async with server.client(headers={"Accept": AP}) as http:
            note = (await http.get(f"/posts/{post['id']}")).json()
            assert note["type"] == "Note" and note["published"] == iso(expected.published)
            assert note["attributedTo"] == rt.urls.actor(username)
            replies = note["replies"]
            assert replies["totalItems"] == len(expected.comments)
            first = replies["first"]["orderedItems"]
            comment = (await http.get(first[0])).json()
            assert comment["inReplyTo"] == note["id"] and comment["published"] == iso(expected.comments[0].created)
            page = (await http.get(f"/users/{username}/outbox?page=1")).json()
            create = next(i for i in page["orderedItems"] if i["object"]["id"] == note["id"])
            assert create["type"] == "Create" and create["published"] == note["published"]
            # The actor document is where an archive member first needs a key: made now, once.
            assert await rt.db.fetchval("SELECT public_key_pem FROM members WHERE id = ?", (post["member_id"],)) == ""
            actor = (await http.get(f"/users/{username}")).json()
            pem = actor["publicKey"]["publicKeyPem"]
            assert pem.startswith("-----BEGIN PUBLIC KEY-----")
            assert (await http.get(f"/users/{username}")).json()["publicKey"]["publicKeyPem"] == pem
            draft_id = await rt.db.fetchval("SELECT id FROM posts WHERE state = 'draft' AND source = 'ning' LIMIT 1")
            assert (await http.get(f"/posts/{draft_id}")).status_code == 404
        assert sum(sink.hits.values()) == 0


async def test_a_keyless_archive_member_can_sign_a_delivery(server: LiveServer, tmp_path: Path) -> None:
    """Signing is a first need too: the deliverer makes the key, the actor document then shows its public half."""
    archive = make_archive(tmp_path / "export", posts=3, comments_per_post=1, groups=0, discussions=0)
    run_import(server.config_path, archive.folder)
    rt = server.rt
    row = await rt.db.fetchone("SELECT id, username FROM members WHERE legacy_id = ?", (next(iter(archive.members)),))
    async with serving(Sink()) as sink:
        me = rt.urls.actor(row["username"])
        accept = {"id": f"{me}#accepts/1", "type": "Accept", "actor": me, "object": f"{sink.base}/follow/1"}
        async with rt.db.transaction() as tx:
            await queue_activity(tx, accept, row["id"], targets=[(f"{sink.base}/inbox", "127.0.0.1", None)])
        assert await Deliverer(rt).run_once() == 1
        assert sink.hits["/inbox"] == 1
    async with server.client(headers={"Accept": AP}) as http:
        pem = (await http.get(f"/users/{row['username']}")).json()["publicKey"]["publicKeyPem"]
    assert pem == public_pem(rt.keys.load(row["username"]))


async def test_old_addresses_answer_301(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server.config_path, archive.folder)
    db = server.rt.db
    post_legacy, expected = next(iter(archive.posts.items()))
    post_id = await db.fetchval("SELECT id FROM posts WHERE legacy_id = ?", (post_legacy,))
    comment = expected.comments[0].id if expected.comments else None
    cn = next(iter(archive.members))
    username = await db.fetchval("SELECT username FROM members WHERE legacy_id = ?", (cn,))
    async with server.client() as http:
        for path in (f"/xn/detail/{post_legacy}", f"/profiles/blog/show?id={post_legacy}"):
            r = await http.get(path)
            assert (r.status_code, r.headers["location"]) == (301, server.rt.urls.post(post_id))
        r = await http.get(f"/profile/{cn}")
        assert (r.status_code, r.headers["location"]) == (301, server.rt.urls.actor(username))
        if comment:
            r = await http.get(f"/xn/detail/{comment}")
            assert r.status_code == 301 and r.headers["location"].startswith(f"{server.rt.urls.post(post_id)}#comment-")
        topic = next(iter(archive.discussions))
        r = await http.get(f"/forum/topics/show?id={topic}")
        assert r.status_code == 301
        assert (await http.get("/xn/detail/2570916:BlogPost:999999")).status_code == 404
        assert (await http.get("/profiles/blog/show")).status_code == 404
    lines = cli(server.config_path, "import", "map").stdout.splitlines()
    assert lines[0] == "old,new,kind"
    assert f"{post_legacy},{server.rt.urls.post(post_id)},post" in lines
    assert f"{cn},{server.rt.urls.actor(username)},member" in lines


async def test_attachments_are_served_for_download_only(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export", posts=6, groups=0, discussions=0, broken=False)
    run_import(server.config_path, archive.folder)
    html = await server.rt.db.fetchval("SELECT content_html FROM posts WHERE legacy_id = '2570916:BlogPost:1003'")
    url = html.split('Bijlagen: <a href="', 1)[1].split('"', 1)[0]
    async with server.client() as http:
        r = await http.get(url)
        assert r.status_code == 200 and r.content == b"%PDF-1.4 verslag"
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"].startswith("attachment")
        assert "sandbox" in r.headers["content-security-policy"]
        assert (await http.get("/files/../../config.toml")).status_code == 404
        assert (await http.get("/files/" + "0" * 32 + ".pdf")).status_code == 404


# -- idempotence, resuming, dry runs, bad calls ---------------------------------------------


async def test_a_second_import_changes_nothing(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    run_import(server.config_path, archive.folder)
    before = await counts(server.rt)
    files = sorted(p.name for p in (tmp_path / "a2/media").rglob("*"))
    bodies = await server.rt.db.fetchall("SELECT ap_id, body FROM activities ORDER BY id")
    again = run_import(server.config_path, archive.folder).stdout
    assert "imported 0 members" in again and "imported 0 posts" in again and "imported 0 comments" in again
    assert await counts(server.rt) == before
    assert sorted(p.name for p in (tmp_path / "a2/media").rglob("*")) == files
    assert await server.rt.db.fetchall("SELECT ap_id, body FROM activities ORDER BY id") == bodies


async def test_public_groups_become_topic_groups_listing_their_posts(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    out = run_import(server.config_path, archive.folder).stdout
    db = server.rt.db
    public = {gid: title for gid, (title, is_private, _) in archive.groups.items() if not is_private}
    private = set(archive.groups) - set(public)
    assert public and private, "the generator writes both kinds"
    assert f"imported {len(archive.groups)} topic groups" in out
    every = await db.fetchall(
        "SELECT id, legacy_id, group_visibility FROM members WHERE kind = 'group' AND legacy_id IS NOT NULL"
    )
    assert {r["legacy_id"].removeprefix("group:"): r["group_visibility"] for r in every} == {
        gid: "members" if gid in private else "public" for gid in archive.groups
    }
    rows = await db.fetchall(
        "SELECT id, username, name, legacy_id FROM members WHERE kind = 'group' AND legacy_id IS NOT NULL "
        "AND group_visibility = 'public'"
    )
    assert {r["legacy_id"].removeprefix("group:") for r in rows} == set(public)
    listed = cli(server.config_path, "group", "list").stdout
    async with server.client() as client:
        for row in rows:
            gid = row["legacy_id"].removeprefix("group:")
            assert row["username"] in listed
            actor = (await client.get(f"/users/{row['username']}", headers={"Accept": AP})).json()
            assert actor["type"] == "Group"
            # its discussions are its posts, on its page, with the old dates; never announced
            in_group = [d for d, (group, _) in archive.discussions.items() if group == gid]
            in_group += [v for v, p in archive.photos.items() if p.group == gid]  # none: photos only go private
            in_group += [e for e, event in archive.events.items() if event.group == gid]
            posts = await db.fetchall("SELECT id, title FROM posts WHERE group_id = ?", (row["id"],))
            assert len(posts) == len(in_group) + 1  # and the group's own post (its wall)
            page = (await client.get(f"/groups/{row['username']}", headers={"Accept": "text/html"})).text
            assert [p["title"] for p in posts if html.escape(p["title"], quote=False) not in page] == []
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    # Taking an archived post out of its group sends nothing: it was never announced.
    await member_with_password(server, "beheer", "Beheerder", "een lang wachtwoord", role="admin")
    group = rows[0]["username"]
    item = await db.fetchval(
        "SELECT id FROM group_posts WHERE group_id = ? AND removed_at IS NULL ORDER BY id LIMIT 1", (rows[0]["id"],)
    )
    activities = await db.fetchval("SELECT COUNT(*) FROM activities")
    async with WebUser(server.base_url) as web:
        await web.login("beheer", "een lang wachtwoord")
        r = await web.submit(f"/groups/{group}", f"/groups/{group}/remove", {"item": str(item)})
        assert r.status_code == 303
    assert await db.fetchval("SELECT removed_at FROM group_posts WHERE id = ?", (item,)) is not None
    assert await db.fetchval("SELECT COUNT(*) FROM activities") == activities
    assert await db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    # A second run finds the groups again.
    again = run_import(server.config_path, archive.folder).stdout
    assert f"imported 0 topic groups ({len(archive.groups)} already there)" in again
    assert await db.fetchval("SELECT COUNT(*) FROM members WHERE kind = 'group' AND legacy_id IS NOT NULL") == len(
        archive.groups
    )


async def test_dry_run_says_what_would_happen_and_changes_nothing(server: LiveServer, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "export")
    before = await counts(server.rt)
    out = run_import(server.config_path, archive.folder, "--dry-run").stdout
    assert f"would import {len(archive.members)} members" in out and "dry run: nothing was changed" in out
    assert "would import 0 posts" not in out
    assert await counts(server.rt) == before
    assert not (tmp_path / "a2/media").exists() or not any((tmp_path / "a2/media").iterdir())
    real = run_import(server.config_path, archive.folder).stdout
    assert [line.replace("would import", "imported") for line in out.splitlines()[:-1]] == real.splitlines()[:-1]


def test_a_killed_import_finishes_when_run_again(tmp_path: Path) -> None:
    archive = generate_archive(tmp_path / "export", members=120, posts=900, comments_per_post=6, broken=False)
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")
    argv = [sys.executable, "-m", "fediverse_a2", "--config", str(config), "import", "ning", str(archive.folder)]
    # Killed once the first batch of blog posts is committed.
    assert kill_at_line([*argv, "--batch-size", "10"], "blogs:") == -signal.SIGKILL

    def state() -> tuple[int, int, int]:
        import sqlite3

        conn = sqlite3.connect(tmp_path / "a2/data/db.sqlite3")
        try:
            posts = conn.execute("SELECT COUNT(*) FROM posts WHERE legacy_id LIKE '%BlogPost%'").fetchone()[0]
            comments = conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
            # Batches are whole: every imported post has all its comments.
            partial = conn.execute(
                "SELECT COUNT(*) FROM posts p WHERE legacy_id LIKE '%BlogPost%' AND "
                "(SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) = 0"
            ).fetchone()[0]
        finally:
            conn.close()
        return posts, comments, partial

    posts, comments, _ = state()
    assert 0 < posts < len(archive.posts), "the kill should land in the middle of the posts"
    expected_comments = sum(len(p.comments) for p in archive.posts.values())
    assert comments < expected_comments
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    report = {line.split(":")[0].strip(): line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert f"{posts} already there" in report["posts"]  # the posts (and drafts) of the killed run
    posts, comments, _ = state()
    assert posts == len(archive.posts)
    other_comments = (
        sum(3 for _ in archive.groups) + sum(len(r) for _, r in archive.discussions.values())
        + sum(len(p.comments) for p in archive.photos.values()) + sum(len(v.comments) for v in archive.videos.values())
        + sum(len(e.comments) for e in archive.events.values())
    )  # fmt: skip
    assert comments == expected_comments + other_comments


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "ning", "/nonexistent/export"], "not a folder: /nonexistent/export"),
        (["import", "ning", "{empty}"], "no Ning export in"),
        (["import", "ning", "{empty}", "--batch-size", "0"], "must be at least 1"),
        (["import", "page", "/nonexistent.txt", "--author", "nobody"], "no member named 'nobody'"),
        (["import", "page", "--author", "x"], "required"),
        (["import"], "required"),
    ],
)
def test_bad_calls_say_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")
    proc = cli(config, *[a.replace("{empty}", str(tmp_path / "empty")) for a in args], check=False)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_progress_is_plain_lines_when_not_a_terminal(tmp_path: Path) -> None:
    archive = generate_archive(tmp_path / "export", members=10, posts=12, comments_per_post=2)
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8999")
    proc = cli(config, "import", "ning", str(archive.folder))
    lines = proc.stderr.splitlines()
    assert any(line.startswith("members: 9/9 (100%)") for line in lines)
    assert any(line.startswith("blogs: ") and "comments" in line for line in lines)
    assert "\x1b[" not in proc.stderr  # no terminal escapes in a log


async def test_import_in_process_matches_the_cli(tmp_path: Path) -> None:
    """The importer as a function (what the benchmark calls): same counts as the CLI gives."""
    from fediverse_a2.importer.ning import import_ning
    from fediverse_a2.importer.progress import PlainProgress

    archive = generate_archive(tmp_path / "export", members=15, posts=14, comments_per_post=3)
    config = load_config(write_config(tmp_path / "a2", "http://127.0.0.1:8999"))
    rt = await Runtime.open(config)
    try:
        summary = await import_ning(rt, archive.folder, PlainProgress(io.StringIO()), batch_size=4)
        assert summary.created["members"] == len(archive.members)
        assert summary.created["comments"] == int(await rt.db.fetchval("SELECT COUNT(*) FROM comments"))
        assert [k for k, _, _ in summary.unreadable] == ["members", "blogs", "blogs", "discussions"]
        body = orjson.loads(await rt.db.fetchval("SELECT body FROM activities WHERE type = 'Create' LIMIT 1"))
        assert body["object"]["type"] == "Note"
    finally:
        await rt.close()


async def test_only_active_archive_members_can_sign_in_once_they_have_a_password(
    server: LiveServer, tmp_path: Path
) -> None:
    from fediverse_a2.services.accounts import set_password
    from fediverse_a2.store import members
    from webclient import WebUser

    archive = make_archive(tmp_path / "export", posts=3, comments_per_post=1, groups=0, discussions=0)
    run_import(server.config_path, archive.folder)
    by_state = {state: cn for cn, (_, state, _, _) in reversed(archive.members.items())}
    password = "een lang genoeg wachtwoord"
    outcomes = {}
    for state in ("active", "suspended", "left", "pending"):
        username = await server.rt.db.fetchval("SELECT username FROM members WHERE legacy_id = ?", (by_state[state],))
        member = await members.by_username(server.rt.db, username)
        assert member is not None
        await set_password(server.rt, member, password)  # as an invitation would
        async with WebUser(server.base_url) as web:
            r = await web.login(username, password)
            outcomes[state] = r.status_code == 303 and "a2_session" in web.client.cookies
    assert outcomes == {"active": True, "suspended": False, "left": False, "pending": False}


def test_progress_on_a_terminal_is_a_rich_bar() -> None:
    from fediverse_a2.importer.progress import RichProgress, make_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    progress = make_progress(out)
    assert isinstance(progress, RichProgress)
    progress.phase("blogs", 10)
    progress.advance(4, comments=40)
    progress.advance(8)  # more than estimated: the total grows
    progress.phase("groups", None)
    progress.close()
    assert "blogs" in out.getvalue() and "12/12" in out.getvalue()


def test_mapping_is_pure_and_stable() -> None:
    from fediverse_a2.archive.ning_model import MemberState, NingMember, Role
    from fediverse_a2.importer.mapping import member_row, old_path, tag_of

    assert tag_of("Open data") == ("OpenData", "opendata")
    assert tag_of("Participatie & Overheid!") == ("ParticipatieOverheid", "participatieoverheid")
    assert tag_of("Ééntje") == ("Ééntje", "eentje")
    assert tag_of(" -- ") is None and tag_of(None) is None
    assert old_path("https://ambtenaar20.ning.com/profiles/blogs/een%20blog/") == "/profiles/blogs/een blog"
    assert old_path("https://ambtenaar20.ning.com/") is None and old_path(None) is None
    m = NingMember("cn1", "An", "an@example.nl", 1.0e9, None, "admin", Role.ADMIN, MemberState.SUSPENDED)
    row = member_row(m, "an")
    assert (row.legacy_id, row.role, row.state, row.disabled, row.created_at) == (
        "cn1",
        "admin",
        "suspended",
        True,
        1.0e9,
    )
