"""The inbox routes: check, verify, dedupe, store raw, answer 202. Nothing else on this path.

Order of checks, cheapest first, each one required:
content type (415) -> size (413) -> a signature header at all (401) -> JSON (400) ->
federation policy on the actor's and the key's host (403, before any key is fetched) ->
blocked actor (403) -> rate limit per remote domain (429) -> signature (401) ->
key owner is the actor (401) -> JSON-LD normalised as the worker will read it (400) ->
activity id on the actor's origin (400) -> object origin (403) -> ownership of what an
Update, Delete or Undo names: comment, post, follow, reaction (403) -> store (202).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from ..activitypub.jsonld import normalise
from ..activitypub.parse import same_origin
from ..runtime import Runtime
from ..signatures import SignatureError, verify_request
from ..store import inbox as inbox_store
from ..store import members
from .actors import ActorDirectory
from .fetch import parse_json_document
from .origin import object_ids, origin_problem, type_of
from .policy import host_of
from .ratelimit import TokenBucketLimiter

__all__ = ["InboxEndpoint"]

ACCEPTED_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
_KEY_ID = re.compile(r'keyid="([^"]{1,2000})"', re.IGNORECASE)


class BadRequest(Exception):
    """A refusal with an HTTP status and a short reason."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


def _actor_id(doc: dict[str, Any]) -> str:
    actor = doc.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str) or not actor.startswith(("https://", "http://")):
        raise BadRequest(400, "activity has no actor")
    return actor


def _key_id(request: Request) -> str:
    headers = request.headers
    header = headers.get("signature-input") or headers.get("signature") or ""
    if not header and headers.get("authorization", "").lower().startswith("signature "):
        header = headers["authorization"]
    match = _KEY_ID.search(header)
    if not match:
        raise BadRequest(401, "missing signature or keyId")
    return match.group(1)


def _authority(scheme: str, hostport: str) -> str:
    """host[:port] lower-cased, without the scheme's default port (as a Host header reads)."""
    value = hostport.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    return value[: -len(default)] if default and value.endswith(default) else value


def _object_id(doc: dict[str, Any]) -> str | None:
    obj = doc.get("object")
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else None


class InboxEndpoint:
    """POST /inbox and POST /users/{username}/inbox."""

    def __init__(self, rt: Runtime, directory: ActorDirectory, notify: Callable[[], None], unavailable: Callable[[str], None]) -> None:
        self.rt = rt
        self.directory = directory
        self.notify = notify
        self.seen_domain = unavailable
        fed = rt.config.federation
        self.max_bytes = fed.max_inbox_bytes
        self.limiter = TokenBucketLimiter(fed.inbox_rate_limit)
        base = urlsplit(rt.urls.base)
        self.scheme = base.scheme
        self.authority = _authority(base.scheme, base.netloc)

    async def shared(self, request: Request) -> Response:
        """The shared inbox."""
        return await self._handle(request)

    async def personal(self, request: Request) -> Response:
        """A member's own inbox; 404 for unknown members."""
        if await members.by_username(self.rt.db, request.path_params["username"]) is None:
            return JSONResponse({"error": "no such member"}, status_code=404)
        return await self._handle(request)

    async def _handle(self, request: Request) -> Response:
        try:
            return await self._receive(request)
        except BadRequest as exc:
            return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=exc.headers)

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BadRequest(400, "invalid Content-Length")
            if int(declared) > self.max_bytes:
                raise BadRequest(413, f"body larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_bytes:
                    raise BadRequest(413, f"body larger than {self.max_bytes} bytes")
                chunks.append(chunk)
        except ClientDisconnect:
            raise BadRequest(400, "client disconnected") from None
        return b"".join(chunks)

    async def _receive(self, request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in ACCEPTED_TYPES:
            raise BadRequest(415, "content type must be application/activity+json or application/ld+json")
        body = await self._read_body(request)
        key_id = _key_id(request)
        try:
            doc = parse_json_document(body)
        except ValueError as exc:
            raise BadRequest(400, f"invalid JSON: {exc}") from None
        actor = _actor_id(doc)
        policy = self.rt.policy
        try:
            actor_host, key_host = host_of(actor), host_of(key_id)
        except ValueError:
            raise BadRequest(400, "actor or keyId is not an http(s) URL") from None
        if not policy.is_allowed(actor_host) or not policy.is_allowed(key_host):
            raise BadRequest(403, "domain not allowed by this instance's federation policy")
        if await self.rt.db.fetchval("SELECT 1 FROM blocked_actors WHERE actor_uri = ?", (actor,)):
            raise BadRequest(403, "actor is blocked")
        wait = self.limiter.allow(actor_host)
        if wait > 0:
            raise BadRequest(429, "too many requests", {"Retry-After": str(max(1, int(wait + 0.999)))})
        kind = doc.get("type")
        if kind == "Delete" and _object_id(doc) == actor and not await self._known(actor):
            # An account we never saw deleting itself: its key is gone too, and there is
            # nothing to remove. Answer 202 without fetching anything (as Mastodon does).
            return Response(status_code=202)
        url = self.rt.urls.base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if "signature-input" not in request.headers and not self._for_us(request.headers.get("host", "")):
            # A draft-cavage signature covers the Host header as sent: a request signed for
            # another server must not verify here (RFC 9421 signs our own URL, see `url`).
            raise BadRequest(401, "signed for another host than this instance")
        try:
            verified = await verify_request(request.method, url, request.headers, body, self.directory.lookup_key)
        except SignatureError as exc:
            raise BadRequest(401, exc.reason) from None
        if verified.owner != actor:
            raise BadRequest(401, "key owner is not the activity's actor")
        # The checks below read the document the way the worker will: JSON-LD-normalised
        # (a no-op for plain compact AS2), so another spelling cannot slip past them.
        try:
            checked = normalise(doc)
        except ValueError as exc:
            raise BadRequest(400, f"unusable JSON-LD: {str(exc)[:120]}") from None
        if _actor_id(checked) != actor:
            raise BadRequest(400, "activity's actor is ambiguous")
        activity_id = checked.get("id")
        if not isinstance(activity_id, str) or not same_origin(activity_id, actor):
            raise BadRequest(400, "activity id missing or not on the actor's host")
        if (problem := origin_problem(checked, actor)) is not None:
            raise BadRequest(403, problem)
        checked_kind = type_of(checked.get("type"))
        if checked_kind in ("Update", "Delete", "Undo"):
            for object_id in object_ids(checked):
                if await self._owner(object_id) not in (None, actor):
                    raise BadRequest(403, f"{checked_kind} of something that belongs to another actor")
        stored = await inbox_store.add(self.rt.db, activity_id, actor, actor_host, body.decode("utf-8"))
        self.seen_domain(actor_host)
        if stored:
            self.notify()
        return Response(status_code=202)

    def _for_us(self, host: str) -> bool:
        return _authority(self.scheme, host) == self.authority

    async def _owner(self, object_id: str) -> str | None:
        """The actor a stored comment, post, follow or reaction belongs to, or None if unknown."""
        db = self.rt.db
        for sql in (
            "SELECT author_uri FROM comments WHERE ap_id = ?",
            "SELECT actor_uri FROM remote_posts WHERE ap_id = ?",
            "SELECT actor_uri FROM followers WHERE follow_id = ?",
            "SELECT actor_uri FROM reactions WHERE activity_id = ?",
        ):
            owner = await db.fetchval(sql, (object_id,))
            if owner is not None:
                return str(owner)
        return None

    async def _known(self, actor: str) -> bool:
        return bool(await self.rt.db.fetchval("SELECT 1 FROM actors WHERE uri = ?", (actor,)))
