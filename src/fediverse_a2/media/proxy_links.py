"""PURE: links to the media proxy, signed so that it fetches only what this instance put on a page.

A link names the kind of image (`avatar`, resized to a square, or `image`), an HMAC of the
kind and the remote URL under the instance's secret, and the URL itself (base64url). The
proxy fetches a URL only when the HMAC matches, so it is never an open proxy: the only URLs
it ever fetches are the ones pages were rendered with (images of stored remote comments and
posts, avatars of stored remote actors).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

__all__ = ["AVATAR", "IMAGE", "KINDS", "ProxyLink", "cache_key", "link_for", "url_of"]

AVATAR, IMAGE = "avatar", "image"
KINDS = frozenset({AVATAR, IMAGE})
_MAX_URL = 4096
_SIGNATURE = re.compile(r"[0-9a-f]{32}")
_ENCODED = re.compile(r"[A-Za-z0-9_-]{1,6000}")


class ProxyLink:
    """The parts of a proxy link: kind, signature, encoded URL (the route's path parameters)."""

    __slots__ = ("encoded", "kind", "signature")

    def __init__(self, kind: str, signature: str, encoded: str) -> None:
        self.kind = kind
        self.signature = signature
        self.encoded = encoded


def _sign(secret: bytes, kind: str, url: str) -> str:
    return hmac.new(secret, f"media-proxy\n{kind}\n{url}".encode(), hashlib.sha256).hexdigest()[:32]


def link_for(secret: bytes, kind: str, url: str) -> ProxyLink:
    """The signed link parts for a remote image URL."""
    encoded = base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()
    return ProxyLink(kind, _sign(secret, kind, url), encoded)


def url_of(secret: bytes, link: ProxyLink) -> str | None:
    """The remote URL a link stands for, or None when it is not one this instance signed."""
    if link.kind not in KINDS or not _SIGNATURE.fullmatch(link.signature) or not _ENCODED.fullmatch(link.encoded):
        return None
    try:
        url = base64.urlsafe_b64decode(link.encoded + "=" * (-len(link.encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if len(url) > _MAX_URL or not hmac.compare_digest(_sign(secret, link.kind, url), link.signature):
        return None
    return url


def cache_key(link: ProxyLink) -> str:
    """The name of the cached copy (its signature is unique per kind and URL)."""
    return f"{link.kind}-{link.signature}"
