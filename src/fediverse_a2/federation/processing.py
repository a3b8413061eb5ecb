"""The inbox worker: takes stored activities and runs their handler.

The inbox already verified, normalised and checked each activity; the worker reads the
document it stored (never normalising again), re-checks the policy (it may have changed
since), and does the network work a handler needs before opening the transaction: the
object of a Create sent by id, a profile to refresh, or what a group announced (FEP-1b12):
an `Announce{Create{Note}}` is unwrapped, and the note is fetched from its own origin and
handled as if its author had sent it directly. That preparation is prepare.py's.

Items that need nothing from the network (the common case: a reply, a Like, a Delete from an
actor already stored) are handled in runs, one transaction per run: an item whose handler
fails ends the run, which is rolled back and done again without it, and it is marked as it
would be on its own; one commit serves the run, which is what a backlog after a restart needs. An item that
needs the network (an object sent by id, a profile to refresh, a first-contact actor, what a
group or relay announced) ends the run and is handled on its own, outside any transaction until
its handler runs, as before. Items keep their order either way.

Items are leased to this process by the one leased-queue runner (work/leased.py): the lease
is renewed while the batch is being worked on, handed back when the worker stops, and a dead
predecessor's leases on this host are taken back before claiming.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson

from ..activitypub.parse import Activity, ParseError, parse_activity
from ..httpclient import FetchError
from ..leases import LeaseOwner, current_owner
from ..runtime import Runtime
from ..store import actors as actor_store
from ..store import inbox as inbox_store
from ..store import notifications as notification_store
from ..store.actors import ActorRecord
from ..store.db import DatabaseUnavailable, Executor, Transaction, TransactionLost
from ..work.leased import LeasedWork
from .actors import ActorDirectory
from .handlers import Context, Rejected, dispatch
from .handlers.relays import on_relayed
from .prepare import Preparer, check_allowed, host_or_none, needs_network
from .retry import backoff

__all__ = ["InboxWorker"]

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
ITEM_TIMEOUT = 60.0


class _HandlerFailed(Exception):
    """The handler of the run's item at `index` raised `error`."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class InboxWorker:
    """Processes queued inbox items; `run_once` lets tests step it without sleeping."""

    def __init__(
        self,
        rt: Runtime,
        directory: ActorDirectory,
        batch: int = 256,
        owner: LeaseOwner | None = None,
        run: int = 128,
    ) -> None:
        self.rt = rt
        self.directory = directory
        self.batch = batch
        # At most this many items per transaction: on SQLite the connection is held for the
        # whole run (~0.3 ms an item), and the inbox route of an inline `serve` waits for it.
        self.run = run
        self.preparer = Preparer(rt, directory)
        # Every item of a batch may take up to ITEM_TIMEOUT: the lease covers one item and is
        # renewed for as long as the batch runs.
        lease = float(rt.config.delivery.lease_seconds) + ITEM_TIMEOUT
        self.leases = LeasedWork(rt.db, inbox_store.QUEUE, owner or current_owner(), lease)

    async def run_once(self) -> int:
        """Process one batch of due items; returns how many were claimed."""
        items = await self.leases.claim(self.batch)
        if not items:
            return 0
        items.sort(key=lambda i: i.id)
        async with self.leases.held(items) as pending:
            queue = items
            while queue:
                handled = await self._run_offline(queue)
                pending.difference_update(item.id for item in queue[:handled])
                if handled < len(queue):
                    # This one needs the network (or its batch failed): on its own, as ever.
                    await self._process(queue[handled])
                    pending.discard(queue[handled].id)
                    handled += 1
                queue = queue[handled:]
        return len(items)

    async def _run_offline(self, items: list[inbox_store.InboxItem]) -> int:
        """Handle the leading items that need nothing from the network in one transaction;
        returns how many were finished.

        An item refused before its handler ran (it wrote nothing) is marked in the same
        transaction. An item whose handler raised ends the run: the transaction is rolled back,
        the items before it are done again as a run (they had succeeded), and it is marked
        exactly as `_process` would mark it. No savepoint per item: on PostgreSQL those were two
        of the statements of every stored reply, for the rare item that fails in its handler.
        When the transaction itself fails, nothing of it is kept and its items go through
        `_process` one by one instead.
        """
        done: list[int] = []
        count = 0
        try:
            async with self.rt.db.transaction() as tx:
                # Actors read in this transaction; only a Delete (of an actor) changes them.
                actors: dict[str, ActorRecord] = {}
                # Reply notifications of the run's Creates, written in one statement.
                pending: list[notification_store.NewNotification] = []
                for index, item in enumerate(items[: self.run]):
                    if not await self._offline(tx, index, item, actors, done, pending):
                        break
                    count += 1
                await notification_store.add_many(tx, pending)
                await inbox_store.mark_done_many(tx, done)
        except DatabaseUnavailable:
            raise  # nothing of the run was kept: its items are handed back and come again
        except _HandlerFailed as failed:
            redone = await self._run_offline(items[: failed.index]) if failed.index else 0
            if redone < failed.index:
                return redone  # the rest of the batch goes on from there
            await self._failed(self.rt.db, items[failed.index], failed.error)
            after = failed.index + 1  # the run goes on after it, in a transaction of its own
            return after + (await self._run_offline(items[after:]) if after < len(items) else 0)
        except Exception:
            log.exception("inbox batch of %d items failed; processing them one by one", count)
            for item in items[:count]:
                await self._process(item)
        return count

    async def _offline(
        self,
        tx: Transaction,
        index: int,
        item: inbox_store.InboxItem,
        actors: dict[str, ActorRecord],
        done: list[int],
        pending: list[notification_store.NewNotification],
    ) -> bool:
        """One item of an offline batch; False (nothing done) when it needs the network.
        _HandlerFailed when its handler raised (what it wrote must be rolled back)."""
        ctx: Context | None = None
        try:
            async with asyncio.timeout(ITEM_TIMEOUT):
                activity = self._checked(item)
                if needs_network(activity):
                    return False
                actor = actors.get(activity.actor)
                if actor is None:
                    actor = await actor_store.by_uri(tx, activity.actor)
                    if actor is None:
                        return False  # first contact: ActorDirectory fetches it, outside a transaction
                    actors[activity.actor] = actor
                if activity.type == "Delete":
                    actors.clear()
                if (
                    activity.type == "Announce"
                    and isinstance(activity.object, str)
                    and await self.preparer.from_relay(tx, activity, actor)
                ):
                    return False
                if activity.type != "Create" and pending:
                    # Anything but a Create may read or remove notifications: the run's go in first.
                    await notification_store.add_many(tx, pending)
                    pending.clear()
                ctx = Context(self.rt, tx, activity, actor, pending=pending if activity.type == "Create" else None)
                await dispatch(ctx)
        except (TransactionLost, DatabaseUnavailable):
            raise
        except Exception as exc:
            if ctx is not None:  # the handler ran and may have written: the run is undone
                raise _HandlerFailed(index, exc) from exc
            await self._failed(tx, item, exc)  # refused before its handler: nothing of it was written
            return True
        done.append(item.id)
        if ctx.notes:
            log.debug("inbox item %s: %s", item.activity_id, "; ".join(ctx.notes))
        return True

    async def _process(self, item: inbox_store.InboxItem) -> None:
        try:
            async with asyncio.timeout(ITEM_TIMEOUT):
                notes = await self._handle(item)
        except DatabaseUnavailable:
            raise  # not the item's fault: it comes again once the database is back
        except Exception as exc:  # a bug in a handler must not stop the worker: see _failed
            await self._failed(self.rt.db, item, exc)
        else:
            if notes:
                log.debug("inbox item %s: %s", item.activity_id, "; ".join(notes))

    async def _failed(self, db: Executor, item: inbox_store.InboxItem, exc: Exception) -> None:
        """Mark an item whose processing raised: refused for good, retried later, or a bug."""
        if isinstance(exc, Rejected | ParseError | ValueError):
            log.info("inbox item %s refused: %s", item.activity_id, exc)
            await inbox_store.mark_failed(db, item.id, str(exc))
        elif isinstance(exc, FetchError | TimeoutError):
            reason = getattr(exc, "reason", None) or "timed out"
            if item.attempts >= MAX_TRANSIENT_ATTEMPTS or getattr(exc, "status", None) in (404, 410):
                await inbox_store.mark_failed(db, item.id, reason)
            else:
                await inbox_store.release(db, item.id, reason, time.time() + backoff(item.attempts))
        else:
            log.error("inbox item %s failed", item.activity_id, exc_info=exc)
            await inbox_store.mark_failed(db, item.id, f"internal error: {type(exc).__name__}")

    def _checked(self, item: inbox_store.InboxItem) -> Activity:
        """The stored document as an Activity, its actor unchanged and its domains still allowed."""
        activity = parse_activity(orjson.loads(item.document))
        if activity.actor != item.actor_uri:
            raise Rejected("actor changed after verification")
        # Our own objects (a Follow of our member, a Like of our post) are always fine.
        object_host = None if self.rt.urls.is_local(activity.object_id or "") else host_or_none(activity.object_id)
        check_allowed(self.rt.policy, host_or_none(activity.actor) or "", object_host)
        return activity

    async def _handle(self, item: inbox_store.InboxItem) -> list[str]:
        activity = self._checked(item)
        actor = await self.directory.get(activity.actor)
        prepared = await self.preparer.prepare(activity, actor)
        async with self.rt.db.transaction() as tx:
            ctx = Context(self.rt, tx, prepared.activity, prepared.actor, fetched=prepared.fetched, via=prepared.via)
            await (on_relayed(ctx) if prepared.relayed else dispatch(ctx))
            await inbox_store.mark_done(tx, item.id)
        return ctx.notes
