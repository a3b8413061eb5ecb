"""Relays this instance subscribes to, and the posts they brought (the network timeline)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .db import Executor, Row
from .sql import columns, record

__all__ = [
    "ACCEPTED",
    "PENDING",
    "REJECTED",
    "Relay",
    "accepted_targets",
    "add",
    "all_relays",
    "by_follow_id",
    "by_url",
    "for_actor",
    "mark_post",
    "remove",
    "set_state",
]

PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"
# A relay's answer moves a subscription out of pending; a later answer (a relay that changes
# its mind) is taken at its word. Nothing moves a subscription back to pending.
_ANSWERS = frozenset({ACCEPTED, REJECTED})


@dataclass(frozen=True)
class Relay:
    """One relay subscription: where the Follow went, and how it was answered."""

    id: int
    url: str
    actor: str | None
    inbox: str
    domain: str
    follow_id: str
    follow: str  # the Follow sent, as JSON
    state: str
    created_at: float


def _relay(row: Row) -> Relay:
    return record(Relay, row)


_COLUMNS = columns(Relay)


async def add(db: Executor, url: str, actor: str | None, inbox: str, domain: str, follow_id: str, follow: str) -> bool:
    """Record a new pending subscription; False when `url` is already subscribed."""
    now = time.time()
    return (
        await db.execute(
            """INSERT INTO relays (url, actor, inbox, domain, follow_id, follow, state, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING""",
            (url, actor, inbox, domain, follow_id, follow, PENDING, now, now),
        )
        > 0
    )


async def by_url(db: Executor, url: str) -> Relay | None:
    """The subscription made with `url`."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM relays WHERE url = ?", (url,))
    return _relay(row) if row else None


async def by_follow_id(db: Executor, follow_id: str) -> Relay | None:
    """The subscription whose Follow had this id (what an Accept or Reject names)."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM relays WHERE follow_id = ?", (follow_id,))
    return _relay(row) if row else None


async def for_actor(db: Executor, actor_uri: str, domain: str) -> Relay | None:
    """The subscription of the relay with this actor; one whose actor is not known yet matches by domain."""
    row = await db.fetchone(
        f"""SELECT {_COLUMNS} FROM relays WHERE actor = ? OR (actor IS NULL AND domain = ?)
            ORDER BY actor IS NULL, id LIMIT 1""",
        (actor_uri, domain),
    )
    return _relay(row) if row else None


async def all_relays(db: Executor) -> list[Relay]:
    """Every subscription, oldest first."""
    return [_relay(r) for r in await db.fetchall(f"SELECT {_COLUMNS} FROM relays ORDER BY id")]


async def set_state(db: Executor, relay_id: int, state: str, actor: str) -> bool:
    """Apply a relay's answer, learning its actor; False for a transition that is not allowed."""
    if state not in _ANSWERS:
        return False
    changed = await db.execute(
        "UPDATE relays SET state = ?, actor = ?, updated_at = ? WHERE id = ?", (state, actor, time.time(), relay_id)
    )
    return changed > 0


async def remove(db: Executor, url: str) -> Relay | None:
    """Forget a subscription; returns what it was (its Follow is what the Undo embeds)."""
    relay = await by_url(db, url)
    if relay is not None:
        await db.execute("DELETE FROM relays WHERE id = ?", (relay.id,))
    return relay


async def accepted_targets(db: Executor) -> list[tuple[str, str, str | None]]:
    """Delivery targets (inbox, domain, no single recipient) of every accepted relay."""
    rows = await db.fetchall("SELECT inbox, domain FROM relays WHERE state = ? ORDER BY id", (ACCEPTED,))
    return [(str(r[0]), str(r[1]), None) for r in rows]


async def mark_post(db: Executor, ap_id: str, relay_actor: str) -> None:
    """Remember that a stored remote post came through a relay (once)."""
    await db.execute(
        "INSERT INTO relay_posts (ap_id, relay_actor, received_at) VALUES (?, ?, ?) ON CONFLICT (ap_id) DO NOTHING",
        (ap_id, relay_actor, time.time()),
    )
