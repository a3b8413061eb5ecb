"""Asking before anything is deleted: the page of its own that a destructive action shows first.

Every action that cannot be undone (deleting a post or a comment, taking a post out of a group,
blocking an account or a server, removing a follower, unfollowing, taking an app's access away,
rejecting a membership request) has an address whose GET shows this page: what will happen, in
words, and one form that POSTs to the same address with what the GET named as hidden fields.
Only that POST acts, so nothing is deleted by a single click (and the question works without
JavaScript).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .links import normal_path
from .render import Renderer

__all__ = ["Ask", "ask"]


@dataclass(frozen=True, slots=True)
class Ask:
    """The question: its heading, what happens, the button that does it and the way back."""

    title: str
    explain: str
    confirm: str
    back: str  # where "no" leads: the page the action was offered on
    fields: tuple[tuple[str, str], ...] = ()  # carried to the POST (what the GET named)
    quote: str = ""  # what is concerned, as its author wrote it (a comment's text, a title)


async def ask(render: Renderer, request: Request, question: Ask, *, status: int = 200, error: str = "") -> Response:
    """The confirmation page; its form POSTs to this very address."""
    return await render.page(
        request, "confirm.html", status=status, ask=question, action=normal_path(request.scope["path"]), error=error
    )
