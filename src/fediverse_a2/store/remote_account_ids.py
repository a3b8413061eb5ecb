"""The client API's ids of remote accounts: one stable number per actor URI, made on first use."""

from __future__ import annotations

import time
from collections.abc import Sequence

from .db import Executor

__all__ = ["ids_for", "uri_of"]


async def ids_for(db: Executor, uris: Sequence[str]) -> dict[str, int]:
    """The id of each actor URI, giving new ones theirs."""
    wanted = list(dict.fromkeys(uris))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    query = f"SELECT uri, id FROM remote_account_ids WHERE uri IN ({marks})"
    found = {uri: int(i) for uri, i in await db.fetchall(query, tuple(wanted))}
    missing = [uri for uri in wanted if uri not in found]
    if missing:
        now = time.time()
        await db.executemany(
            "INSERT INTO remote_account_ids (uri, created_at) VALUES (?, ?) ON CONFLICT (uri) DO NOTHING",
            [(uri, now) for uri in missing],
        )
        marks = ", ".join("?" * len(missing))
        query = f"SELECT uri, id FROM remote_account_ids WHERE uri IN ({marks})"
        found.update({uri: int(i) for uri, i in await db.fetchall(query, tuple(missing))})
    return found


async def uri_of(db: Executor, account_id: int) -> str | None:
    """The actor URI behind a remote account id, or None."""
    value = await db.fetchval("SELECT uri FROM remote_account_ids WHERE id = ?", (account_id,))
    return None if value is None else str(value)
