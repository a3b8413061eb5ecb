"""Queue an outgoing activity: store it, then one delivery per recipient inbox.

The delivery workers of every process are woken when the transaction commits (a CLI
`post` starts delivering in `serve` at once, not at its next poll).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson

from ..store import activities, deliveries, relays
from ..store.db import Executor
from ..work import wakeups

__all__ = ["queue_activity"]


async def queue_activity(
    tx: Executor,
    activity: dict[str, Any],
    member_id: int | None,
    *,
    followers_of: int | None = None,
    targets: Iterable[tuple[str, str, str | None]] = (),
    to_relays: bool = False,
    listed: bool = True,
) -> int:
    """Store `activity` and queue its deliveries inside the caller's transaction.

    `followers_of` is the member whose followers receive it (usually the sender);
    `targets` are extra (inbox, domain, recipient actor URI) triples, for example the
    author of a remote post being replied to; `to_relays` (a public post's Create, Update or
    Delete) adds the inbox of every accepted relay; `listed=False` keeps an activity for its
    addressees (a followers-only or direct note) out of the outbox. Returns the activity's row id.
    """
    obj = activity.get("object")
    # A Flag names several objects (a list): it has no single object id.
    object_id = obj.get("id") if isinstance(obj, dict) else obj if isinstance(obj, str) else None
    row_id = await activities.add(
        tx, activity["id"], member_id, activity["type"], object_id, orjson.dumps(activity).decode(), listed=listed
    )
    now = time.time()
    if followers_of is not None:
        await deliveries.enqueue_followers(tx, row_id, followers_of, now)
    extra = list(targets)
    if to_relays:
        extra += await relays.accepted_targets(tx)
    if extra:
        await deliveries.enqueue(tx, row_id, extra, now)
    if followers_of is not None or extra:
        await wakeups.announce(tx, wakeups.DELIVERIES)
    return row_id
