"""Full-text search: Dutch stemming, folded accents, posts and comments, kept current, paged, safe.

Through real HTTP on a live server, on SQLite and on PostgreSQL (the `backend` fixture).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fediverse_a2.search_text import Segment, document_terms, fold, mark, query_terms, snippet
from fediverse_a2.services.members import add_member, require_member
from fediverse_a2.services.moderation import set_domain
from fediverse_a2.services.posts import Draft, delete_post, edit_post, publish_post, save_post
from fediverse_a2.services.social import comment, delete_comment
from fediverse_a2.store import comments, meta, posts, search
from fediverse_a2.store import migrations as migrations_module
from fediverse_a2.store.connect import open_database
from helpers import LiveServer, live_server
from html_check import check_html

_HIT = re.compile(r'<article class="summary search-hit">.*?</article>', re.S)
_LINK = re.compile(r'<h2>.*?<a href="([^"]+)">', re.S)


# -- the pure part ------------------------------------------------------------------------


def test_dutch_stems_join_inflected_forms() -> None:
    # What snowball's Dutch stemmer does: plural and singular share a stem.
    assert query_terms("gemeenten") == query_terms("gemeente") == query_terms("gemeentes")
    assert query_terms("ambtenaren") == query_terms("ambtenaar")
    assert query_terms("vergaderingen") == query_terms("vergadering")
    # "overheid" would stem to the preposition "over": it keeps its own term.
    assert query_terms("overheden") == query_terms("Overheid") == ["overheid"]
    assert query_terms("over") == ["over"]
    # Where it does not (so these are not promised): "fietspaden" -> fietspaad, "steden" -> steed.
    assert query_terms("fietspaden") != query_terms("fietspad")


def test_accents_fold_before_stemming() -> None:
    assert fold("Ideeën Café") == "ideeen cafe"
    assert query_terms("ideeen") == query_terms("IDEEËN")
    assert document_terms("<p>Geïnteresseerd in <b>ideeën</b></p>", html=True) == document_terms(
        "geinteresseerd in ideeen"
    )


def test_stopwords_only_narrow_when_other_words_remain() -> None:
    assert query_terms("de gemeente") == query_terms("gemeente")
    assert query_terms("de het") == ["de", "het"]
    assert query_terms("") == [] and query_terms("  ?!  ") == []


def test_snippet_marks_the_matching_words_and_cuts_at_words() -> None:
    text = "Begin. " + "vulling " * 60 + "Daar zaten de ambtenaren van de Gemeente bij elkaar. " + "staart " * 60
    parts = snippet(text, query_terms("ambtenaar gemeenten"))
    assert [p.text for p in parts if p.hit] == ["ambtenaren", "Gemeente"]
    assert parts[0] == Segment("… ") and parts[-1] == Segment(" …")
    assert len("".join(p.text for p in parts)) <= 250
    assert mark("Ideeën voor de gemeente", query_terms("ideeen")) == [
        Segment("Ideeën", True),
        Segment(" voor de gemeente"),
    ]


# -- through HTTP ----------------------------------------------------------------------


@pytest.fixture
async def server(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as srv:
        await add_member(srv.rt, "alice", "Alice de Vries")
        await add_member(srv.rt, "bob", "Bob Jansen")
        yield srv


async def _search(server: LiveServer, q: str, **params: str) -> tuple[int, str]:
    async with server.client() as client:
        r = await client.get("/search", params={"q": q, **params}, headers={"Accept": "text/html"})
    return r.status_code, r.text


async def _links(server: LiveServer, q: str, **params: str) -> list[str]:
    status, page = await _search(server, q, **params)
    assert status == 200, page[:300]
    check_html(page)
    return [_LINK.search(hit).group(1) for hit in _HIT.findall(page)]  # type: ignore[union-attr]


async def test_stemmed_and_folded_queries_find_posts_and_comments(server: LiveServer) -> None:
    rt = server.rt
    url = await publish_post(
        rt, "alice", "Samenwerking tussen gemeenten", "De ambtenaren van de gemeente delen hun ideeën."
    )
    other = await publish_post(rt, "bob", "Iets anders", "Over fietsen en treinen.")
    comment_url = await comment(rt, server.workers.directory, "bob", url, "Mooie vergaderingen, Alice!")
    comment_id = rt.urls.comment_id(comment_url)

    assert await _links(server, "ambtenaar") == [url]
    assert await _links(server, "ideeen") == [url]
    assert await _links(server, "gemeentes") == [url]
    assert await _links(server, "GEMEENTE samenwerken") == [url]
    assert await _links(server, "vergadering") == [f"{url}#comment-{comment_id}"]
    assert await _links(server, "treinen fietsen") == [other]
    assert await _links(server, "ambtenaar treinen") == []  # every word must occur

    _, page = await _search(server, "vergadering")
    assert "<mark>vergaderingen</mark>" in page and "Reactie op" in page and "Bob Jansen" in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">', page)
    _, english = await _search(server, "vergadering", lang="en")
    assert "Comment on" in english and "Search results for" in english


async def test_drafts_deleted_and_edited_posts_and_comments_stay_current(server: LiveServer) -> None:
    rt = server.rt
    alice = await require_member(rt, "alice")
    draft = await save_post(rt, alice, Draft("Geheim plan", "Het zeppelinproject."), publish=False)
    assert await _links(server, "zeppelinproject") == []
    await save_post(rt, alice, Draft("Geheim plan", "Het zeppelinproject."), publish=True, post=draft)
    assert await _links(server, "zeppelinproject") == [rt.urls.post(draft.id)]

    url = await publish_post(rt, "alice", "Tijdelijk", "Over de kabelbaan.")
    reply = await comment(rt, server.workers.directory, "bob", url, "Een kabelbaan in de polder?")
    assert len(await _links(server, "kabelbaan")) == 2
    await delete_comment(rt, reply)
    assert await _links(server, "kabelbaan") == [url]

    await edit_post(rt, url, None, "Over de hangbrug.")
    assert await _links(server, "kabelbaan") == []
    assert await _links(server, "hangbrug") == [url]

    await comment(rt, server.workers.directory, "bob", url, "Een hangbrug, ook goed.")
    assert len(await _links(server, "hangbrug")) == 2
    await delete_post(rt, url)
    assert await _links(server, "hangbrug") == []
    assert await rt.db.fetchval("SELECT COUNT(*) FROM search_index WHERE post_id = ?", (rt.urls.post_id(url),)) == 0


async def test_remote_comments_of_blocked_domains_and_actors_are_hidden(server: LiveServer) -> None:
    rt = server.rt
    url = await publish_post(rt, "alice", "Open brief", "Aan de gemeenteraad.")
    post_id = rt.urls.post_id(url)
    assert post_id is not None
    ids = []
    for n, domain in enumerate(["good.example", "bad.example", "other.example"]):
        cid = await comments.add(
            rt.db, ap_id=f"https://{domain}/notes/{n}", url=None, post_id=post_id, parent_id=None,
            author_uri=f"https://{domain}/users/u", member_id=None, domain=domain,
            content_html="<p>Een reactie over windmolens.</p>", summary=None, published=1_700_000_000.0 + n,
        )  # fmt: skip
        assert cid is not None
        ids.append(cid)
    await search.index_comments(rt.db, ids)
    assert len(await _links(server, "windmolens")) == 3
    await set_domain(rt, "block", "bad.example")
    await rt.refresh_policy(force=True)
    await rt.db.execute(
        "INSERT INTO blocked_actors (actor_uri, created_at) VALUES (?, 0)", ("https://other.example/users/u",)
    )
    assert await _links(server, "windmolens") == [f"{url}#comment-{ids[0]}"]


async def test_paging_twenty_per_page(server: LiveServer) -> None:
    for i in range(45):
        await publish_post(server.rt, "alice", f"Boek {i}", f"Nummer {i} van de boeken.")
    first = await _links(server, "boeken")
    second = await _links(server, "boeken", page="2")
    third = await _links(server, "boeken", page="3")
    assert (len(first), len(second), len(third)) == (20, 20, 5)
    assert len(set(first + second + third)) == 45
    _, page = await _search(server, "boeken", page="2")
    # The pager's links are absolute, built from base_url (web/links.py); page 1 is the page's own address.
    assert f'rel="next" href="{server.base_url}/search?q=boeken&amp;page=3"' in page
    assert f'rel="prev" href="{server.base_url}/search?q=boeken"' in page
    _, last = await _search(server, "boeken", page="3")
    assert 'rel="next"' not in last


async def test_hostile_post_cannot_inject_markup(server: LiveServer) -> None:
    title = '<script>alert("t")</script> Gevaarlijk'
    body = 'Een <script>alert("b")</script> <img src=x onerror=alert(1)> gevaarlijke tekst'
    url = await publish_post(server.rt, "alice", title, body)
    status, page = await _search(server, '<script>gevaarlijk"')
    assert status == 200
    assert "<script>alert" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in page and "<mark>Gevaarlijk</mark>" in page
    assert 'value="&lt;script&gt;gevaarlijk&#34;"' in page
    assert await _links(server, "gevaarlijk") == [url]


async def test_empty_and_oversized_queries(server: LiveServer) -> None:
    status, page = await _search(server, "")
    assert status == 200 and "Typ een of meer woorden" in page
    check_html(page)
    status, page = await _search(server, "x" * 201)
    assert status == 400 and "te lang" in page
    check_html(page)
    status, page = await _search(server, ("woord " * 40)[:200])
    assert status == 200 and "Niets gevonden" in page


async def test_search_box_on_every_page(server: LiveServer) -> None:
    await publish_post(server.rt, "alice", "Hallo", "Wereld")
    async with server.client() as client:
        for path in ["/", "/users/alice", "/archive", "/login", "/tags/iets", "/search?q=hallo"]:
            page = (await client.get(path, headers={"Accept": "text/html"})).text
            # One search landmark per page: the header's, or on /search the page's own form.
            assert page.count('role="search"') == 1, path
            if path.startswith("/search"):
                assert re.search(r'<form class="search" role="search" method="get" action="/search">', page)
                continue
            assert re.search(r'<form class="site-search" role="search" method="get" action="/search">', page), path
            assert 'for="site-q">' in page and 'id="site-q" type="search" name="q"' in page


async def test_rows_from_before_search_are_indexed_on_start(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "a2"
    target = database_url or str(folder / "data" / "db.sqlite3")
    (folder / "data").mkdir(parents=True)
    # A database at schema 5, with a post and a comment, as an older version left it.
    with monkeypatch.context() as patch:
        patch.setattr(migrations_module, "MIGRATIONS", [m for m in migrations_module.MIGRATIONS if m[0] <= 5])
        db = await open_database(target)
        try:
            member_id = await db.fetchval(
                "INSERT INTO members (username, name, public_key_pem, created_at) VALUES ('carla', 'Carla', '', 0) "
                "RETURNING id"
            )
            post_id = await posts.create(db, member_id, "Oude blogpost", "", "<p>Over de dijkversterking.</p>")
            await comments.add(
                db, ap_id="https://old.example/c/1", url=None, post_id=post_id, parent_id=None,
                author_uri="https://old.example/u/d", member_id=None, domain="old.example",
                content_html="<p>Dijkversterkingen zijn nodig.</p>", summary=None, published=1.0,
            )  # fmt: skip
        finally:
            await db.close()
    async with live_server(folder, database=database_url) as srv:
        assert await meta.get(srv.rt.db, "search_reindex") is None
        assert len(await _links(srv, "dijkversterking")) == 2


# -- HTML checks -------------------------------------------------------------------------
