"""Password hashing with argon2id (argon2-cffi), and rehashing when the parameters change.

The parameters are OWASP's recommended configuration for argon2id (m = 19 MiB, t = 2, p = 1):
one verification costs about 20 ms on a quiet 2-core server and 35 ms on a busy one, so a
sign-in stays under 100 ms of server time even under load (bench/bench_web.py); guessing is
held back by the sign-in throttle, not by making each sign-in slow. Hashes made with other
parameters are rehashed at the next sign-in. Hashing runs in a worker thread (argon2 releases
the GIL), so a sign-in never stalls the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "check_password_rules", "hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request can ask for

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account has no usable hash, so that an unknown user or an
# account without a password costs the same time as a wrong password.
_DUMMY = _HASHER.hash("not a password anyone has")


def check_password_rules(password: str) -> tuple[str, str] | None:
    """Why a new password is not acceptable, as (message, interface text key), or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters", "password_short"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters", "password_long"
    if not password.strip():
        return "a password cannot be only spaces", "password_spaces"
    return None


async def hash_password(password: str) -> str:
    """The argon2id hash of a password (PHC string format)."""
    return await asyncio.to_thread(_HASHER.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password[:MAX_PASSWORD]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether password matches the stored hash; None (no password) never matches but costs the same."""
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other parameters than today's (then it is rehashed at sign-in)."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
