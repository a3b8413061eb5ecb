"""What every part of the signatures package shares: the error, the key and result types, the helpers.

Pure: no database, no network. The key lookup is injected (KeyLookup), so callers decide
about caching and fetching.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ..hosts import DEFAULT_PORTS, canonical_authority

__all__ = [
    "AnyPrivateKey",
    "AnyPublicKey",
    "KeyLookup",
    "PublicKey",
    "SignatureError",
    "SignedRequest",
    "Verified",
    "b64decode",
    "check_window",
    "has_body",
    "lower_headers",
    "target",
]

AnyPublicKey = RSAPublicKey | Ed25519PublicKey
AnyPrivateKey = RSAPrivateKey | Ed25519PrivateKey

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class SignatureError(Exception):
    """A request signature that is missing, malformed, stale or wrong; `.reason` is the 401 body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    """A parsed public key and the actor that owns it."""

    key_id: str
    owner: str
    key: AnyPublicKey


# (key_id, refresh) -> key. refresh=True means "refetch, the cached key failed"; raises
# SignatureError when no key can be had.
KeyLookup = Callable[[str, bool], Awaitable[PublicKey]]


@dataclass(frozen=True)
class Verified:
    """Who signed a request that verified, and with which scheme ("cavage" or "rfc9421")."""

    key_id: str
    owner: str
    scheme: str


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """An incoming request as the verifier sees it: `url` is this server's own name for it."""

    method: str
    url: str
    parts: SplitResult
    authority: str  # canonical host[:port] of `url`, the scheme's default port left out
    headers: Mapping[str, str]  # lower-cased names, repeated lines joined with ", "
    body: bytes

    @classmethod
    def of(cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> SignedRequest:
        """Build one from what a route has; ValueError when `url` is not an absolute http(s) URL."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.netloc:
            raise ValueError(f"this server's URL must be an absolute http(s) URL, not {url[:200]!r}")
        # A HostError (a ValueError) here is a misconfigured base URL, not the requester's fault.
        authority = canonical_authority(parts.netloc, scheme)
        return cls(method, url, parts, authority, headers, body or b"")

    @property
    def has_body(self) -> bool:
        """Whether this request needs a (signed) digest of its body."""
        return has_body(self.method, self.body)


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased; repeated fields combined with ", " as both specs require."""
    # starlette's Headers.items() yields every raw line, so a repeated field is seen here.
    out: dict[str, str] = {}
    for name, value in headers.items():
        name, value = name.lower(), value.strip()
        out[name] = value if name not in out else f"{out[name]}, {value}"
    return out


def target(parts: SplitResult) -> str:
    """Path and query of a URL, as (request-target) and @request-target carry them."""
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def has_body(method: str, body: bytes) -> bool:
    """Whether a request carries a body that its signature must cover through a digest."""
    # A POST with an empty body still gets (and needs) a digest, as Mastodon does.
    return bool(body) or method.upper() in _BODY_METHODS


def b64decode(value: str, what: str) -> bytes:
    """Strict base64 (no stray characters); SignatureError naming `what` otherwise."""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SignatureError(f"{what} is not valid base64") from None


def check_window(created: int | None, expires: int | None, now: float, max_skew: int) -> None:
    """Refuse a signature created too far from `now` (either way) or already expired."""
    if created is not None and abs(now - created) > max_skew:
        raise SignatureError("signature created time is too far from now")
    if expires is not None and now > expires:
        raise SignatureError("signature has expired")
