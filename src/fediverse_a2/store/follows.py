"""Who follows our members (followers), and whom our members follow (following)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..hosts import HostError, host_of
from ..policy import DomainRule, Policy
from .db import Executor
from .sql import columns, optional_str, record

__all__ = [
    "Account",
    "FollowListing",
    "Follower",
    "Following",
    "accounts_page",
    "add_follower",
    "add_following",
    "count_followers",
    "count_following",
    "delete_following",
    "follower_page",
    "follower_row",
    "follower_rows",
    "following_by_follow_id",
    "following_of_actor",
    "following_page",
    "following_rows",
    "following_targets",
    "follows_actor",
    "is_follower",
    "is_following",
    "remove_actor",
    "remove_all_of_member",
    "remove_follow",
    "remove_follower",
    "remove_following",
    "remove_following_of_actor",
    "remove_on_domains",
    "set_following_state",
]


@dataclass(frozen=True, slots=True)
class Follower:
    """A remote actor that follows one of our members: where their deliveries go."""

    actor_uri: str
    inbox: str
    shared_inbox: str | None
    domain: str
    follow_id: str | None  # the id of their Follow (what a Reject or an Undo names)


@dataclass(frozen=True, slots=True)
class Following:
    """One of our members' follows of a remote actor."""

    id: int
    member_id: int
    actor_uri: str
    follow_id: str  # the id of our Follow
    state: str  # pending | accepted


@dataclass(frozen=True, slots=True)
class FollowListing:
    """A line of a member's followers or following page: the actor, with its cached names."""

    actor_uri: str
    state: str  # pending | accepted (a follower is always accepted)
    created_at: float
    name: str | None
    handle: str | None
    url: str | None
    icon: str | None


_FOLLOWING = f"SELECT {columns(Following)} FROM following"


async def add_follower(
    db: Executor,
    member_id: int,
    actor_uri: str,
    inbox: str,
    shared_inbox: str | None,
    domain: str,
    follow_id: str | None,
) -> None:
    """Record (or refresh) a remote follower of a member."""
    await db.execute(
        """INSERT INTO followers (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, actor_uri) DO UPDATE SET inbox = excluded.inbox,
               shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id""",
        (member_id, actor_uri, inbox, shared_inbox, domain, follow_id, time.time()),
    )


async def remove_follower(db: Executor, member_id: int, actor_uri: str) -> int:
    """Forget a follower of one member; returns rows removed."""
    return await db.execute("DELETE FROM followers WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri))


async def remove_actor(db: Executor, actor_uri: str) -> int:
    """Forget an actor as follower of every member (actor deleted, or inbox gone), requests included."""
    await db.execute("DELETE FROM follow_requests WHERE actor_uri = ?", (actor_uri,))
    return await db.execute("DELETE FROM followers WHERE actor_uri = ?", (actor_uri,))


async def count_followers(db: Executor, member_id: int) -> int:
    """How many followers a member has."""
    return int(await db.fetchval("SELECT COUNT(*) FROM followers WHERE member_id = ?", (member_id,)))


async def follower_page(db: Executor, member_id: int, limit: int, offset: int) -> list[str]:
    """A page of follower actor URIs, oldest first."""
    rows = await db.fetchall(
        "SELECT actor_uri FROM followers WHERE member_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [str(r[0]) for r in rows]


async def add_following(db: Executor, member_id: int, actor_uri: str, follow_id: str) -> None:
    """Record that a member asked to follow a remote actor (pending until Accept)."""
    await db.execute(
        """INSERT INTO following (member_id, actor_uri, follow_id, state, created_at) VALUES (?, ?, ?, 'pending', ?)
           ON CONFLICT (member_id, actor_uri) DO UPDATE SET follow_id = excluded.follow_id, state = 'pending'""",
        (member_id, actor_uri, follow_id, time.time()),
    )


async def following_by_follow_id(db: Executor, follow_id: str) -> Following | None:
    """The follow made by our Follow activity with this id."""
    row = await db.fetchone(f"{_FOLLOWING} WHERE follow_id = ?", (follow_id,))
    return None if row is None else record(Following, row)


async def set_following_state(db: Executor, row_id: int, state: str) -> None:
    """Mark a follow accepted (or pending again)."""
    await db.execute("UPDATE following SET state = ? WHERE id = ?", (state, row_id))


async def remove_following(db: Executor, member_id: int, actor_uri: str) -> Following | None:
    """Forget that a member follows an actor; returns the follow removed (for the Undo) or None."""
    row = await db.fetchone(f"{_FOLLOWING} WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri))
    if row is None:
        return None
    removed = record(Following, row)
    await db.execute("DELETE FROM following WHERE id = ?", (removed.id,))
    return removed


async def is_follower(db: Executor, member_id: int, actor_uri: str) -> bool:
    """Whether an actor follows one member."""
    found = await db.fetchval("SELECT 1 FROM followers WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri))
    return found is not None


async def _listing(
    db: Executor, table: str, state: str, member_id: int, limit: int, offset: int
) -> list[FollowListing]:
    rows = await db.fetchall(
        f"""SELECT f.actor_uri, {state}, f.created_at, a.name, a.handle, a.url, a.icon FROM {table} f
            LEFT JOIN actors a ON a.uri = f.actor_uri WHERE f.member_id = ? ORDER BY f.id DESC LIMIT ? OFFSET ?""",
        (member_id, limit, offset),
    )
    return [record(FollowListing, r) for r in rows]


async def follower_rows(db: Executor, member_id: int, limit: int, offset: int) -> list[FollowListing]:
    """A page of a member's followers, newest first, with their cached names (for the followers page)."""
    return await _listing(db, "followers", "'accepted'", member_id, limit, offset)


async def following_rows(db: Executor, member_id: int, limit: int, offset: int) -> list[FollowListing]:
    """A page of the actors a member follows (or asked to), newest first, with their state and cached names."""
    return await _listing(db, "following", "f.state", member_id, limit, offset)


async def follower_row(db: Executor, member_id: int, actor_uri: str) -> Follower | None:
    """One follower of a member, or None."""
    row = await db.fetchone(
        f"SELECT {columns(Follower)} FROM followers WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri)
    )
    return None if row is None else record(Follower, row)


async def is_following(db: Executor, actor_uri: str) -> bool:
    """Whether any member follows this actor (their posts are then stored)."""
    return bool(await db.fetchval("SELECT 1 FROM following WHERE actor_uri = ? LIMIT 1", (actor_uri,)))


async def count_following(db: Executor, member_id: int) -> int:
    """How many actors a member follows (accepted)."""
    return int(
        await db.fetchval("SELECT COUNT(*) FROM following WHERE member_id = ? AND state = 'accepted'", (member_id,))
    )


async def following_page(db: Executor, member_id: int, limit: int, offset: int) -> list[str]:
    """A page of followed actor URIs (accepted), oldest first."""
    rows = await db.fetchall(
        "SELECT actor_uri FROM following WHERE member_id = ? AND state = 'accepted' ORDER BY id LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [str(r[0]) for r in rows]


async def remove_follow(db: Executor, follow_id: str, actor_uri: str) -> int:
    """Undo of a Follow named only by its id: forget that follower."""
    return await db.execute("DELETE FROM followers WHERE follow_id = ? AND actor_uri = ?", (follow_id, actor_uri))


async def delete_following(db: Executor, row_id: int) -> None:
    """Forget one of our follows (the remote actor rejected it)."""
    await db.execute("DELETE FROM following WHERE id = ?", (row_id,))


async def remove_following_of_actor(db: Executor, actor_uri: str) -> None:
    """Forget every follow of an actor that deleted itself."""
    await db.execute("DELETE FROM following WHERE actor_uri = ?", (actor_uri,))


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return host_of(url)
    except HostError:
        return None


async def remove_on_domains(db: Executor, domains: Iterable[str]) -> int:
    """Remove the followers on any of these (blocked) domains, in one pass; returns how many.

    A follower whose personal inbox is on a blocked domain is removed too, and a shared
    inbox there is forgotten (deliveries fall back to the personal inbox): otherwise an actor
    elsewhere could keep deliveries flowing to the blocked domain.
    """
    rules = [DomainRule(domain=domain, kind="block") for domain in domains]
    if not rules:
        return 0
    probe = Policy("open", rules)

    def blocked(host: str | None) -> bool:
        return host is not None and probe.is_blocked(host)

    for row in await db.fetchall("SELECT id, domain, inbox FROM follow_requests"):
        if blocked(row["domain"]) or blocked(_host(row["inbox"])):
            await db.execute("DELETE FROM follow_requests WHERE id = ?", (row["id"],))
    removed = 0
    for row in await db.fetchall("SELECT id, domain, inbox, shared_inbox FROM followers"):
        if blocked(row["domain"]) or blocked(_host(row["inbox"])):
            removed += await db.execute("DELETE FROM followers WHERE id = ?", (row["id"],))
        elif blocked(_host(row["shared_inbox"])):
            await db.execute("UPDATE followers SET shared_inbox = NULL WHERE id = ?", (row["id"],))
    return removed


async def owner(db: Executor, follow_id: str) -> str | None:
    """The actor whose Follow (by id) made them a follower."""
    return optional_str(await db.fetchval("SELECT actor_uri FROM followers WHERE follow_id = ?", (follow_id,)))


@dataclass(frozen=True, slots=True)
class Account:
    """A follower or followed account, as an export lists it: its id and cached handle."""

    id: int  # the row id (for paging)
    actor_uri: str
    handle: str | None  # @user@host, when the actor is cached
    state: str  # pending | accepted


async def accounts_page(db: Executor, table: str, member_id: int, after_id: int, limit: int) -> list[Account]:
    """A page of a member's followers (`table` "followers") or follows ("following"), oldest first."""
    if table not in ("followers", "following"):
        raise ValueError(f"not a follow table: {table!r}")
    state = "'accepted'" if table == "followers" else "f.state"
    rows = await db.fetchall(
        f"""SELECT f.id, f.actor_uri, a.handle, {state} FROM {table} f LEFT JOIN actors a ON a.uri = f.actor_uri
            WHERE f.member_id = ? AND f.id > ? ORDER BY f.id LIMIT ?""",
        (member_id, after_id, limit),
    )
    return [record(Account, r) for r in rows]


async def following_targets(db: Executor, member_id: int) -> list[tuple[str, str, str | None]]:
    """(inbox, domain, actor) of every cached actor a member follows or asked to follow (shared inbox preferred)."""
    rows = await db.fetchall(
        """SELECT COALESCE(a.shared_inbox, a.inbox), a.domain, a.uri FROM following f
           JOIN actors a ON a.uri = f.actor_uri WHERE f.member_id = ? ORDER BY f.id""",
        (member_id,),
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


async def following_of_actor(db: Executor, actor_uri: str) -> list[Following]:
    """Every member's follow of one actor (what a Move of that actor carries over)."""
    return [
        record(Following, r) for r in await db.fetchall(f"{_FOLLOWING} WHERE actor_uri = ? ORDER BY id", (actor_uri,))
    ]


async def remove_all_of_member(db: Executor, member_id: int) -> None:
    """Forget a member's followers, follow requests and follows (an erased account)."""
    await db.execute("DELETE FROM follow_requests WHERE member_id = ?", (member_id,))
    await db.execute("DELETE FROM followers WHERE member_id = ?", (member_id,))
    await db.execute("DELETE FROM following WHERE member_id = ?", (member_id,))


async def follows_actor(db: Executor, member_id: int, actor_uri: str) -> bool:
    """Whether a member follows (or asked to follow) an actor."""
    found = await db.fetchval("SELECT 1 FROM following WHERE member_id = ? AND actor_uri = ?", (member_id, actor_uri))
    return found is not None
