"""Delivering queued activities: leased, signed, POSTed, the outcome recorded.

`deliverer.py` runs rounds over the durable queue (`store/deliveries.py`, one of the leased
queues of `store/queue.py`, leased through `work/leased.py`), put together from parts:
`limits.py` (in flight overall and per peer), `breaker.py` (one failing host never slows the
others), `presign.py` with `signing.py` (the one signing path) and `signpool.py` (signing
processes), `schemes.py` (the signature scheme each peer accepts), `activities.py` (what is
sent, and who signs it), `health.py` (unavailable domains), `targets.py` (what an inbox URL
means for sending), `recorder.py` (outcomes written while a round still sends).

The names below are loaded on first use: a signing process imports only `signing.py` (and
keys and signatures), not the deliverer with the store and the HTTP client (~0.1 s and
~8 MB less per process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .deliverer import UNAVAILABLE_AFTER_DAYS, Deliverer

__all__ = ["UNAVAILABLE_AFTER_DAYS", "Deliverer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import deliverer

        return getattr(deliverer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
