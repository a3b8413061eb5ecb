"""The inbox worker: takes stored activities and runs their handler, each in its own transaction.

The inbox already verified, normalised and checked each activity; the worker reads the
document it stored (never normalising again), re-checks the policy (it may have changed
since), and does the network work a handler needs before opening the transaction: the
object of a Create sent by id, a profile to refresh, or what a group announced (FEP-1b12):
an `Announce{Create{Note}}` is unwrapped, and the note is fetched from its own origin and
handled as if its author had sent it directly.

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
from ..store import actor_blocks, relays
from ..store import inbox as inbox_store
from ..store.actors import ActorRecord
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
        self, rt: Runtime, directory: ActorDirectory, batch: int = 64, owner: LeaseOwner | None = None
    ) -> None:
        self.rt = rt
        self.directory = directory
        self.batch = batch
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
            for item in items:
                await self._process(item)
                pending.discard(item.id)
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

    def _check_allowed(self, *hosts: str | None) -> None:
        policy = self.rt.policy
        for host in hosts:
            if host is not None and not policy.is_allowed(host):
                raise Rejected("domain no longer allowed")

    async def _handle(self, item: inbox_store.InboxItem) -> list[str]:
        activity = parse_activity(orjson.loads(item.document))
        if activity.actor != item.actor_uri:
            raise Rejected("actor changed after verification")
        # Our own objects (a Follow of our member, a Like of our post) are always fine.
        object_host = None if self.rt.urls.is_local(activity.object_id or "") else _host(activity.object_id)
        self._check_allowed(_host(activity.actor) or "", object_host)
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
        if activity.type == "Announce" and isinstance(inner, str) and await self._from_relay(activity, actor):
            return await self._relayed(activity, inner)
        if activity.type in _UNWRAPPED and isinstance(inner, str):
            if not same_origin(inner, activity.actor):
                raise Rejected("object id is not on the actor's host")
            return Prepared(activity, actor, fetched=await self.directory.fetch_document(inner))
        if _refreshes_actor(activity):
            actor = await self.directory.get(activity.actor, refresh=True)
        return Prepared(activity, actor)

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

    async def _from_relay(self, announce: Activity, actor: ActorRecord) -> bool:
        """Whether an Announce comes from a relay this instance subscribes to (and was accepted by)."""
        relay = await relays.for_actor(self.rt.db, announce.actor, actor.domain)
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
