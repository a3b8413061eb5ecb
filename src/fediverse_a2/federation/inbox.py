"""The inbox routes: check, verify, normalise, dedupe, store, answer 202. Nothing else on this path.

Order of checks, cheapest first, each one required:
content type (415) -> size (413) -> the request's signatures, parsed once (401: none,
malformed or ambiguous) -> JSON (400) -> the actor (400) -> federation policy on the actor's
host and on every signature's key host (403, before any key is fetched) -> blocked actor
(403) -> failed verifications from this address (429) -> signature, bound to this instance
(401; a failure is charged to the source address) -> key owner is the actor (401) -> rate
limit of the actor's domain, charged only now that the signature verified (429) -> JSON-LD
normalised once, off the event loop and within a budget (400) -> activity id on the actor's
origin (400) -> object origin (403) -> ownership of what an Update, Delete or Undo names
(403) -> store the raw body and the normalised document (202).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..activitypub.jsonld import NormaliseError
from ..activitypub.parse import actor_of
from ..hosts import HostError, host_of, same_origin
from ..jsondoc import parse_json_document
from ..request_body import BodyError, read_stream
from ..runtime import Runtime
from ..signatures import Candidate, SignatureError, parse_signatures, verify_request
from ..store import actor_blocks, members, ownership
from ..store import actors as actor_store
from ..store import inbox as inbox_store
from .actors import ActorDirectory
from .jsonld_worker import JsonLdWorker
from .origin import object_ids, origin_problem, type_of
from .ratelimit import TokenBucketLimiter

__all__ = ["FAILED_VERIFICATIONS_PER_MINUTE", "InboxAnswer", "InboxEndpoint", "InboxRequest"]

ACCEPTED_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
# Signatures that fail to verify, per source address: what a forger may cost us in key
# fetches and RSA work. A real server's failures (a rotated key) are rare.
FAILED_VERIFICATIONS_PER_MINUTE = 60


# How a refusal is counted (metrics.py), by status unless the refusal names its own kind.
_KINDS = {400: "malformed", 401: "signature", 403: "forbidden", 404: "no_such_member", 413: "too_large",
          415: "content_type", 429: "rate_limited"}  # fmt: skip


class BadRequest(Exception):
    """A refusal with an HTTP status and a short reason (`kind`: how /metrics counts it)."""

    def __init__(
        self, status: int, reason: str, headers: dict[str, str] | None = None, kind: str | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers
        self.kind = kind or _KINDS.get(status, "other")


@dataclass(frozen=True, slots=True)
class InboxRequest:
    """What the inbox reads of a request. No framework's request object: the route that makes
    it (web/inbox_route.py) sits below Starlette's routing, Request and Response."""

    method: str
    path: str  # as this server received it (the signature is bound to base_url + path + query)
    query: str
    headers: Mapping[str, str]  # names lower-cased, repeated fields joined (signatures.lower_headers)
    client: str  # the client's address, after server.trusted_proxies
    chunks: AsyncIterator[bytes]  # the body as it arrives; raises ClientDisconnect (request_body.py)


@dataclass(frozen=True, slots=True)
class InboxAnswer:
    """The inbox's answer: 202 with no body, or a refusal with its reason (sent as JSON)."""

    status: int
    error: str | None = None
    headers: Mapping[str, str] | None = None


ACCEPTED = InboxAnswer(202)


def _retry_after(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, int(wait + 0.999)))}


def _hosts(actor: str, candidates: list[Candidate]) -> list[str]:
    try:
        return [host_of(actor), *(host_of(c.key_id) for c in candidates)]
    except HostError:
        raise BadRequest(400, "actor or keyId is not an http(s) URL") from None


class InboxEndpoint:
    """POST /inbox and POST /users/{username}/inbox."""

    def __init__(
        self,
        rt: Runtime,
        directory: ActorDirectory,
        jsonld: JsonLdWorker,
        notify: Callable[[], None],
        seen_domain: Callable[[str], None],
    ) -> None:
        self.rt = rt
        self.directory = directory
        self.jsonld = jsonld
        self.notify = notify
        self.seen_domain = seen_domain
        fed = rt.config.federation
        self.max_bytes = fed.max_inbox_bytes
        self.limiter = TokenBucketLimiter(fed.inbox_rate_limit)
        self.failures = TokenBucketLimiter(FAILED_VERIFICATIONS_PER_MINUTE)

    async def shared(self, request: InboxRequest) -> InboxAnswer:
        """The shared inbox."""
        return await self._handle(request)

    async def personal(self, request: InboxRequest, username: str) -> InboxAnswer:
        """A member's own inbox; 404 for unknown members."""
        if await members.by_username(self.rt.db, username) is None:
            self.rt.metrics.inbox_refused("no_such_member")
            return InboxAnswer(404, "no such member")
        return await self._handle(request)

    async def _handle(self, request: InboxRequest) -> InboxAnswer:
        try:
            return await self._receive(request)
        except BadRequest as exc:
            self.rt.metrics.inbox_refused(exc.kind)
            return InboxAnswer(exc.status, exc.reason, exc.headers)

    async def _read_body(self, request: InboxRequest) -> bytes:
        try:
            return await read_stream(request.headers.get("content-length"), request.chunks, self.max_bytes)
        except BodyError as exc:
            raise BadRequest(exc.status, exc.reason) from None

    async def _receive(self, request: InboxRequest) -> InboxAnswer:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in ACCEPTED_TYPES:
            raise BadRequest(415, "content type must be application/activity+json or application/ld+json")
        body = await self._read_body(request)
        try:
            # One parser: the keyIds the policy checks below are the ones that get verified.
            candidates = parse_signatures(request.method, request.headers)
        except SignatureError as exc:
            raise BadRequest(401, exc.reason) from None
        try:
            doc = parse_json_document(body)
        except ValueError as exc:
            raise BadRequest(400, f"invalid JSON: {exc}") from None
        actor = actor_of(doc)
        if actor is None:
            raise BadRequest(400, "activity has no actor")
        hosts = _hosts(actor, candidates)
        policy = self.rt.policy
        if not all(policy.is_allowed(host) for host in hosts):
            raise BadRequest(403, "domain not allowed by this instance's federation policy", kind="policy")
        if await actor_blocks.is_blocked(self.rt.db, actor):
            raise BadRequest(403, "actor is blocked", kind="blocked_actor")
        if doc.get("type") == "Delete" and _object_id(doc) == actor and not await actor_store.exists(self.rt.db, actor):
            # An account we never saw deleting itself: its key is gone too, and there is
            # nothing to remove. Answer 202 without fetching anything (as Mastodon does).
            self.rt.metrics.inbox_accepted("ignored")
            return ACCEPTED
        await self._verify(request, body, candidates, actor)
        actor_host = hosts[0]
        wait = self.limiter.allow(actor_host)
        if wait > 0:
            raise BadRequest(429, "too many requests", _retry_after(wait))
        checked = await self._normalise(doc, actor)
        activity_id = checked.get("id")
        if not isinstance(activity_id, str) or not same_origin(activity_id, actor):
            raise BadRequest(400, "activity id missing or not on the actor's host")
        if (problem := origin_problem(checked, actor)) is not None:
            raise BadRequest(403, problem, kind="origin")
        kind = type_of(checked.get("type"))
        if kind in ("Update", "Delete", "Undo"):
            for object_id in object_ids(checked):
                if await ownership.owner_of(self.rt.db, object_id) not in (None, actor):
                    raise BadRequest(403, f"{kind} of something that belongs to another actor", kind="ownership")
        document = None if checked is doc else orjson.dumps(checked).decode()
        stored = await inbox_store.add(self.rt.db, activity_id, actor, actor_host, body.decode("utf-8"), document)
        self.seen_domain(actor_host)
        self.rt.metrics.inbox_accepted("new" if stored else "duplicate")
        if stored:
            self.notify()
        return ACCEPTED

    async def _verify(self, request: InboxRequest, body: bytes, candidates: list[Candidate], actor: str) -> None:
        """The signature, bound to this instance's own URL; failures are charged per source address."""
        source = request.client
        if self.failures.peek(source) > 0:
            raise BadRequest(429, "too many failed signatures from this address", _retry_after(60), "failed_signatures")
        url = self.rt.urls.base + request.path + (f"?{request.query}" if request.query else "")
        try:
            verified = await verify_request(
                request.method, url, request.headers, body, self.directory.lookup_key, candidates=candidates
            )
        except SignatureError as exc:
            self.failures.allow(source)
            raise BadRequest(401, exc.reason) from None
        if verified.owner != actor:
            self.failures.allow(source)
            raise BadRequest(401, "key owner is not the activity's actor")

    async def _normalise(self, doc: dict[str, Any], actor: str) -> dict[str, Any]:
        """The document as the worker will read it: JSON-LD-normalised once (a no-op for compact AS2)."""
        try:
            checked = await self.jsonld.normalise(doc)
        except NormaliseError as exc:
            raise BadRequest(400, f"unusable JSON-LD: {str(exc)[:120]}", kind="jsonld") from None
        if actor_of(checked) != actor:
            raise BadRequest(400, "activity's actor is ambiguous")
        return checked


def _object_id(doc: dict[str, Any]) -> str | None:
    obj = doc.get("object")
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else None
