"""One small handler per activity type, found through a dispatch table.

A handler runs inside the inbox worker's transaction for one activity. Anything that needs
the network (fetching an object that came only as an id, refreshing a profile, unwrapping
what a group announced) is done before the transaction, by the worker.
"""

from __future__ import annotations

from .context import Context, Rejected, parse_time
from .follows import on_accept, on_follow, on_reject, on_undo
from .moves import on_move
from .notes import on_create, on_delete, on_update
from .reactions import on_announce, on_flag, on_like
from .table import HANDLERS, dispatch

__all__ = [
    "HANDLERS",
    "Context",
    "Rejected",
    "dispatch",
    "on_accept",
    "on_announce",
    "on_create",
    "on_delete",
    "on_flag",
    "on_follow",
    "on_like",
    "on_move",
    "on_reject",
    "on_undo",
    "on_update",
    "parse_time",
]
