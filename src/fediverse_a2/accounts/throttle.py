"""PURE: how failed sign-ins are throttled, per account and per address.

Guessing one account's password is throttled by the account (from any address). Guessing
many accounts from one address is throttled by the address, at a limit far above the
account's: behind a shared address (an office, a reverse proxy) one person's typos or
guesses must not lock the others out. Addresses are kept only for the window, then forgotten.
"""

from __future__ import annotations

__all__ = ["ACCOUNT_LIMIT", "ADDRESS_LIMIT", "WINDOW", "retry_after"]

WINDOW = 15 * 60.0  # seconds a failure counts (and its address is kept)
ACCOUNT_LIMIT = 10  # failures for one account within the window
ADDRESS_LIMIT = 100  # failures from one address within the window, over every account


def retry_after(oldest: float, now: float) -> int:
    """Whole seconds until the oldest failure in the window leaves it (at least 1)."""
    return max(1, int(oldest + WINDOW - now + 0.999))
