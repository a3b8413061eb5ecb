"""Body digests: `Digest` (RFC 3230, draft-cavage) and `Content-Digest` (RFC 9530), made and checked.

A digest header may list several algorithms. Checking only the first known one would let a
request carry a second, different value that another parser reads instead, so every value of
an algorithm we know must match, each algorithm may appear once, and at least one of
sha-256 / sha-512 must be present. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from .common import SignatureError, b64decode
from .structured_fields import DuplicateError, parse_dictionary

__all__ = ["check_content_digest", "check_digest", "content_digest_header", "digest_header"]

_KNOWN: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


def digest_header(body: bytes) -> str:
    """The draft-cavage `Digest` header value for `body`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` header value for `body`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _matches(name: str, digest: bytes, body: bytes) -> bool:
    return hmac.compare_digest(digest, _KNOWN[name](body))


def check_digest(value: str | None, body: bytes) -> None:
    """Check a `Digest` header against `body`; SignatureError when missing, ambiguous or wrong."""
    if value is None:
        raise SignatureError("Digest header is missing")
    seen: set[str] = set()
    for part in value.split(","):
        name, sep, b64 = part.strip().partition("=")
        name = name.lower()  # RFC 3230 algorithm names are case-insensitive
        if not sep or not name or not b64:
            raise SignatureError("malformed Digest header")
        if name in seen:
            raise SignatureError(f"Digest repeats the {name[:20]} algorithm")
        seen.add(name)
        if name in _KNOWN and not _matches(name, b64decode(b64, "Digest"), body):
            raise SignatureError("Digest does not match the body")
    if not seen & _KNOWN.keys():
        raise SignatureError("Digest has no SHA-256 or SHA-512 value")


def check_content_digest(value: str | None, body: bytes) -> None:
    """Check a `Content-Digest` header against `body`; SignatureError when missing, ambiguous or wrong."""
    if value is None:
        raise SignatureError("Content-Digest header is missing")
    try:
        members = parse_dictionary(value, strict=True)
    except DuplicateError:
        raise SignatureError("Content-Digest repeats an algorithm or parameter") from None
    except ValueError:
        raise SignatureError("malformed Content-Digest header") from None
    checked = False
    for name, (digest, _params) in members.items():
        if name in _KNOWN:
            if not isinstance(digest, bytes) or not _matches(name, digest, body):
                raise SignatureError("Content-Digest does not match the body")
            checked = True
    if not checked:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 value")
