"""What an inbox item's handler needs from the network, fetched before its transaction.

The inbox worker (processing.py) hands an activity here when it needs more than the stored
document: the object of a Create or Update sent by id (fetched from the actor's own origin), a
profile to refresh (Update{Person}), what a group announced (FEP-1b12: an
`Announce{Create{Note}}` is unwrapped, and the note is fetched from its own origin and handled
as if its author had sent it directly), or what a relay this instance subscribes to announced
by id (fetched, and handled as its author's Create), or the new account of a Move of an account
a member follows (FEP-7628: fetched fresh, so its alsoKnownAs is the one it has now). The
group's or relay's copy is never trusted: only the fetched object from its own origin is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..activitypub.parse import Activity, ParseError, RemoteNote, parse_activity, parse_note
from ..hosts import HostError, host_of, same_origin
from ..policy import Policy
from ..runtime import Runtime
from ..store import actor_blocks, follows, relays
from ..store.actors import ActorRecord
from ..store.db import Executor
from .actors import ActorDirectory
from .handlers import Rejected
from .handlers.notes import ACTOR_TYPES

__all__ = ["Prepared", "Preparer", "check_allowed", "host_or_none", "needs_network"]

UNWRAPPED = frozenset({"Create", "Update"})


@dataclass(frozen=True)
class Prepared:
    """An activity with everything its handler needs from the network."""

    activity: Activity
    actor: ActorRecord
    fetched: dict[str, Any] | None = None
    via: str | None = None
    relayed: bool = False  # announced by a relay we subscribe to: handlers/relays.on_relayed


def host_or_none(url: str | None) -> str | None:
    """The policy host of a URL; None for no URL or one without a usable host."""
    try:
        return host_of(url) if url else None
    except HostError:
        return None


def needs_network(activity: Activity) -> bool:
    """Whether `Preparer.prepare` fetches something for this activity (besides an unknown actor, and
    an Announce by id from a relay, which the caller checks)."""
    inner = activity.object
    if activity.type == "Move":
        return True  # the new account is fetched fresh (see Preparer._move)
    if activity.type == "Announce":
        return isinstance(inner, dict) and inner.get("type") in UNWRAPPED
    if activity.type in UNWRAPPED and isinstance(inner, str):
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


def check_allowed(policy: Policy, *hosts: str | None) -> None:
    """Rejected when one of the hosts is no longer allowed by the federation policy."""
    for host in hosts:
        if host is not None and not policy.is_allowed(host):
            raise Rejected("domain no longer allowed")


class Preparer:
    """Fetches, outside any transaction, what an activity's handler will need."""

    def __init__(self, rt: Runtime, directory: ActorDirectory) -> None:
        self.rt = rt
        self.directory = directory

    async def prepare(self, activity: Activity, actor: ActorRecord) -> Prepared:
        """Fetch what the handler needs before its transaction."""
        inner = activity.object
        if activity.type == "Announce" and isinstance(inner, dict) and inner.get("type") in UNWRAPPED:
            return await self._unwrap(activity, inner)
        if (
            activity.type == "Announce"
            and isinstance(inner, str)
            and await self.from_relay(self.rt.db, activity, actor)
        ):
            return await self._relayed(activity, inner)
        if activity.type in UNWRAPPED and isinstance(inner, str):
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
        check_allowed(self.rt.policy, host_or_none(target))
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

    async def from_relay(self, db: Executor, announce: Activity, actor: ActorRecord) -> bool:
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
        check_allowed(self.rt.policy, host_or_none(object_id))
        fetched = await self.directory.fetch_document(object_id)
        try:
            note = parse_note(fetched)
        except ParseError as exc:
            raise Rejected(f"unusable announced object: {exc}") from None
        author = note.attributed_to
        if not same_origin(note.id, author):
            raise Rejected("announced object is not on its author's host")
        check_allowed(self.rt.policy, host_or_none(author))
        if await actor_blocks.is_blocked(self.rt.db, author):
            raise Rejected("author of the announced object is blocked")
        return fetched, note
