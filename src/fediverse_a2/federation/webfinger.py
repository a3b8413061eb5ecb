"""WebFinger lookups of `@user@host` handles, through the guarded client.

Used to find a remote actor for a member to follow, and (remote interaction) to find a
visitor's server's `http://ostatus.org/schema/1.0/subscribe` template, as Mastodon
publishes it. Both come from a stranger: the host is checked against the federation
policy, the answer is size-capped, and only its own fields are believed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import UserError
from ..hosts import HostError, canonical_host, format_authority, split_hostport
from ..httpclient import FetchError, read_limited
from ..jsondoc import parse_json_document
from ..runtime import Runtime

__all__ = ["SUBSCRIBE_REL", "Handle", "WebFingerAnswer", "lookup", "parse_handle"]

MAX_WEBFINGER_BYTES = 256_000
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
_AP_TYPES = ("application/activity+json", "application/ld+json")


@dataclass(frozen=True)
class Handle:
    """A parsed `user@host[:port]` handle; `host` is canonical, `authority` is what the URL uses."""

    user: str
    host: str
    authority: str

    def __str__(self) -> str:
        return f"@{self.user}@{self.authority}"


@dataclass(frozen=True)
class WebFingerAnswer:
    """What a WebFinger answer told us: the actor's id and the remote-interaction template."""

    actor: str | None
    subscribe_template: str | None


def parse_handle(value: str) -> Handle:
    """`@user@host`, `user@host` or `acct:user@host` as a Handle; UserError when it is none of these."""
    text = value.strip().removeprefix("acct:").lstrip("@")
    user, at, authority = text.rpartition("@")
    if not at or not user or not authority or any(c in user for c in "@/ \t") or len(text) > 300:
        raise UserError(f"not a fediverse handle: {value.strip()[:100]} (use @user@host)", key="interact_bad_handle")
    try:
        host_text, port = split_hostport(authority)
        host = canonical_host(host_text)
    except HostError:
        raise UserError(
            f"not a fediverse handle: {value.strip()[:100]} (the host is not valid)", key="interact_bad_handle"
        ) from None
    return Handle(user, host, format_authority(host, port))


async def lookup(rt: Runtime, handle: Handle) -> WebFingerAnswer:
    """Ask the handle's server about it; FetchError (or UserError for a refused host) otherwise."""
    if not rt.policy.is_allowed(handle.host):
        raise UserError(
            f"{handle.host} is not allowed by the federation policy", key="host_refused", values={"host": handle.host}
        )
    resource = quote(f"acct:{handle.user}@{handle.authority}", safe=":@")
    schemes = ["https"] + (["http"] if rt.config.federation.allow_private_network else [])
    last: Exception | None = None
    for scheme in schemes:
        try:
            doc = await _get_jrd(rt, f"{scheme}://{handle.authority}/.well-known/webfinger?resource={resource}")
            break
        except (FetchError, httpx.HTTPError) as exc:
            last = exc
    else:
        raise FetchError(f"WebFinger failed: {getattr(last, 'reason', None) or last}")
    return _read(doc)


def _read(doc: dict[str, Any]) -> WebFingerAnswer:
    actor = template = None
    links = doc.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        rel = link.get("rel")
        if actor is None and rel == "self" and isinstance(link.get("href"), str):
            if str(link.get("type") or "").startswith(_AP_TYPES):
                actor = link["href"]
        elif template is None and rel == SUBSCRIBE_REL and isinstance(link.get("template"), str):
            template = link["template"]
    return WebFingerAnswer(actor, template)


async def _get_jrd(rt: Runtime, url: str) -> dict[str, Any]:
    headers = {"Accept": "application/jrd+json, application/json;q=0.9"}
    async with rt.http.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise FetchError(f"WebFinger answered {response.status_code}", response.status_code)
        body = await read_limited(response, MAX_WEBFINGER_BYTES)
    try:
        return parse_json_document(body)
    except ValueError as exc:
        raise FetchError(f"WebFinger answer is not a JSON object: {exc}") from None
