"""PURE: actor documents and their keys (publicKey, FEP-521a assertionMethod Multikeys)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..hosts import origin_of
from .values import (
    MAX_KEYS,
    MAX_NAME,
    MAX_SUMMARY,
    ParseError,
    image_url,
    is_http_id,
    items_of,
    natural,
    pick_url,
    ref,
    required_id,
    required_type,
    same_host,
    short_type,
    text_of,
    types_of,
)

__all__ = ["ActorKey", "RemoteActor", "find_key", "parse_actor"]

_MAX_PEM = 16_384
_MAX_MULTIBASE = 4_096
_KEY_TYPES = frozenset({"CryptographicKey", "Key", "Multikey"})
MAX_ALIASES = 20
_USERNAME_BAD = re.compile(r"[\x00-\x20\x7f@/\\:?#]")


@dataclass(frozen=True)
class ActorKey:
    id: str
    owner: str  # owner (publicKey) or controller (Multikey)
    pem: str | None  # RSA public key, PEM
    multibase: str | None  # FEP-521a publicKeyMultibase


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    summary: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    following: str | None
    url: str | None  # None when on another host than id
    icon: str | None  # avatar URL
    keys: tuple[ActorKey, ...]
    handle: str  # "@preferredUsername@host" (normalised host of id, port kept if not default)
    also_known_as: tuple[str, ...] = ()  # the actor's other accounts (alsoKnownAs), by id
    moved_to: str | None = None  # where the account moved (movedTo)


def _key_from(item: dict[str, Any], multikey: bool) -> ActorKey | None:
    ident = item.get("id")
    owner = item.get("controller") if multikey else item.get("owner")
    if multikey and owner is None:
        owner = item.get("owner")
    if not multikey and owner is None:
        owner = item.get("controller")
    if not isinstance(ident, str) or not isinstance(owner, str) or not is_http_id(ident) or not is_http_id(owner):
        return None
    pem = text_of(item.get("publicKeyPem"), _MAX_PEM + 1)
    multibase = text_of(item.get("publicKeyMultibase"), _MAX_MULTIBASE + 1)
    if pem is not None and (len(pem) > _MAX_PEM or "-----BEGIN" not in pem):
        pem = None
    if multibase is not None and (len(multibase) > _MAX_MULTIBASE or not multibase.startswith("z")):
        multibase = None
    if pem is None and multibase is None:
        return None
    return ActorKey(ident, owner, pem, multibase)


def _keys(doc: dict[str, Any]) -> tuple[ActorKey, ...]:
    """publicKey entries and FEP-521a assertionMethod Multikeys; same id and owner merged."""
    found: dict[tuple[str, str], ActorKey] = {}
    sources = [(item, False) for item in items_of(doc.get("publicKey"), MAX_KEYS)]
    sources += [(item, True) for item in items_of(doc.get("assertionMethod"), MAX_KEYS)]
    for item, multikey in sources:
        if not isinstance(item, dict):
            continue  # a bare reference: nothing to verify with
        key = _key_from(item, multikey)
        if key is None:
            continue
        slot = (key.id, key.owner)
        old = found.get(slot)
        if old is not None:
            key = ActorKey(key.id, key.owner, old.pem or key.pem, old.multibase or key.multibase)
        elif len(found) >= MAX_KEYS:
            continue
        found[slot] = key
    return tuple(found.values())


def _username(value: Any) -> str | None:
    name = text_of(value, MAX_NAME)
    return name if name and not _USERNAME_BAD.search(name) else None


def parse_actor(doc: dict[str, Any]) -> RemoteActor:
    """An actor document. ParseError when id, type or inbox is missing or unusable."""
    if not isinstance(doc, dict):
        raise ParseError("actor is not a JSON object")
    ident = required_id(doc.get("id"), "id")
    kind = required_type(doc)
    inbox = required_id(doc.get("inbox"), "inbox")
    endpoints = doc.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    preferred = text_of(doc.get("preferredUsername"), MAX_NAME)
    user = _username(preferred)
    if user is None:
        path = urlsplit(ident).path.rstrip("/")
        user = _username(path.rsplit("/", 1)[-1]) if path else None
    origin = origin_of(ident)
    host = origin.authority if origin is not None else None
    if user is None or host is None:
        raise ParseError("no usable preferredUsername")
    picked = pick_url(doc.get("url"), prefer="text/html")
    return RemoteActor(
        id=ident,
        type=kind,
        preferred_username=preferred or None,
        name=natural(doc, "name", MAX_NAME) or None,
        summary=natural(doc, "summary", MAX_SUMMARY) or None,
        inbox=inbox,
        shared_inbox=shared if is_http_id(shared) else None,
        outbox=ref(doc.get("outbox")),
        followers=ref(doc.get("followers")),
        following=ref(doc.get("following")),
        url=same_host(picked[0] if picked else None, ident),
        icon=image_url(doc.get("icon")),
        keys=_keys(doc),
        handle=f"@{user}@{host}",
        also_known_as=_aliases(doc.get("alsoKnownAs")),
        moved_to=ref(doc.get("movedTo")),
    )


def _aliases(value: Any) -> tuple[str, ...]:
    """The ids an actor says it is also known as (at most MAX_ALIASES, each an http(s) id)."""
    found: list[str] = []
    for item in items_of(value, MAX_ALIASES):
        ident = ref(item)
        if ident is not None and ident not in found:
            found.append(ident)
    return tuple(found)


def find_key(doc: dict[str, Any], key_id: str) -> ActorKey | None:
    """The key with id key_id in an actor document, or doc itself when it is that key.

    A key document is a CryptographicKey / Key / Multikey with an owner or controller (what
    a GoToSocial-style ``.../main-key`` may dereference to). Actor documents are searched
    without requiring the rest of the actor to be valid (GoToSocial serves a stub there).
    """
    if not isinstance(doc, dict) or not isinstance(key_id, str):
        return None
    kinds = {short_type(t) for t in types_of(doc.get("type"))}
    if doc.get("id") == key_id and kinds & _KEY_TYPES:
        return _key_from(doc, "Multikey" in kinds)
    for key in _keys(doc):
        if key.id == key_id:
            return key
    return None
