"""The full-text index of posts and comments: SQLite FTS5, or a tsvector table on PostgreSQL.

Rows hold the stemmed words that search_text.py makes, keyed by the comment's id, or by the
post's id plus POST_KEYS (so posts come after every comment). Only live published posts and
the visible public comments under them (never a followers-only or direct reply, nor an
unlisted one) are indexed; the query checks again (and hides comments of
blocked actors and domains), so a stale row is never shown.

Ranking is bm25 (FTS5) or ts_rank, a title match weighing four times a match in the text. A
word found in nearly every document would make ranking read them all, so the ranking is done
over the RANK_LIMIT highest keys that match: every post first, then the newest comments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..policy import Policy
from ..search_text import document_terms
from . import meta
from .db import Executor, Row
from .sql import LIVE_POST, chunks, marks

__all__ = [
    "Hit",
    "index_comments",
    "index_new_comment",
    "index_posts",
    "reindex_all",
    "reindex_if_pending",
    "remove_comments",
    "remove_post",
    "search",
]

REINDEX_KEY = "search_reindex"
POST_KEYS = 1 << 42  # a post's key is POST_KEYS + its id; a comment's is its id
RANK_LIMIT = 20_000
# Public comments only: followers-only and direct ones are their addressees' alone, and
# unlisted ones (shown under their post) stay out of discovery, as Mastodon keeps them.
_FINDABLE = "c.state = 'visible' AND c.visibility = 'public'"


def _post_key(post_id: int) -> int:
    return POST_KEYS + post_id


def _comment_key(comment_id: int) -> int:
    return comment_id


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    """Each id once, in chunks for IN lists."""
    return list(chunks(list(dict.fromkeys(int(i) for i in ids))))


async def _write(db: Executor, keys: Sequence[int], rows: Sequence[tuple[int, int, str, str]]) -> None:
    """Replace the index rows of `keys` by `rows` (key, post id, title terms, body terms)."""
    if db.dialect == "postgresql":
        delete = "DELETE FROM search_index WHERE doc_key = ?"
        insert = "INSERT INTO search_index (doc_key, post_id, title, body) VALUES (?, ?, ?, ?)"
    else:
        delete = "DELETE FROM search_index WHERE rowid = ?"
        insert = "INSERT INTO search_index (rowid, post_id, title, body) VALUES (?, ?, ?, ?)"
    if keys:
        await db.executemany(delete, [(k,) for k in keys])
    if rows:
        await db.executemany(insert, rows)


# What a document is indexed from: (its id, its post's id, title, content warning, HTML), live only.
_POST_DOCUMENTS = (
    f"SELECT p.id, p.id, p.title, p.summary, p.content_html FROM posts p WHERE p.id IN ({{marks}}) AND {LIVE_POST}"
)
_COMMENT_DOCUMENTS = (
    "SELECT c.id, c.post_id, '', c.summary, c.content_html FROM comments c JOIN posts p ON p.id = c.post_id "
    f"WHERE c.id IN ({{marks}}) AND {LIVE_POST} AND {_FINDABLE}"
)


async def _index(db: Executor, ids: Sequence[int], documents: str, key: Callable[[int], int]) -> None:
    """(Re)index documents by id; those the query does not find leave the index."""
    for chunk in _chunks(ids):
        found = await db.fetchall(documents.format(marks=marks(len(chunk))), chunk)
        rows = [
            (key(doc_id), post_id, document_terms(title), document_terms(f"{summary or ''} {html}", html=True))
            for doc_id, post_id, title, summary, html in found
        ]
        await _write(db, [key(i) for i in chunk], rows)


async def index_posts(db: Executor, post_ids: Sequence[int]) -> None:
    """(Re)index posts by id; drafts, deleted and unknown posts leave the index."""
    await _index(db, post_ids, _POST_DOCUMENTS, _post_key)


async def index_comments(db: Executor, comment_ids: Sequence[int]) -> None:
    """(Re)index comments by id; those under a post that is not live, held or hidden ones, those not
    public (unlisted, followers-only, direct) and unknown ones leave the index."""
    await _index(db, comment_ids, _COMMENT_DOCUMENTS, _comment_key)


async def index_new_comment(
    db: Executor, comment_id: int, post_id: int, summary: str | None, html: str, *, state: str, visibility: str
) -> None:
    """Index a comment just stored under a live post, from the text at hand: one statement (an
    upsert), where index_comments reads the comment back and replaces its row in three. Only what
    `_FINDABLE` lets in is indexed: a visible public comment."""
    if state != "visible" or visibility != "public":
        return
    row = (_comment_key(comment_id), post_id, "", document_terms(f"{summary or ''} {html}", html=True))
    if db.dialect == "postgresql":
        sql = (
            "INSERT INTO search_index (doc_key, post_id, title, body) VALUES (?, ?, ?, ?) ON CONFLICT (doc_key) "
            "DO UPDATE SET post_id = excluded.post_id, title = excluded.title, body = excluded.body"
        )
    else:
        sql = "INSERT OR REPLACE INTO search_index (rowid, post_id, title, body) VALUES (?, ?, ?, ?)"
    await db.execute(sql, row)


async def remove_post(db: Executor, post_id: int) -> None:
    """Take a post and every comment under it out of the index (the post was deleted)."""
    comment_ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM comments WHERE post_id = ?", (post_id,))]
    await _write(db, [_post_key(post_id), *(_comment_key(i) for i in comment_ids)], [])


async def remove_comments(db: Executor, comment_ids: Sequence[int]) -> None:
    """Take comments out of the index (they were deleted)."""
    for chunk in _chunks(comment_ids):
        await _write(db, [_comment_key(i) for i in chunk], [])


async def reindex_all(db: Executor, batch: int = 2000) -> int:
    """Index every live post and comment again, in batches; returns how many documents were read."""
    total = 0
    for table, index in (("posts", index_posts), ("comments", index_comments)):
        last = 0
        while True:
            ids = [
                int(r[0])
                for r in await db.fetchall(f"SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (last, batch))
            ]
            if not ids:
                break
            await index(db, ids)
            total += len(ids)
            last = ids[-1]
    return total


async def reindex_if_pending(db: Executor) -> int | None:
    """Fill the index when a migration asked for it (rows stored before search existed)."""
    if await meta.get(db, REINDEX_KEY) is None:
        return None
    total = await reindex_all(db)
    await db.execute("DELETE FROM meta WHERE key = ?", (REINDEX_KEY,))
    return total


@dataclass(frozen=True)
class Hit:
    """One search result: a post, or a comment under one."""

    post_id: int
    comment_id: int | None
    title: str  # the post's title (a comment is shown under its post's title)
    author_name: str
    author_username: str | None  # a local member's username
    author_url: str | None  # a remote author's profile
    published: float
    content_html: str
    language: str | None


# The lowest key the ranking reads (RANK_LIMIT matches from the top), and the ranked
# candidates from there: bm25 in FTS5 (lower is better, hence negated), ts_rank on PostgreSQL.
_FLOOR = {
    "sqlite": "SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
    "postgresql": "SELECT doc_key FROM search_index WHERE tsv @@ plainto_tsquery('simple', ?) "
    "ORDER BY doc_key DESC LIMIT 1 OFFSET ?",
}
_CANDIDATES = {
    "sqlite": "SELECT rowid AS doc, -bm25(search_index, 0.0, 4.0, 1.0) AS score FROM search_index "
    "WHERE search_index MATCH ? AND rowid >= ? ORDER BY score DESC, rowid DESC LIMIT ?",
    "postgresql": "SELECT doc_key AS doc, ts_rank(tsv, q) AS score "
    "FROM search_index, plainto_tsquery('simple', ?) AS q WHERE tsv @@ q AND doc_key >= ? "
    "ORDER BY score DESC, doc_key DESC LIMIT ?",
}
_POSTS = f"""
SELECT p.id, p.title, p.published, p.content_html, p.language, m.username, m.name
FROM posts p JOIN members m ON m.id = p.member_id
WHERE p.id IN ({{marks}}) AND {LIVE_POST}
"""
_COMMENTS = f"""
SELECT c.id, c.post_id, p.title, c.published, c.content_html, c.language, c.domain, cm.username,
       COALESCE(cm.name, a.name, a.handle, c.author_uri) AS name, COALESCE(a.url, c.author_uri) AS remote_url
FROM comments c JOIN posts p ON p.id = c.post_id
LEFT JOIN members cm ON cm.id = c.member_id
LEFT JOIN actors a ON a.uri = c.author_uri
WHERE c.id IN ({{marks}}) AND {LIVE_POST} AND {_FINDABLE}
  AND c.author_uri NOT IN (SELECT actor_uri FROM blocked_actors)
"""


def _match(db: Executor, terms: Sequence[str]) -> str:
    """The engine's query for `terms`: every term must occur (the terms are letters and digits only)."""
    if db.dialect == "postgresql":
        return " ".join(terms)
    return " ".join(f'"{t}"' for t in terms)


async def _details(db: Executor, sql: str, ids: list[int]) -> list[Row]:
    rows: list[Row] = []
    for chunk in _chunks(ids):
        rows += await db.fetchall(sql.format(marks=marks(len(chunk))), chunk)
    return rows


async def _visible(db: Executor, docs: list[int], policy: Policy) -> list[Hit]:
    """The hits of ranked index keys that are live and not hidden, in rank order."""
    found: dict[int, Hit] = {}
    for r in await _details(db, _POSTS, [d - POST_KEYS for d in docs if d >= POST_KEYS]):
        found[_post_key(r["id"])] = Hit(
            r["id"], None, r["title"], r["name"], r["username"], None, r["published"], r["content_html"],
            r["language"],
        )  # fmt: skip
    for r in await _details(db, _COMMENTS, [d for d in docs if d < POST_KEYS]):
        if policy.is_blocked(r["domain"]):
            continue
        local = r["username"]
        found[_comment_key(r["id"])] = Hit(
            r["post_id"], r["id"], r["title"], r["name"], local, None if local else r["remote_url"],
            r["published"], r["content_html"], r["language"],
        )  # fmt: skip
    return [found[d] for d in docs if d in found]


async def search(db: Executor, terms: Sequence[str], policy: Policy, limit: int, offset: int = 0) -> list[Hit]:
    """A page of hits for stemmed query terms (search_text.query_terms), best first.

    The top of the ranking is read and its visible hits kept; when hidden ones leave the
    page short, a larger top is read, so every page is exact.
    """
    if not terms:
        return []
    wanted = offset + limit
    window = max(2 * wanted, 100)
    match = _match(db, terms)
    while True:
        floor = await db.fetchval(_FLOOR[db.dialect], (match, max(RANK_LIMIT, window)))
        docs = [int(r[0]) for r in await db.fetchall(_CANDIDATES[db.dialect], (match, floor or 0, window))]
        hits = await _visible(db, docs, policy)
        if len(hits) >= wanted or len(docs) < window:
            return hits[offset:wanted]
        window *= 4
