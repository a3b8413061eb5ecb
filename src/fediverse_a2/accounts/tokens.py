"""Random tokens and what the database keeps of them: only a hash, never the token itself."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["csrf_token", "new_token", "token_hash", "tokens_equal"]


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256, hex (a leaked database reveals no session)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_token(secret: bytes, binding: str) -> str:
    """The CSRF token for a session (or a visitor's pre-session cookie): an HMAC, so nothing is stored."""
    return hmac.new(secret, b"csrf:" + binding.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
