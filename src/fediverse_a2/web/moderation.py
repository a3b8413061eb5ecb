"""Moderating comments on the web: the approval queue, one comment's page, a member's hold setting.

The queue is for every member (the comments held under their own posts); moderators see every
held and hidden comment and may hide, unhide, delete, report and block from a comment's page.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..content import plain_text
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Member
from ..runtime import Runtime
from ..services import comment_moderation as cm
from .confirm import Ask, ask
from .forms import field
from .gate import member_of
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["ModerationPages"]

# What a comment's page offers besides ACTIONS; each redirect says which one was done (?done=).
# Deleting and blocking are asked first, on pages of their own (/moderation/comments/ID/delete,
# /moderation/block): this page's form never does them.
_EXTRA = ("report",)
_ASKED_FIRST = ("delete",)
DONE = frozenset({*cm.ACTIONS, *_EXTRA, "saved", "block_actor", "block_domain"})
REASON_LIMIT = 1000


def done_of(request: Request) -> str | None:
    """The action a redirect reports as done (only known names: nothing else reaches the page)."""
    value = request.query_params.get("done")
    return value if value in DONE else None


class ModerationPages:
    """/moderation, /moderation/comments/{id} (and its /delete) and /settings/moderation."""

    def __init__(
        self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages, directory: ActorDirectory
    ) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages
        self.directory = directory

    async def queue(self, request: Request) -> Response:
        """The held comments this member may approve; moderators also see the hidden ones."""
        member = member_of(request)
        held, hidden = await cm.queue_of(self.rt, member)
        return await self.render.page(
            request, "moderation_queue.html", held=held, hidden=hidden, done=done_of(request),
            holding=await cm.holds_comments(self.rt, member),
        )  # fmt: skip

    async def comment(self, request: Request) -> Response:
        """GET: a comment with what this member may do to it; POST: do it."""
        member = member_of(request)
        comment_id = request.path_params["comment_id"]
        allowed = await cm.permission(self.rt, member, comment_id)
        if allowed is None:
            return await self.pages.error(request, 404)
        if request.method == "GET":
            return await self._comment_page(request, allowed, done=done_of(request))
        form = await self.security.form(request)
        action, reason = field(form, "action", 40), field(form, "reason", REASON_LIMIT)
        try:
            result = await self._act(member, allowed, action, reason)
        except UserError as exc:
            error = self.render.error_text(request, exc)
            return await self._comment_page(request, allowed, error=error, status=400, reason=reason)
        if result == "deleted" or not allowed.moderator:
            return RedirectResponse(f"{self.rt.urls.base}/moderation?done={action}", status_code=303)
        return RedirectResponse(f"{self.rt.urls.base}/moderation/comments/{comment_id}?done={action}", status_code=303)

    async def _act(self, member: Member, allowed: cm.Permission, action: str, reason: str) -> str:
        comment = allowed.comment
        if action in cm.ACTIONS and action not in _ASKED_FIRST:
            return await cm.apply(self.rt, member, comment.id, action)
        if not allowed.moderator or comment.local or action not in _EXTRA:
            raise UserError("not possible for this comment", key="moderation_not_allowed")
        if not reason:
            raise UserError("give a reason", key="report_reason_missing")
        await cm.report_comment(self.rt, member, comment.id, reason)
        return action

    async def delete(self, request: Request) -> Response:
        """GET: asks first; POST: deletes the comment (a remote one leaves a tombstone)."""
        member = member_of(request)
        if request.method == "POST":
            await self.security.form(request)
        allowed = await cm.permission(self.rt, member, request.path_params["comment_id"])
        if allowed is None or "delete" not in allowed.actions:
            return await self.pages.error(request, 404 if allowed is None else 403)
        comment = allowed.comment
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("delete_comment_title", name=comment.author.name), t("delete_comment_explain"),
                t("confirm_delete"), f"/moderation/comments/{comment.id}", quote=plain_text(comment.content_html)[:500],
            )  # fmt: skip
            return await ask(self.render, request, question)
        try:
            await cm.apply(self.rt, member, comment.id, "delete")
        except UserError as exc:
            return await self.pages.error(request, 400, detail=self.render.error_text(request, exc))
        return RedirectResponse(f"{self.rt.urls.base}/moderation?done=delete", status_code=303)

    async def _comment_page(
        self, request: Request, allowed: cm.Permission, *, done: str | None = None, error: str | None = None,
        status: int = 200, reason: str = "",
    ) -> Response:  # fmt: skip
        return await self.render.page(
            request, "moderation_comment.html", status=status, c=allowed.comment, state=allowed.state,
            actions=allowed.actions, moderator=allowed.moderator, can_report=allowed.can_report,
            done=done, error=error, post_url=self.rt.urls.post(allowed.comment.post_id), reason=reason,
        )  # fmt: skip

    async def settings(self, request: Request) -> Response:
        """GET/POST: whether comments from accounts the member does not follow wait for approval."""
        member = member_of(request)
        if request.method == "POST":
            form = await self.security.form(request)
            await cm.set_holds_comments(self.rt, member, field(form, "hold", 10) == "on")
            return RedirectResponse(f"{self.rt.urls.base}/settings/moderation?done=saved", status_code=303)
        return await self.render.page(
            request, "moderation_settings.html", holding=await cm.holds_comments(self.rt, member),
            done=done_of(request),
        )  # fmt: skip
