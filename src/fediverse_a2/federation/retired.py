"""The keys of erased accounts, dropped once the Delete of their actor has gone out.

An erased account's Delete is signed with its own key (services/erasure.py), so the key is
kept until every delivery of it is done: sent, or failed for good after its retries. Then
the private key file and the public key go, and nothing is ever signed for that account
again (the deliverer refuses to make it a new one).
"""

from __future__ import annotations

import asyncio
import logging

from ..runtime import Runtime
from ..store import deliveries, members

__all__ = ["retire_keys"]

log = logging.getLogger(__name__)


async def retire_keys(rt: Runtime) -> int:
    """Drop the keys of erased accounts whose Delete has gone out; returns how many."""
    retired = 0
    for member_id, username in await members.erased_with_keys(rt.db):
        if await deliveries.pending_of_member(rt.db, member_id):
            continue
        await asyncio.to_thread(rt.keys.remove, username)
        await members.retire_key(rt.db, member_id)
        log.info("the key of the erased account %s is gone", username)
        retired += 1
    return retired
