"""Remote actors and their keys: fetched from their origin, cached in the database and in memory."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from ..activitypub.parse import ParseError, RemoteActor, find_key, parse_actor
from ..content import inert_text
from ..errors import UserError
from ..hosts import host_of, same_origin
from ..httpclient import FetchError
from ..keys import INSTANCE_KEY
from ..runtime import Runtime
from ..signatures import PublicKey, SignatureAuth, SignatureError, decode_multikey, load_public_key_pem
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from . import webfinger
from .fetch import fetch_object

__all__ = ["ActorDirectory"]

KEY_CACHE_SIZE = 20_000
_T = TypeVar("_T")


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _no_nul(value: str | None) -> str | None:
    """PostgreSQL refuses NUL in text; no legitimate key or name contains one."""
    return None if value is None else value.replace("\x00", "")


def _record(actor: RemoteActor) -> ActorRecord:
    return ActorRecord(
        uri=actor.id,
        domain=host_of(actor.id),
        type=actor.type.replace("\x00", ""),
        username=actor.preferred_username,
        handle=inert_text(actor.handle, 200),
        name=inert_text(actor.name or actor.preferred_username or "", 100),
        summary=_no_nul(actor.summary) or "",
        url=_no_nul(actor.url),
        icon=_no_nul(actor.icon),
        inbox=actor.inbox,
        shared_inbox=actor.shared_inbox,
        followers_url=actor.followers,
        fetched_at=time.time(),
    )


def _parse_key(key_id: str, owner: str, pem: str | None, multibase: str | None) -> PublicKey:
    if pem:
        return PublicKey(key_id, owner, load_public_key_pem(pem))
    if multibase:
        return PublicKey(key_id, owner, decode_multikey(multibase))
    raise SignatureError("key has no usable material")


class ActorDirectory:
    """Looks up actors and keys: memory, then database, then the actor's own server."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._keys: OrderedDict[str, PublicKey] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[ActorRecord]] = {}

    @property
    def signer(self) -> SignatureAuth:
        """Our instance actor's signature, used for every fetch."""
        return SignatureAuth(self.rt.urls.instance_key, self.rt.keys.load(INSTANCE_KEY), "cavage")

    async def fetch_document(self, url: str) -> dict[str, Any]:
        """GET an ActivityPub document from its origin, signed, through the SSRF guard and policy.

        The client refuses any URL of this instance itself (in any spelling of its address).
        """
        return await fetch_object(self.rt.http, url, auth=self.signer, is_host_allowed=self.rt.policy.is_allowed)

    async def get(self, uri: str, refresh: bool = False) -> ActorRecord:
        """The actor with this id, fetched when not cached (or when refresh is asked)."""
        if not refresh:
            cached = await actor_store.by_uri(self.rt.db, uri)
            if cached is not None:
                return cached
        # Concurrent requests for one unknown actor share a single fetch.
        pending = self._inflight.get(uri)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[ActorRecord] = asyncio.get_running_loop().create_future()
        self._inflight[uri] = future
        try:
            record = await self._fetch_actor(uri)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(record)
            return record
        finally:
            if not future.done():
                future.cancel()
            del self._inflight[uri]

    async def _fetch_actor(self, uri: str) -> ActorRecord:
        doc = await self.fetch_document(uri)
        return await self._store_actor(doc)

    async def fetch_actor(self, uri: str) -> tuple[ActorRecord, RemoteActor]:
        """An actor fetched fresh from its origin (and cached), with what only its document says
        (alsoKnownAs, movedTo): what a Move is checked against."""
        return await self._store_parsed(await self.fetch_document(uri))

    async def fetch_actor_document(self, uri: str) -> tuple[ActorRecord, dict[str, Any]]:
        """`fetch_actor`, with the document itself (FetchError when it is no usable actor)."""
        doc = await self.fetch_document(uri)
        record, _ = await self._store_parsed(doc)
        return record, doc

    async def _store_actor(self, doc: dict[str, Any]) -> ActorRecord:
        record, _ = await self._store_parsed(doc)
        return record

    async def _store_parsed(self, doc: dict[str, Any]) -> tuple[ActorRecord, RemoteActor]:
        try:
            actor = parse_actor(doc)
        except ParseError as exc:
            raise FetchError(f"not a usable actor: {exc}") from None
        for url in (actor.inbox, actor.shared_inbox):
            if url and urlsplit(url).scheme not in ("http", "https"):
                raise FetchError("actor inbox is not http(s)")
        record = _record(actor)
        # Only the actor's own keys, on its own origin: a document must not be able to claim
        # (and overwrite in the cache) a key id that lives on another server.
        keys = [
            (k.id, _no_nul(k.pem), _no_nul(k.multibase))
            for k in actor.keys
            if k.owner == actor.id and same_origin(k.id, actor.id)
        ]
        await actor_store.upsert(self.rt.db, record, keys)
        for key_id, *_ in keys:
            self._keys.pop(key_id, None)
        return record, actor

    async def lookup_key(self, key_id: str, refresh: bool) -> PublicKey:
        """The KeyLookup for signature verification (parsed keys cached in memory)."""
        if not refresh:
            cached = self._keys.get(key_id)
            if cached is not None:
                self._keys.move_to_end(key_id)
                return cached
            cached_key = await actor_store.key(self.rt.db, key_id)
            if cached_key is not None:
                return self._remember(_parse_key(key_id, cached_key.actor_uri, cached_key.pem, cached_key.multibase))
        try:
            return self._remember(await self._fetch_key(key_id))
        except FetchError as exc:
            raise SignatureError(f"cannot fetch key {key_id}: {exc.reason}") from None

    def _remember(self, key: PublicKey) -> PublicKey:
        self._keys[key.key_id] = key
        if len(self._keys) > KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return key

    async def _fetch_key(self, key_id: str) -> PublicKey:
        """Fetch a key by its id: from an actor document, or a key document plus its owner."""
        doc = await self.fetch_document(_strip_fragment(key_id))
        found = find_key(doc, key_id)
        if found is None:
            raise SignatureError("key document does not contain the keyId")
        is_full_actor = doc.get("type") not in ("CryptographicKey", "Key", "Multikey") and bool(doc.get("inbox"))
        if found.owner == doc.get("id") and is_full_actor:
            owner_doc = doc
        else:
            # A standalone key document, or GoToSocial's cut-down actor at .../main-key
            # (no inbox): the owner's full actor must list the same key.
            owner_doc = await self.fetch_document(found.owner)
            listed = find_key(owner_doc, key_id)
            if listed is None or listed.owner != owner_doc.get("id"):
                raise SignatureError("key owner does not list this key")
        record = await self._store_actor(owner_doc)
        if found.owner != record.uri:
            raise SignatureError("key owner does not match the actor document")
        if not same_origin(key_id, record.uri):
            raise SignatureError("key is not on its owner's host")
        return _parse_key(key_id, record.uri, found.pem, found.multibase)

    async def resolve(self, handle_or_url: str) -> ActorRecord:
        """An actor from a URL or a @user@host handle (via WebFinger); UserError if impossible."""
        return await self._resolving(handle_or_url, lambda uri: self.get(uri, refresh=True))

    async def resolve_fresh(self, handle_or_url: str) -> tuple[ActorRecord, RemoteActor]:
        """`resolve`, with the actor's document as fetched just now (its alsoKnownAs, movedTo)."""
        return await self._resolving(handle_or_url, self.fetch_actor)

    async def _resolving(self, handle_or_url: str, fetch: Callable[[str], Awaitable[_T]]) -> _T:
        value = handle_or_url.strip()
        try:
            if value.startswith(("http://", "https://")):
                return await fetch(value)
            answer = await webfinger.lookup(self.rt, webfinger.parse_handle(value))
            if answer.actor is None:
                raise FetchError("WebFinger answer has no ActivityPub link")
            return await fetch(answer.actor)
        except (FetchError, httpx.HTTPError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise UserError(f"cannot look up {value}: {reason}", key="interact_unknown") from None
