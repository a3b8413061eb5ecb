"""The inbox worker: takes stored activities and runs their handler.

The inbox already verified, normalised and checked each activity; the worker reads the
document it stored (never normalising again), re-checks the policy (it may have changed
since), and does the network work a handler needs before opening the transaction: the
object of a Create sent by id, a profile to refresh, or what a group announced (FEP-1b12):
an `Announce{Create{Note}}` is unwrapped, and the note is fetched from its own origin and
handled as if its author had sent it directly.

Items that need nothing from the network (the common case: a reply, a Like, a Delete from an
actor already stored) are handled in runs, one transaction per run and a SAVEPOINT per item:
an item that fails rolls back alone and is marked in the same transaction, as it would be on
its own; one commit serves the run, which is what a backlog after a restart needs. An item that
needs the network (an object sent by id, a profile to refresh, a first-contact actor, what a
group or relay announced) ends the run and is handled on its own, outside any transaction until
its handler runs, as before. Items keep their order either way.

Items are leased to this process (leases.py) and the lease is renewed while the batch is
being worked on; a dead predecessor's leases on this host are taken back before claiming.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from ..activitypub.parse import Activity, ParseError, RemoteNote, parse_activity, parse_note
from ..hosts import HostError, host_of, same_origin
from ..httpclient import FetchError
from ..leases import LeaseOwner, current_owner
from ..runtime import Runtime
from ..store import actor_blocks, follows, relays
from ..store import actors as actor_store
from ..store import inbox as inbox_store
from ..store.actors import ActorRecord
from ..store.db import Executor, Transaction, TransactionLost
from .actors import ActorDirectory
from .handlers import Context, Rejected, dispatch
from .handlers.notes import ACTOR_TYPES
from .handlers.relays import on_relayed
from .reclaim import Reclaimer
from .retry import backoff

__all__ = ["InboxWorker"]

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
ITEM_TIMEOUT = 60.0
_UNWRAPPED = frozenset({"Create", "Update"})


@dataclass(frozen=True)
class Prepared:
    """An activity with everything its handler needs from the network."""

    activity: Activity
    actor: ActorRecord
    fetched: dict[str, Any] | None = None
    via: str | None = None
    relayed: bool = False  # announced by a relay we subscribe to: handlers/relays.on_relayed


def _host(url: str | None) -> str | None:
    try:
        return host_of(url) if url else None
    except HostError:
        return None


def _needs_network(activity: Activity) -> bool:
    """Whether `_prepare` fetches something for this activity (besides an unknown actor, and
    an Announce by id from a relay, which the caller checks)."""
    inner = activity.object
    if activity.type == "Move":
        return True  # the new account is fetched fresh (see _move)
    if activity.type == "Announce":
        return isinstance(inner, dict) and inner.get("type") in _UNWRAPPED
    if activity.type in _UNWRAPPED and isinstance(inner, str):
        return True
    return _refreshes_actor(activity)


def _refreshes_actor(activity: Activity) -> bool:
    """Update{Person}: the profile is refetched from its origin before handling."""
    obj = activity.object
    return (
        activity.type == "Update"
        and isinstance(obj, dict)
        and obj.get("type") in ACTOR_TYPES
        and obj.get("id") == activity.actor
    )


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
        self.owner = owner or current_owner()
        # Every item of a batch may take up to ITEM_TIMEOUT: the lease covers one item and is
        # renewed (by _keep_leased) for as long as the batch runs.
        self.lease = float(rt.config.delivery.lease_seconds) + ITEM_TIMEOUT
        self.reclaimer = Reclaimer(rt.db, "inbox_items", self.owner, self.lease / 3, time.time)

    async def run_once(self) -> int:
        """Process one batch of due items; returns how many were claimed."""
        await self.reclaimer.run_due()
        owner = str(self.owner)
        items = await inbox_store.claim(self.rt.db, time.time(), self.lease, self.batch, owner)
        if not items:
            return 0
        pending = {item.id for item in items}
        keeper = asyncio.create_task(self._keep_leased(pending, owner))
        try:
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
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return len(items)

    async def _keep_leased(self, ids: set[int], owner: str) -> None:
        """Extend the lease of the batch's unfinished items every third of the lease time."""
        while True:
            await asyncio.sleep(self.lease / 3)
            await inbox_store.renew_leases(self.rt.db, sorted(ids), time.time() + self.lease, owner)

    async def _run_offline(self, items: list[inbox_store.InboxItem]) -> int:
        """Handle the leading items that need nothing from the network in one transaction, each
        in a savepoint of its own; returns how many were finished.

        An item that fails rolls back only its savepoint and is marked in the same transaction,
        exactly as `_process` would mark it. When the transaction itself fails, nothing of it
        is kept and its items go through `_process` one by one instead.
        """
        done: list[int] = []
        count = 0
        try:
            async with self.rt.db.transaction() as tx:
                # Actors read in this transaction; only a Delete (of an actor) changes them.
                actors: dict[str, ActorRecord] = {}
                for item in items[: self.run]:
                    if not await self._offline(tx, item, actors, done):
                        break
                    count += 1
                await inbox_store.mark_done_many(tx, done)
        except Exception:
            log.exception("inbox batch of %d items failed; processing them one by one", count)
            for item in items[:count]:
                await self._process(item)
        return count

    async def _offline(
        self, tx: Transaction, item: inbox_store.InboxItem, actors: dict[str, ActorRecord], done: list[int]
    ) -> bool:
        """One item of an offline batch; False (nothing done) when it needs the network."""
        try:
            async with asyncio.timeout(ITEM_TIMEOUT):
                activity = self._checked(item)
                if _needs_network(activity):
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
                    and await self._from_relay(tx, activity, actor)
                ):
                    return False
                async with tx.savepoint():
                    ctx = Context(self.rt, tx, activity, actor)
                    await dispatch(ctx)
        except TransactionLost:
            raise
        except Exception as exc:
            await self._failed(tx, item, exc)
            return True
        done.append(item.id)
        if ctx.notes:
            log.debug("inbox item %s: %s", item.activity_id, "; ".join(ctx.notes))
        return True

    async def _process(self, item: inbox_store.InboxItem) -> None:
        try:
            async with asyncio.timeout(ITEM_TIMEOUT):
                notes = await self._handle(item)
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

    def _check_allowed(self, *hosts: str | None) -> None:
        policy = self.rt.policy
        for host in hosts:
            if host is not None and not policy.is_allowed(host):
                raise Rejected("domain no longer allowed")

    def _checked(self, item: inbox_store.InboxItem) -> Activity:
        """The stored document as an Activity, its actor unchanged and its domains still allowed."""
        activity = parse_activity(orjson.loads(item.document))
        if activity.actor != item.actor_uri:
            raise Rejected("actor changed after verification")
        # Our own objects (a Follow of our member, a Like of our post) are always fine.
        object_host = None if self.rt.urls.is_local(activity.object_id or "") else _host(activity.object_id)
        self._check_allowed(_host(activity.actor) or "", object_host)
        return activity

    async def _handle(self, item: inbox_store.InboxItem) -> list[str]:
        activity = self._checked(item)
        actor = await self.directory.get(activity.actor)
        prepared = await self._prepare(activity, actor)
        async with self.rt.db.transaction() as tx:
            ctx = Context(self.rt, tx, prepared.activity, prepared.actor, fetched=prepared.fetched, via=prepared.via)
            await (on_relayed(ctx) if prepared.relayed else dispatch(ctx))
            await inbox_store.mark_done(tx, item.id)
        return ctx.notes

    async def _prepare(self, activity: Activity, actor: ActorRecord) -> Prepared:
        """Fetch what the handler needs before its transaction."""
        inner = activity.object
        if activity.type == "Announce" and isinstance(inner, dict) and inner.get("type") in _UNWRAPPED:
            return await self._unwrap(activity, inner)
        if (
            activity.type == "Announce"
            and isinstance(inner, str)
            and await self._from_relay(self.rt.db, activity, actor)
        ):
            return await self._relayed(activity, inner)
        if activity.type in _UNWRAPPED and isinstance(inner, str):
            if not same_origin(inner, activity.actor):
                raise Rejected("object id is not on the actor's host")
            return Prepared(activity, actor, fetched=await self.directory.fetch_document(inner))
        if _refreshes_actor(activity):
            actor = await self.directory.get(activity.actor, refresh=True)
        if activity.type == "Move":
            return await self._move(activity, actor)
        return Prepared(activity, actor)

    async def _move(self, move: Activity, actor: ActorRecord) -> Prepared:
        """A Move of an account a member follows: the new account fetched fresh from its own origin,
        so the handler checks its alsoKnownAs as it is now (never a copy the Move carried)."""
        target = move.target
        if target is None or self.rt.urls.is_local(target) or not await follows.is_following(self.rt.db, actor.uri):
            return Prepared(move, actor)  # nothing to fetch: the handler decides from what is stored
        self._check_allowed(_host(target))
        if await actor_blocks.is_blocked(self.rt.db, target):
            raise Rejected("the target of the Move is blocked")
        _, fetched = await self.directory.fetch_actor_document(target)
        return Prepared(move, actor, fetched=fetched)

    async def _unwrap(self, announce: Activity, inner: dict[str, Any]) -> Prepared:
        """What a group announced, checked as a direct delivery: the object is fetched from its
        own origin (never taken from the group's copy) and handled as its author's."""
        try:
            wrapped = parse_activity(inner)
        except ParseError as exc:
            raise Rejected(f"unusable announced activity: {exc}") from None
        object_id = wrapped.object_id
        if object_id is None:
            raise Rejected("announced activity has no object id")
        if self.rt.urls.is_local(object_id):
            # A group boosting one of our own posts: count it as the boost it is.
            boost = dataclasses.replace(announce, object=object_id, object_id=object_id)
            return Prepared(boost, await self.directory.get(announce.actor))
        fetched, note = await self._fetch_announced(object_id)
        author = note.attributed_to
        direct = Activity(
            id=wrapped.id if wrapped.id and same_origin(wrapped.id, author) else f"{note.id}#via-announce",
            type=wrapped.type,
            actor=author,
            object=fetched,
            object_id=note.id,
            target=None,
            to=note.to,
            cc=note.cc,
            raw=inner,
        )
        return Prepared(direct, await self.directory.get(author), fetched=fetched, via=announce.actor)

    async def _from_relay(self, db: Executor, announce: Activity, actor: ActorRecord) -> bool:
        """Whether an Announce comes from a relay this instance subscribes to (and was accepted by)."""
        relay = await relays.for_actor(db, announce.actor, actor.domain)
        return relay is not None and relay.actor == announce.actor and relay.state == relays.ACCEPTED

    async def _relayed(self, announce: Activity, object_id: str) -> Prepared:
        """What a relay announced by id: fetched from its own origin (verified like any fetch)
        and handled as its author's Create; the relay only tells us it exists."""
        if self.rt.urls.is_local(object_id):
            raise Rejected("a relay announced one of our own objects")
        fetched, note = await self._fetch_announced(object_id)
        if note.id != object_id:
            raise Rejected("relayed object is not the one announced")
        author = note.attributed_to
        direct = Activity(
            id=f"{note.id}#via-relay",
            type="Create",
            actor=author,
            object=fetched,
            object_id=note.id,
            target=None,
            to=note.to,
            cc=note.cc,
            raw=announce.raw,
        )
        return Prepared(direct, await self.directory.get(author), fetched=fetched, via=announce.actor, relayed=True)

    async def _fetch_announced(self, object_id: str) -> tuple[dict[str, Any], RemoteNote]:
        """An announced note, fetched from its own origin, on its author's host, neither refused nor blocked."""
        self._check_allowed(_host(object_id))
        fetched = await self.directory.fetch_document(object_id)
        try:
            note = parse_note(fetched)
        except ParseError as exc:
            raise Rejected(f"unusable announced object: {exc}") from None
        author = note.attributed_to
        if not same_origin(note.id, author):
            raise Rejected("announced object is not on its author's host")
        self._check_allowed(_host(author))
        if await actor_blocks.is_blocked(self.rt.db, author):
            raise Rejected("author of the announced object is blocked")
        return fetched, note
