"""The cache of remote actors and their public keys."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

from .db import Executor
from .sql import columns, marks, optional_str, record

__all__ = [
    "ActorKey",
    "ActorRecord",
    "by_uri",
    "by_uris",
    "delete",
    "exists",
    "inboxes_of_repliers",
    "key",
    "keys_for",
    "search",
    "upsert",
    "uri_by_handle",
]


@dataclass(frozen=True)
class ActorRecord:
    uri: str
    domain: str
    type: str
    username: str | None
    handle: str
    name: str
    summary: str
    url: str | None
    icon: str | None
    inbox: str
    shared_inbox: str | None
    followers_url: str | None
    fetched_at: float

    @property
    def delivery_inbox(self) -> str:
        """Where to deliver to this actor: the shared inbox when it has one."""
        return self.shared_inbox or self.inbox


@dataclass(frozen=True, slots=True)
class ActorKey:
    """A cached public key of a remote actor (PEM, or a Multikey's multibase value)."""

    key_id: str
    actor_uri: str
    pem: str | None
    multibase: str | None


_COLUMNS = columns(ActorRecord)
_KEY = f"SELECT {columns(ActorKey)} FROM actor_keys"


async def upsert(db: Executor, actor: ActorRecord, keys: list[tuple[str, str | None, str | None]]) -> None:
    """Store a freshly fetched actor and replace its keys ((key_id, pem, multibase) triples)."""
    values = astuple(actor)
    updates = ", ".join(f"{f.name} = excluded.{f.name}" for f in fields(ActorRecord)[1:])
    await db.execute(
        f"INSERT INTO actors ({_COLUMNS}) VALUES ({', '.join('?' * len(values))}) "
        f"ON CONFLICT (uri) DO UPDATE SET {updates}",
        values,
    )
    await db.execute("DELETE FROM actor_keys WHERE actor_uri = ?", (actor.uri,))
    now = time.time()
    for key_id, pem, multibase in keys:
        await db.execute(
            "INSERT INTO actor_keys (key_id, actor_uri, pem, multibase, fetched_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key_id) DO UPDATE SET actor_uri = excluded.actor_uri, pem = excluded.pem, "
            "multibase = excluded.multibase, fetched_at = excluded.fetched_at",
            (key_id, actor.uri, pem, multibase, now),
        )


async def by_uri(db: Executor, uri: str) -> ActorRecord | None:
    """A cached actor, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM actors WHERE uri = ?", (uri,))
    return record(ActorRecord, row) if row else None


async def by_uris(db: Executor, uris: Sequence[str]) -> dict[str, ActorRecord]:
    """Several cached actors, in one statement (unknown ones left out)."""
    wanted = list(dict.fromkeys(uris))
    if not wanted:
        return {}
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM actors WHERE uri IN ({marks(len(wanted))})", tuple(wanted))
    return {a.uri: a for a in (record(ActorRecord, r) for r in rows)}


async def key(db: Executor, key_id: str) -> ActorKey | None:
    """A cached key, or None."""
    row = await db.fetchone(f"{_KEY} WHERE key_id = ?", (key_id,))
    return record(ActorKey, row) if row else None


async def keys_for(db: Executor, actor_uri: str) -> list[ActorKey]:
    """All cached keys of an actor."""
    return [record(ActorKey, r) for r in await db.fetchall(f"{_KEY} WHERE actor_uri = ?", (actor_uri,))]


async def delete(db: Executor, uri: str) -> None:
    """Forget a cached actor and its keys."""
    await db.execute("DELETE FROM actor_keys WHERE actor_uri = ?", (uri,))
    await db.execute("DELETE FROM actors WHERE uri = ?", (uri,))


async def exists(db: Executor, uri: str) -> bool:
    """Whether this actor is cached."""
    return bool(await db.fetchval("SELECT 1 FROM actors WHERE uri = ?", (uri,)))


async def uri_by_handle(db: Executor, handle: str) -> str | None:
    """The id of a cached actor by its @user@host handle."""
    return optional_str(await db.fetchval("SELECT uri FROM actors WHERE handle = ?", (handle,)))


async def inboxes_of_repliers(db: Executor, member_id: int) -> list[tuple[str, str, str | None]]:
    """(inbox, domain, None) of the cached remote actors who replied to, liked or boosted a member's posts
    (their servers hold copies of those posts)."""
    rows = await db.fetchall(
        """SELECT DISTINCT COALESCE(a.shared_inbox, a.inbox), a.domain FROM actors a
           WHERE a.uri IN (SELECT c.author_uri FROM comments c JOIN posts p ON p.id = c.post_id
                           WHERE p.member_id = ? AND c.member_id IS NULL)
              OR a.uri IN (SELECT r.actor_uri FROM reactions r JOIN posts p ON p.id = r.post_id WHERE p.member_id = ?)
           ORDER BY 1""",
        (member_id, member_id),
    )
    return [(str(r[0]), str(r[1]), None) for r in rows]


async def search(db: Executor, needle: str, limit: int) -> list[ActorRecord]:
    """Cached actors whose handle or name contains `needle` (case-insensitive), for account search."""
    if not needle:
        return []
    pattern = "%" + needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM actors WHERE LOWER(handle) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\' "
        "ORDER BY handle LIMIT ?",
        (pattern, pattern, limit),
    )
    return [record(ActorRecord, r) for r in rows]
