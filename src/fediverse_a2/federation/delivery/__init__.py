"""Delivering queued activities: leased, signed, POSTed, the outcome recorded.

`deliverer.py` runs rounds over the durable queue (`store/deliveries.py`, a declared state
machine), `signing.py` is the one signing path (in this process or in signing processes),
`breaker.py` keeps one failing host from slowing the others.
"""

from __future__ import annotations

from .deliverer import UNAVAILABLE_AFTER_DAYS, Deliverer

__all__ = ["UNAVAILABLE_AFTER_DAYS", "Deliverer"]
