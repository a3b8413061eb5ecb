"""Queue an outgoing activity: store it, then one delivery per recipient inbox."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson

from ..store import activities, deliveries
from ..store.db import Executor

__all__ = ["queue_activity"]


async def queue_activity(
    tx: Executor,
    activity: dict[str, Any],
    member_id: int | None,
    *,
    followers_of: int | None = None,
    targets: Iterable[tuple[str, str, str | None]] = (),
) -> int:
    """Store `activity` and queue its deliveries inside the caller's transaction.

    `followers_of` is the member whose followers receive it (usually the sender);
    `targets` are extra (inbox, domain, recipient actor URI) triples, for example the
    author of a remote post being replied to. Returns the activity's row id.
    """
    obj = activity.get("object")
    object_id = obj.get("id") if isinstance(obj, dict) else obj
    row_id = await activities.add(
        tx, activity["id"], member_id, activity["type"], object_id, orjson.dumps(activity).decode()
    )
    now = time.time()
    if followers_of is not None:
        await deliveries.enqueue_followers(tx, row_id, followers_of, now)
    extra = list(targets)
    if extra:
        await deliveries.enqueue(tx, row_id, extra, now)
    return row_id
