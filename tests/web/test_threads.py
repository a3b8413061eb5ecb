"""Comment threads of any depth: the walk as plain functions, and deep threads through real HTTP."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fediverse_a2.models import Comment, RemoteAuthor
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.store import actor_blocks, comments
from fediverse_a2.web.threads import MAX_DEPTH, ThreadEntry, thread_order
from helpers import AP, LiveServer, live_server

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "User-Agent": "Mozilla/5.0 Firefox/130.0"}
NOW = 1_700_000_000.0
CHAIN = 3000


# --- the walk, as plain functions ------------------------------------------------------------


def _c(cid: int, parent: int | None = None, author: str = "u") -> Comment:
    uri = f"https://r.test/users/{author}"
    return Comment(
        id=cid,
        ap_id=f"https://r.test/notes/{cid}",
        url=None,
        post_id=1,
        parent_id=parent,
        author=RemoteAuthor(uri=uri, name=author.title(), handle=f"@{author}@r.test", url=uri, icon=None),
        domain="r.test",
        content_html=f"<p>{cid}</p>",
        summary=None,
        published=NOW + cid,
        updated=None,
    )


def _shape(entries: list[ThreadEntry]) -> list[tuple[int, int]]:
    return [(e.comment.id, e.depth) for e in entries]


def _check_markers(entries: list[ThreadEntry]) -> None:
    """Replay the list tags the template writes: they must balance and match each level."""
    open_lists = 1  # the outer <ol>
    for i, e in enumerate(entries):
        assert (e.before == "") == (i == 0)
        open_lists += e.before.count("<ol") - e.before.count("</ol>")
        assert open_lists - 1 == e.level, (e.comment.id, open_lists, e.level)
    open_lists -= entries[-1].level if entries else 0
    assert open_lists == 1


def test_thread_order_puts_answers_after_their_comment_oldest_first() -> None:
    items = [_c(1), _c(2), _c(3, 1), _c(4, 2), _c(5, 1), _c(6, 3), _c(7)]
    entries = thread_order(items)
    assert _shape(entries) == [(1, 0), (3, 1), (6, 2), (5, 1), (2, 0), (4, 1), (7, 0)]
    assert all(e.parent is None for e in entries)  # nothing deep enough to flatten
    _check_markers(entries)
    nest, up = '<ol class="comments">', "</li></ol></li>"
    assert [e.before for e in entries] == ["", nest, nest, up, up, nest, up]


def test_thread_order_caps_the_level_and_names_the_parent() -> None:
    items = [_c(1, author="a0")] + [_c(i, i - 1, author=f"a{i - 1}") for i in range(2, 11)]
    entries = thread_order(items, max_depth=3)
    assert [e.depth for e in entries] == list(range(10))
    assert [e.level for e in entries] == [0, 1, 2, 3, 3, 3, 3, 3, 3, 3]
    assert [e.parent.id if e.parent else None for e in entries] == [None, None, None, None, 4, 5, 6, 7, 8, 9]
    assert entries[4].parent is not None and entries[4].parent.author.name == "A3"
    _check_markers(entries)


def test_a_branch_below_the_limit_stays_in_thread_order() -> None:
    # 1 > 2 > 3 (the limit is 2), 3 has answers 4 and 6, 4 has answer 5, then a new top comment 7.
    items = [_c(1), _c(2, 1), _c(3, 2), _c(4, 3), _c(5, 4), _c(6, 3), _c(7)]
    entries = thread_order(items, max_depth=2)
    assert _shape(entries) == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4), (6, 3), (7, 0)]
    assert [e.level for e in entries] == [0, 1, 2, 2, 2, 2, 0]
    assert entries[3].before == entries[4].before == "</li>" and entries[6].before == "</li></ol></li></ol></li>"
    assert [e.parent.id if e.parent else None for e in entries] == [None, None, None, 3, 4, 3, None]
    _check_markers(entries)


def test_orphans_show_at_depth_zero() -> None:
    # 2's parent is hidden (a blocked author) or gone: it starts a thread, its answer follows it.
    items = [_c(1), _c(2, 99), _c(3, 2), _c(4, 1)]
    assert _shape(thread_order(items)) == [(1, 0), (4, 1), (2, 0), (3, 1)]


def test_cycles_end_and_every_comment_shows_once() -> None:
    items = [_c(1, 1), _c(2, 3), _c(3, 2), _c(4, 3), _c(5)]  # a self-loop, a 2-cycle with an answer
    entries = thread_order(items)
    assert sorted(e.comment.id for e in entries) == [1, 2, 3, 4, 5]
    assert _shape(entries) == [(1, 0), (5, 0), (2, 0), (3, 1), (4, 2)]
    _check_markers(entries)


def test_any_parent_graph_walks_each_comment_once() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        items = [_c(i, rng.choice([None, rng.randint(1, n + 3)])) for i in range(1, n + 1)]
        entries = thread_order(items, max_depth=rng.randint(0, 4))
        assert sorted(e.comment.id for e in entries) == list(range(1, n + 1))
        _check_markers(entries)


def test_a_long_chain_walks_without_recursion() -> None:
    items = [_c(1)] + [_c(i, i - 1) for i in range(2, 20_001)]
    entries = thread_order(items)
    assert entries[-1].depth == 19_999 and entries[-1].level == MAX_DEPTH
    assert entries[-1].parent is not None and entries[-1].parent.id == 19_999


def test_no_comments_no_entries() -> None:
    assert thread_order([]) == []


# --- through real HTTP ------------------------------------------------------------------------


class _Lists(HTMLParser):
    """Checks that <ol>/<li> nest properly and records each comment's list depth."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.levels: dict[int, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ol", "li"):
            self.stack.append(tag)
            cid = dict(attrs).get("id") or ""
            if tag == "li" and cid.startswith("comment-"):
                self.levels[int(cid.removeprefix("comment-"))] = self.stack.count("ol") - 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "li"):
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()


def _levels(html: str) -> dict[int, int]:
    parser = _Lists()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return parser.levels


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path) as srv:
        yield srv


async def _post(server: LiveServer) -> tuple[int, str]:
    await add_member(server.rt, "alice", "Alice")
    url = await publish_post(server.rt, "alice", "Draad", "Een lange draad.")
    return int(url.rsplit("/", 1)[1]), url.removeprefix(server.base_url)


async def _add(
    server: LiveServer,
    post_id: int,
    n: int,
    parent: int | None,
    author: str,
    summary: str | None = None,
    updated: float | None = None,
) -> int:
    cid = await comments.add(
        server.rt.db,
        ap_id=f"https://r.test/notes/{n}",
        url=None,
        post_id=post_id,
        parent_id=parent,
        author_uri=f"https://r.test/users/{author}",
        member_id=None,
        domain="r.test",
        content_html=f"<p>reactie {n}</p>",
        summary=summary,
        published=NOW + n,
        updated=updated,
    )
    assert cid is not None
    return cid


async def test_a_chain_of_thousands_of_replies_renders(server: LiveServer) -> None:
    post_id, path = await _post(server)
    ids: list[int] = []
    async with server.rt.db.transaction() as tx:
        for n in range(CHAIN):
            cid = await comments.add(
                tx,
                ap_id=f"https://r.test/notes/{n}",
                url=None,
                post_id=post_id,
                parent_id=ids[-1] if ids else None,
                author_uri=f"https://r.test/users/u{n}",
                member_id=None,
                domain="r.test",
                content_html=f"<p>reactie {n}</p>",
                summary=None,
                published=NOW + n,
            )
            assert cid is not None
            ids.append(cid)
    async with server.client() as client:
        page = await client.get(path, headers=BROWSER)
        english = await client.get(path + "?lang=en", headers=BROWSER)
        head = await client.get(f"{path}/replies", headers={"Accept": AP})
        first = await client.get(f"{path}/replies?page=1", headers={"Accept": AP})
        last = await client.get(f"{path}/replies?page={CHAIN // 50}", headers={"Accept": AP})
    assert page.status_code == 200
    assert page.text.count('id="comment-') == CHAIN
    assert f"Reacties ({CHAIN})" in page.text
    levels = _levels(page.text)
    assert [levels[cid] for cid in ids] == [min(n, MAX_DEPTH) for n in range(CHAIN)]
    # One piece of page per comment: the shallow ones answer in place, the deep ones say whom.
    pieces = page.text.split('<li class="comment" id="comment-')[1:]
    assert len(pieces) == CHAIN
    assert not any("Antwoord op" in piece for piece in pieces[: MAX_DEPTH + 1])
    for n in (MAX_DEPTH + 1, 1000, CHAIN - 1):
        link = re.search(r'<p class="in-reply-to"><a href="#comment-(\d+)">Antwoord op ([^<]+)</a></p>', pieces[n])
        assert link is not None, n
        assert (int(link[1]), link[2]) == (ids[n - 1], f"https://r.test/users/u{n - 1}")
    assert page.text.count("Antwoord op") == CHAIN - MAX_DEPTH - 1
    assert english.status_code == 200 and english.text.count("In reply to") == CHAIN - MAX_DEPTH - 1
    assert head.status_code == 200 and head.json()["totalItems"] == CHAIN
    assert first.status_code == 200 and len(first.json()["orderedItems"]) == 50
    assert last.status_code == 200 and last.json()["orderedItems"][-1] == f"https://r.test/notes/{CHAIN - 1}"


async def test_thread_page_keeps_every_part_of_a_comment(server: LiveServer) -> None:
    post_id, path = await _post(server)
    top = await _add(server, post_id, 1, None, author="anna")
    answer = await _add(server, post_id, 2, top, author="bert", summary="spoiler", updated=NOW + 50)
    hidden = await _add(server, post_id, 3, top, author="troll")
    below_hidden = await _add(server, post_id, 4, hidden, author="carla")
    second = await _add(server, post_id, 5, None, author="dirk")
    await actor_blocks.add(server.rt.db, "https://r.test/users/troll")
    async with server.client() as client:
        page = await client.get(path, headers=BROWSER)
    assert page.status_code == 200
    # The blocked author's comment is gone; the answer to it shows at depth 0, as before.
    assert _levels(page.text) == {top: 0, answer: 1, second: 0, below_hidden: 0}
    assert page.text.count('id="comment-') == 4 and f'id="comment-{hidden}"' not in page.text
    order = [int(m) for m in re.findall(r'<li class="comment" id="comment-(\d+)"', page.text)]
    assert order == [top, answer, below_hidden, second]  # top comments and orphans by age, as before
    piece = page.text.split(f'id="comment-{answer}"')[1].split('<li class="comment"')[0]
    assert "Reactie van https://r.test/users/bert op" in piece
    assert "(bewerkt)" in piece
    assert "<details><summary>Let op: spoiler</summary>" in piece and "</details>" in piece
    assert '<a href="https://r.test/users/bert" rel="nofollow noopener noreferrer">' in piece
    assert '<a href="https://r.test/notes/2" rel="nofollow noopener noreferrer">origineel</a>' in piece
    assert "Antwoord op" not in page.text
