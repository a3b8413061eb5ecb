"""The dispatch table: activity type -> handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import MappingProxyType

from .context import Context
from .events import answer_or, on_answer
from .follows import on_accept, on_follow, on_reject, on_undo
from .moves import on_move
from .notes import on_create, on_delete, on_update
from .reactions import on_announce, on_flag, on_like

__all__ = ["HANDLERS", "dispatch"]

Handler = Callable[[Context], Awaitable[None]]
HANDLERS = MappingProxyType(
    {
        "Create": on_create,
        "Update": on_update,
        "Delete": on_delete,
        "Follow": on_follow,
        "Undo": on_undo,
        "Like": on_like,
        "Announce": on_announce,
        "Accept": answer_or(on_accept),  # of a Follow, or of one of our events (going)
        "Reject": answer_or(on_reject),  # of a Follow, or of one of our events (not going)
        "TentativeAccept": on_answer,  # of one of our events (maybe)
        "Join": on_answer,  # Mobilizon: going
        "Leave": on_answer,  # Mobilizon: no longer going
        "Flag": on_flag,
        "Move": on_move,
    }
)


async def dispatch(ctx: Context) -> None:
    """Run the handler for the activity's type; other types are accepted and ignored."""
    handler: Handler | None = HANDLERS.get(ctx.activity.type)
    if handler is None:
        ctx.notes.append(f"{ctx.activity.type} ignored")
        return
    await handler(ctx)
