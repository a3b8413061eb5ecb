"""The inbox worker: takes stored activities and runs their handler, each in its own transaction."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson

from ..activitypub.jsonld import normalise
from ..activitypub.parse import ParseError, parse_activity, same_origin
from ..runtime import Runtime
from ..store import inbox as inbox_store
from .actors import ActorDirectory
from .fetch import FetchError
from .policy import host_of
from .handlers import Context, Rejected, dispatch, needs_object, object_host, refreshes_actor
from .retry import backoff

__all__ = ["InboxWorker"]

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
ITEM_TIMEOUT = 60.0


class InboxWorker:
    """Processes queued inbox items; `run_once` lets tests step it without sleeping."""

    def __init__(self, rt: Runtime, directory: ActorDirectory, batch: int = 64) -> None:
        self.rt = rt
        self.directory = directory
        self.batch = batch

    async def run_once(self) -> int:
        """Process one batch of due items; returns how many were claimed."""
        lease = float(self.rt.config.delivery.lease_seconds)
        items = await inbox_store.claim(self.rt.db, time.time(), lease + ITEM_TIMEOUT, self.batch)
        for item in items:
            await self._process(item)
        return len(items)

    async def _process(self, item: inbox_store.InboxItem) -> None:
        db = self.rt.db
        try:
            async with asyncio.timeout(ITEM_TIMEOUT):
                notes = await self._handle(item)
        except (Rejected, ParseError, ValueError) as exc:
            log.info("inbox item %s refused: %s", item.activity_id, exc)
            await inbox_store.mark_failed(db, item.id, str(exc))
        except (FetchError, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or "timed out"
            if item.attempts >= MAX_TRANSIENT_ATTEMPTS or getattr(exc, "status", None) in (404, 410):
                await inbox_store.mark_failed(db, item.id, reason)
            else:
                await inbox_store.release(db, item.id, reason, time.time() + backoff(item.attempts))
        except Exception as exc:  # a bug in a handler must not stop the worker
            log.exception("inbox item %s failed", item.activity_id)
            await inbox_store.mark_failed(db, item.id, f"internal error: {type(exc).__name__}")
        else:
            if notes:
                log.debug("inbox item %s: %s", item.activity_id, "; ".join(notes))

    async def _handle(self, item: inbox_store.InboxItem) -> list[str]:
        doc = normalise(orjson.loads(item.body))
        activity = parse_activity(doc)
        if activity.actor != item.actor_uri:
            raise Rejected("actor changed after verification")
        policy = self.rt.policy
        # Our own objects (a Follow of our member, a Like of our post) are always fine.
        host = None if self.rt.urls.is_local(activity.object_id or "") else object_host(activity)
        if not policy.is_allowed(host_of(activity.actor)) or (host and not policy.is_allowed(host)):
            raise Rejected("domain no longer allowed")
        actor = await self.directory.get(activity.actor)
        fetched = None
        if needs_object(activity):
            object_id = activity.object_id or ""
            if not same_origin(object_id, activity.actor):
                raise Rejected("object id is not on the actor's host")
            fetched = await self.directory.fetch_document(object_id)
        if refreshes_actor(activity):
            actor = await self.directory.get(activity.actor, refresh=True)
        async with self.rt.db.transaction() as tx:
            ctx = Context(self.rt, tx, activity, actor, fetched=fetched)
            await dispatch(ctx)
            await inbox_store.mark_done(tx, item.id)
        return ctx.notes
