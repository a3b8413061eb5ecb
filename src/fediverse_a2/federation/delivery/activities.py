"""The activities a round delivers: each one's body and who signs it, loaded once per batch or so."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from ...keys import INSTANCE_KEY
from ...runtime import Runtime
from ...store import activities, members
from .signing import Signer

__all__ = ["ACTIVITY_CACHE", "OutgoingActivities", "Prepared"]

ACTIVITY_CACHE = 64


@dataclass(frozen=True)
class Prepared:
    """An outgoing activity as it is sent: the body's bytes and its signer."""

    body: bytes
    signer: Signer


class OutgoingActivities:
    """The last `ACTIVITY_CACHE` activities delivered, ready to send."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._cache: OrderedDict[int, Prepared] = OrderedDict()

    async def get(self, activity_id: int) -> Prepared | None:
        """The activity ready to send; None when it no longer exists."""
        cached = self._cache.get(activity_id)
        if cached is not None:
            self._cache.move_to_end(activity_id)
            return cached
        prepared = await self._load(activity_id)
        if prepared is None:
            return None
        self._cache[activity_id] = prepared
        if len(self._cache) > ACTIVITY_CACHE:
            self._cache.popitem(last=False)
        return prepared

    async def _load(self, activity_id: int) -> Prepared | None:
        """An outgoing activity's body and who signs it (its member, or the instance actor)."""
        rt = self.rt
        found = await activities.with_sender(rt.db, activity_id)
        if found is None:
            return None
        body, username = found
        if username:
            if not rt.keys.exists(username) and await members.is_erased(rt.db, username):
                return None  # an erased account's key is gone once its Delete went out: nothing more is signed
            # An archive member's key pair is made on first need (its public half reaches the
            # actor document through services.members.ensure_key): signing a delivery is one.
            signer = Signer(rt.urls.key(username), username, await asyncio.to_thread(rt.keys.ensure, username))
        else:
            signer = Signer(rt.urls.instance_key, INSTANCE_KEY, rt.keys.load(INSTANCE_KEY))
        return Prepared(body.encode("utf-8"), signer)
