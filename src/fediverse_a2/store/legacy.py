"""What the importers of the old network's archive look up, and its old addresses.

Every imported member, post and comment carries its id on the old platform (`legacy_id`, unique),
so an import run twice finds what it brought in already and a killed one resumes. The rows
themselves are written by their own store modules (members.add_many, posts.add_many,
comments.add_many, tags.add_many, ...), in batches inside the importer's transaction.
`legacy_redirects` maps an old id or address to the new URL (answered with 301, printed by
`import map`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from .db import Executor
from .sql import chunks, marks, optional_str

__all__ = [
    "GROUP_PREFIX",
    "add_redirects",
    "archive_groups",
    "comment_legacy_ids",
    "legacy_members",
    "member_ids_by_name",
    "post_ids",
    "redirect_target",
    "redirects",
    "remove_redirects_to",
    "usernames",
]


async def legacy_members(db: Executor) -> dict[str, tuple[int, str, str]]:
    """Every imported member: legacy id -> (id, username, full name)."""
    rows = await db.fetchall("SELECT legacy_id, id, username, name FROM members WHERE legacy_id IS NOT NULL")
    return {str(r[0]): (int(r[1]), str(r[2]), str(r[3])) for r in rows}


GROUP_PREFIX = "group:"  # a topic group's legacy id: "group:" + the old group's id


async def archive_groups(db: Executor) -> dict[str, tuple[int, str]]:
    """Topic groups made from old groups: old group id -> (actor row id, username)."""
    rows = await db.fetchall(
        "SELECT legacy_id, id, username FROM members WHERE kind = 'group' AND legacy_id LIKE ?", (GROUP_PREFIX + "%",)
    )
    return {str(r[0]).removeprefix(GROUP_PREFIX): (int(r[1]), str(r[2])) for r in rows}


async def usernames(db: Executor, *, local_only: bool = False) -> set[str]:
    """Every username in use; with local_only, those of members that were not imported."""
    where = " WHERE legacy_id IS NULL" if local_only else ""
    return {str(r[0]) for r in await db.fetchall(f"SELECT username FROM members{where}")}


async def member_ids_by_name(db: Executor, name: str) -> list[int]:
    """Members whose full name is exactly this, members who can sign in first, then the oldest."""
    rows = await db.fetchall(
        "SELECT id FROM members WHERE name = ? AND kind = 'person' "
        "ORDER BY CASE WHEN state = 'active' THEN 0 ELSE 1 END, id",
        (name,),
    )
    return [int(r[0]) for r in rows]


async def post_ids(db: Executor, legacy_ids: Sequence[str]) -> dict[str, int]:
    """The posts already imported among these legacy ids: legacy id -> post id."""
    out: dict[str, int] = {}
    for chunk in chunks(list(legacy_ids)):
        rows = await db.fetchall(f"SELECT legacy_id, id FROM posts WHERE legacy_id IN ({marks(len(chunk))})", chunk)
        out.update((str(r[0]), int(r[1])) for r in rows)
    return out


async def comment_legacy_ids(db: Executor, legacy_ids: Sequence[str]) -> set[str]:
    """The comments already imported among these legacy ids."""
    out: set[str] = set()
    for chunk in chunks(list(legacy_ids)):
        rows = await db.fetchall(f"SELECT legacy_id FROM comments WHERE legacy_id IN ({marks(len(chunk))})", chunk)
        out.update(str(r[0]) for r in rows)
    return out


async def add_redirects(db: Executor, rows: Sequence[tuple[str, str, str]]) -> None:
    """Remember old ids and addresses: (old, new URL, kind) triples; an old one already known stays."""
    await db.executemany(
        "INSERT INTO legacy_redirects (old, target, kind) VALUES (?, ?, ?) ON CONFLICT (old) DO NOTHING", rows
    )


async def redirect_target(db: Executor, old: str) -> str | None:
    """The new URL of an old id or address, or None."""
    return optional_str(await db.fetchval("SELECT target FROM legacy_redirects WHERE old = ?", (old,)))


async def redirects(db: Executor, page: int = 5000) -> AsyncIterator[tuple[str, str, str]]:
    """Every (old, new URL, kind), ordered by old, read a page at a time."""
    last = ""
    while True:
        rows = await db.fetchall(
            "SELECT old, target, kind FROM legacy_redirects WHERE old > ? ORDER BY old LIMIT ?", (last, page)
        )
        for r in rows:
            yield str(r[0]), str(r[1]), str(r[2])
        if len(rows) < page:
            return
        last = str(rows[-1][0])


async def remove_redirects_to(db: Executor, targets: Sequence[str]) -> None:
    """Forget the old addresses that lead to these URLs (an erased account's profile, posts and comments)."""
    for chunk in chunks(list(targets)):
        await db.execute(f"DELETE FROM legacy_redirects WHERE target IN ({marks(len(chunk))})", tuple(chunk))
