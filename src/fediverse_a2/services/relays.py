"""Relay subscriptions of the instance actor: subscribe, unsubscribe, list.

A LitePub relay (Pleroma, activityrelay) is subscribed by following its actor; a
Mastodon-style relay (pub-relay) by sending a Follow of as:Public to its inbox. Either way the
Follow comes from the instance actor (`/actor`, an Application: relays refuse a Person), and
the answer is matched by the Follow's id (federation/handlers/relays.py).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..activitypub import build
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..hosts import HostError, host_of, origin_of
from ..runtime import Runtime
from ..store import relays

__all__ = ["RelayTarget", "add_relay", "list_relays", "relay_target", "remove_relay"]


@dataclass(frozen=True)
class RelayTarget:
    """Where a relay subscription goes: the inbox, and what the Follow names."""

    inbox: str
    follow_object: str
    actor: str | None  # known up front for a LitePub relay only


def is_inbox_url(url: str) -> bool:
    """A Mastodon-style relay is named by its inbox URL (…/inbox)."""
    return urlsplit(url).path.rstrip("/").endswith("/inbox")


def _check_url(rt: Runtime, url: str) -> str:
    if origin_of(url) is None or urlsplit(url).fragment:
        raise UserError(f"not a relay URL: {url}", key="relay_not_a_url", values={"url": url})
    try:
        domain = host_of(url)
    except HostError as exc:
        raise UserError(f"not a relay URL: {url} ({exc})", key="relay_not_a_url", values={"url": url}) from None
    if not rt.policy.is_allowed(domain):
        raise UserError(
            f"{domain} is not a domain this instance federates with",
            key="relay_not_federated",
            values={"domain": domain},
        )
    if rt.urls.is_local(url):
        raise UserError("that URL is on this instance", key="relay_local")
    return domain


async def relay_target(directory: ActorDirectory, url: str) -> RelayTarget:
    """Where to send the Follow for `url`: its inbox as given, or the inbox of the actor it names."""
    if is_inbox_url(url):
        return RelayTarget(url, build.PUBLIC, None)
    actor = await directory.resolve(url)
    return RelayTarget(actor.inbox, actor.uri, actor.uri)


async def add_relay(rt: Runtime, directory: ActorDirectory, url: str) -> relays.Relay:
    """Subscribe to a relay: record it as pending and queue the instance actor's Follow."""
    url = url.strip()
    _check_url(rt, url)
    if await relays.by_url(rt.db, url) is not None:
        raise UserError(f"already subscribed to {url}", key="relay_already_subscribed", values={"url": url})
    target = await relay_target(directory, url)
    domain = _check_url(rt, target.inbox)
    me = rt.urls.instance_actor
    follow = build.follow(f"{me}#relay-follows/{uuid.uuid4().hex}", me, target.follow_object)
    follow["to"] = [target.follow_object]
    async with rt.db.transaction() as tx:
        if not await relays.add(tx, url, target.actor, target.inbox, domain, follow["id"], json.dumps(follow)):
            raise UserError(f"already subscribed to {url}", key="relay_already_subscribed", values={"url": url})
        await queue_activity(tx, follow, None, targets=[(target.inbox, domain, None)])
        relay = await relays.by_url(tx, url)
    assert relay is not None
    return relay


async def remove_relay(rt: Runtime, url: str) -> relays.Relay:
    """Unsubscribe: forget the relay and queue an Undo that embeds the original Follow (same id)."""
    url = url.strip()
    me = rt.urls.instance_actor
    async with rt.db.transaction() as tx:
        relay = await relays.remove(tx, url)
        if relay is None:
            raise UserError(f"not subscribed to {url}", key="relay_not_subscribed", values={"url": url})
        undo = build.undo(f"{me}#relay-undo/{uuid.uuid4().hex}", me, json.loads(relay.follow))
        undo["to"] = [relay.actor or build.PUBLIC]
        await queue_activity(tx, undo, None, targets=[(relay.inbox, relay.domain, None)])
    return relay


async def list_relays(rt: Runtime) -> list[relays.Relay]:
    """Every relay subscription with its state."""
    return await relays.all_relays(rt.db)
