"""Remote actors and their keys: fetched from their origin, cached in the database and in memory."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from ..activitypub.parse import ParseError, RemoteActor, find_key, parse_actor, same_origin
from ..content import inert_text
from ..errors import UserError
from ..runtime import Runtime
from ..signatures import PublicKey, SignatureAuth, SignatureError, decode_multikey, load_public_key_pem
from ..store import actors as actor_store
from ..store.actors import ActorRecord
from .fetch import FetchError, fetch_object
from .policy import host_of

__all__ = ["ActorDirectory"]

KEY_CACHE_SIZE = 20_000
MAX_WEBFINGER_BYTES = 256_000


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
        from ..keys import INSTANCE_KEY

        return SignatureAuth(self.rt.urls.instance_key, self.rt.keys.load(INSTANCE_KEY), "cavage")

    async def fetch_document(self, url: str) -> dict[str, Any]:
        """GET an ActivityPub document from its origin, signed, through the SSRF guard and policy."""
        if self.rt.urls.is_local(url):
            raise FetchError("refusing to fetch our own URL over the network")
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

    async def _store_actor(self, doc: dict[str, Any]) -> ActorRecord:
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
        return record

    async def lookup_key(self, key_id: str, refresh: bool) -> PublicKey:
        """The KeyLookup for signature verification (parsed keys cached in memory)."""
        if not refresh:
            cached = self._keys.get(key_id)
            if cached is not None:
                self._keys.move_to_end(key_id)
                return cached
            row = await actor_store.key(self.rt.db, key_id)
            if row is not None:
                return self._remember(_parse_key(key_id, row["actor_uri"], row["pem"], row["multibase"]))
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
        value = handle_or_url.strip()
        try:
            if value.startswith(("http://", "https://")):
                return await self.get(value, refresh=True)
            uri = await self._webfinger(value)
            return await self.get(uri, refresh=True)
        except (FetchError, httpx.HTTPError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise UserError(f"cannot look up {value}: {reason}") from None

    async def _webfinger(self, handle: str) -> str:
        user, _, host = handle.lstrip("@").partition("@")
        if not user or not host:
            raise UserError(f"not a handle or URL: {handle} (use @user@host or https://...)")
        if not self.rt.policy.is_allowed(host):
            raise UserError(f"{host} is not allowed by the federation policy")
        resource = quote(f"acct:{user}@{host}", safe=":@")
        schemes = ["https"] + (["http"] if self.rt.config.federation.allow_private_network else [])
        last: Exception | None = None
        for scheme in schemes:
            try:
                doc = await self._get_jrd(f"{scheme}://{host}/.well-known/webfinger?resource={resource}")
                break
            except (FetchError, httpx.HTTPError) as exc:
                last = exc
        else:
            raise FetchError(f"WebFinger failed: {getattr(last, 'reason', None) or last}")
        for link in doc.get("links") or []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and isinstance(link.get("href"), str)
                and (link.get("type") or "").startswith(("application/activity+json", "application/ld+json"))
            ):
                return link["href"]
        raise FetchError("WebFinger answer has no ActivityPub link")

    async def _get_jrd(self, url: str) -> dict[str, Any]:
        async with self.rt.http.stream("GET", url, headers={"Accept": "application/jrd+json"}) as response:
            if response.status_code != 200:
                raise FetchError(f"WebFinger answered {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_WEBFINGER_BYTES:
                    raise FetchError("WebFinger answer too large")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FetchError("WebFinger answer is not JSON") from None
        if not isinstance(doc, dict):
            raise FetchError("WebFinger answer is not an object")
        return doc
