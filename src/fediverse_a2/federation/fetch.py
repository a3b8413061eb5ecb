"""ActivityPub GETs on the guarded client: what a document must be to be believed.

On top of the client's guard: the ActivityPub Accept header, manual same-site redirects
(at most `max_redirects`), the federation policy on every hop, ActivityPub content types
only (CVE-2024-25623), and a document whose `id` is the URL it was served from (else it is
refetched from its own id, once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..hosts import DEFAULT_PORTS, HostError, canonical_url, parse_origin
from ..httpclient import FetchError, FetchSettings, read_limited, settings_of
from ..jsondoc import parse_json_document

__all__ = ["AP_ACCEPT", "fetch_object", "network_reason", "same_url"]

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# ld+json is accepted with or without the ActivityStreams profile: several servers omit it,
# and the origin rule (id == URL) is what actually ties a document to its host.
AP_MEDIA_TYPES = frozenset({"application/activity+json", "application/ld+json"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _checked_url(url: str) -> tuple[str, str]:
    """(url without fragment, canonical host) for an http(s) URL; FetchError otherwise."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in DEFAULT_PORTS:
        raise FetchError(f"refused: only http(s) URLs are fetched, not {scheme or 'no'} scheme")
    try:
        origin = parse_origin(url)
        canonical = canonical_url(url.split("#", 1)[0])
    except HostError as exc:
        raise FetchError(f"refused: {exc}") from None
    return canonical, origin.host


def same_url(a: str, b: str) -> bool:
    """Equal, or equal once the origins are compared canonically (case, default ports, IP forms)."""
    if a == b:
        return True
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return parse_origin(a) == parse_origin(b) and (pa.path, pa.query, pa.fragment) == (
            pb.path,
            pb.query,
            pb.fragment,
        )
    except (HostError, ValueError):
        return False


def _check_host(host: str, is_host_allowed: Callable[[str], bool]) -> None:
    if not is_host_allowed(host):
        raise FetchError("blocked domain")


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _get_once(
    client: httpx.AsyncClient, url: str, auth: httpx.Auth | None, accept: str, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """One GET: (body, None) on success or (None, Location) on a redirect."""
    kwargs: dict[str, Any] = {"auth": auth} if auth is not None else {}
    async with client.stream("GET", url, headers={"Accept": accept}, **kwargs) as response:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without Location", status=status)
            return None, location
        if status >= 400:
            raise FetchError(f"HTTP {status}", status=status)
        if status != 200:
            raise FetchError(f"unexpected HTTP {status}", status=status)
        media = _media_type(response)
        if media not in AP_MEDIA_TYPES:
            # CVE-2024-25623: anything else may be an upload or a page an attacker controls.
            raise FetchError(f"not an ActivityPub document (Content-Type {media or 'missing'})", status=status)
        return await read_limited(response, max_bytes), None


async def _get_document(
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.Auth | None,
    accept: str,
    is_host_allowed: Callable[[str], bool],
    settings: FetchSettings,
) -> tuple[dict[str, Any], str]:
    """(document, final URL), following at most max_redirects same-site redirects."""
    current, host = _checked_url(url)
    _check_host(host, is_host_allowed)
    for _ in range(settings.max_redirects + 1):
        body, location = await _get_once(client, current, auth, accept, settings.max_bytes)
        if body is not None:
            try:
                return parse_json_document(body), current
            except ValueError as exc:
                raise FetchError(f"invalid JSON: {exc}") from None
        target, target_host = _checked_url(urljoin(current, location or ""))
        # Policy first, so a redirect to a blocked domain is reported as such.
        _check_host(target_host, is_host_allowed)
        if parse_origin(target) != parse_origin(current):
            raise FetchError(f"cross-site redirect to {target_host}")
        current = target
    raise FetchError(f"more than {settings.max_redirects} redirects")


def _doc_id(doc: dict[str, Any]) -> str:
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise FetchError("document has no id")
    return doc_id


async def _fetch_checked(
    client: httpx.AsyncClient,
    url: str,
    auth: httpx.Auth | None,
    accept: str,
    is_host_allowed: Callable[[str], bool],
    settings: FetchSettings,
) -> dict[str, Any]:
    doc, final_url = await _get_document(client, url, auth, accept, is_host_allowed, settings)
    doc_id = _doc_id(doc)
    if same_url(doc_id, final_url):
        return doc
    # The document claims another id: believe it only as served by that id's own origin.
    refetch_url, _ = _checked_url(doc_id)
    doc, final_url = await _get_document(client, refetch_url, auth, accept, is_host_allowed, settings)
    if same_url(_doc_id(doc), final_url):
        return doc
    raise FetchError("id does not match URL")


def network_reason(exc: httpx.HTTPError) -> str:
    """A short reason for an httpx failure."""
    kinds: tuple[tuple[type[httpx.HTTPError], str], ...] = (
        (httpx.ConnectTimeout, "connect timed out"),
        (httpx.ReadTimeout, "read timed out"),
        (httpx.TimeoutException, "timed out"),
        (httpx.ConnectError, "connection failed"),
        (httpx.RemoteProtocolError, "protocol error"),
        (httpx.NetworkError, "network error"),
    )
    kind = next((text for cls, text in kinds if isinstance(exc, cls)), type(exc).__name__)
    detail = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{kind}: {detail}" if detail else kind


async def fetch_object(
    client: httpx.AsyncClient,
    url: str,
    *,
    auth: httpx.Auth | None = None,
    is_host_allowed: Callable[[str], bool] = lambda h: True,
    accept: str = AP_ACCEPT,
) -> dict[str, Any]:
    """GET an ActivityPub document whose id is where it was fetched from; FetchError otherwise."""
    settings = settings_of(client)
    try:
        # One budget for the whole lookup (redirects and the id refetch included).
        async with asyncio.timeout(settings.total_timeout):
            return await _fetch_checked(client, url, auth, accept, is_host_allowed, settings)
    except TimeoutError:
        raise FetchError(f"timed out after {settings.total_timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(network_reason(exc)) from None
