"""Verifying an incoming request: the one function every signed route calls.

Binding to this host lives here, not in a route: the inbox, authorized fetch and any other
signed GET all pass through `verify_request`, so none of them can forget it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from .candidates import MAX_CANDIDATES, Candidate, parse_lowered
from .cavage import cavage_signed_data
from .common import KeyLookup, PublicKey, SignatureError, SignedRequest, Verified, lower_headers
from .keys import check_signature
from .rfc9421 import rfc9421_signed_data

__all__ = ["verify_request"]


def _signed_data(c: Candidate, req: SignedRequest, now: float, max_skew: int) -> bytes:
    if c.scheme == "cavage":
        return cavage_signed_data(c, req, now, max_skew)
    if c.scheme == "rfc9421":
        return rfc9421_signed_data(c, req, now, max_skew)
    raise SignatureError(f"unknown signature scheme {c.scheme[:20]!r}")


class _Keys:
    """Key lookups for one request: each key fetched once, refetched at most once."""

    def __init__(self, lookup: KeyLookup) -> None:
        self.lookup = lookup
        self.cached: dict[str, PublicKey | SignatureError] = {}
        self.refreshed: set[str] = set()

    async def get(self, key_id: str, refresh: bool) -> PublicKey:
        if refresh:
            self.refreshed.add(key_id)
        elif key_id in self.cached:
            found = self.cached[key_id]
            if isinstance(found, SignatureError):
                raise found
            return found
        try:
            found = await self.lookup(key_id, refresh)
        except SignatureError as exc:
            self.cached[key_id] = exc
            raise
        self.cached[key_id] = found
        return found

    async def verify(self, c: Candidate, key_type: str | None, data: bytes) -> Verified:
        pk = await self.get(c.key_id, False)
        reason = check_signature(pk.key, key_type, c.signature, data)
        if reason is not None and c.key_id not in self.refreshed:
            pk = await self.get(c.key_id, True)  # the actor may have rotated its key: refetch once
            reason = check_signature(pk.key, key_type, c.signature, data)
        if reason is not None:
            raise SignatureError(reason)
        return Verified(c.key_id, pk.owner, c.scheme)


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    lookup: KeyLookup,
    *,
    now: float | None = None,
    max_skew: int = 3600,
    candidates: Sequence[Candidate] | None = None,
) -> Verified:
    """Verify a request's signatures (RFC 9421 first, else draft-cavage), or raise SignatureError.

    `url` is the full URL as this server names itself (configured base URL + path + query),
    never derived from the request's Host header; a signature must be bound to it. `headers`
    may be any case mix, e.g. starlette `Headers`. `candidates` are what `parse_signatures`
    returned (after the caller's policy checked their key ids); without them the headers are
    parsed here. Each candidate is tried in order and the first that verifies wins; if none
    does, the first candidate's error is raised. Every rule is checked before any key lookup.
    Checking that `Verified.owner` is the activity's actor is the caller's job.
    """
    now = time.time() if now is None else now
    h = lower_headers(headers)
    req = SignedRequest.of(method, url, h, body)
    todo = parse_lowered(h) if candidates is None else list(candidates)[:MAX_CANDIDATES]
    if not todo:
        raise SignatureError("no signature left to verify")
    errors: list[SignatureError | None] = []
    ready: list[tuple[int, Candidate, str | None, bytes]] = []
    for index, candidate in enumerate(todo):
        try:
            key_type = candidate.key_type  # an unsupported algorithm fails here, before any lookup
            ready.append((index, candidate, key_type, _signed_data(candidate, req, now, max_skew)))
            errors.append(None)
        except SignatureError as exc:
            errors.append(exc)
    keys = _Keys(lookup)
    for index, candidate, key_type, data in ready:
        try:
            return await keys.verify(candidate, key_type, data)
        except SignatureError as exc:
            errors[index] = exc
    first = next(e for e in errors if e is not None)  # nothing verified, so every entry is set
    raise first
