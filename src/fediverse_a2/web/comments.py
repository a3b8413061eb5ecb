"""Commenting on the web: the comment form under a post, and answering any comment (local or remote).

An answer to a remote comment goes to its author with a Mention, so their server notifies
them (services.social.comment does the addressing).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services.social import comment
from ..store import comments, posts
from .gate import member_of
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["CommentPages"]

MAX_BODY = 20_000


class CommentPages:
    """POST /posts/{id}/comments, GET/POST /reply?to=ID."""

    def __init__(
        self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages, directory: ActorDirectory
    ) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages
        self.directory = directory

    async def on_post(self, request: Request) -> Response:
        """A member's comment under a post."""
        member = member_of(request)
        form = await self.security.form(request)
        post = await posts.by_id(self.rt.db, request.path_params["post_id"])
        if post is None or post.deleted_at is not None or post.is_draft:
            return await self.pages.error(request, 404)
        body = form.get("body")
        text = body[: MAX_BODY + 1] if isinstance(body, str) else ""
        try:
            url = await comment(self.rt, self.directory, member.username, self.rt.urls.post(post.id), text)
        except UserError as exc:
            return await self.pages.error(request, 400, exc.key or "comment_refused")
        return RedirectResponse(self._at(post.id, url), status_code=303)

    async def reply(self, request: Request) -> Response:
        """GET: the answer form for the comment `?to=` names; POST: send the answer."""
        if request.method == "GET":
            target = request.query_params.get("to", "")
        else:
            form = await self.security.form(request)
            raw = form.get("to")
            target = raw if isinstance(raw, str) else ""
        row = await comments.by_ap_id(self.rt.db, target) if target else None
        if row is None or await comments.state_of(self.rt.db, row.id) != comments.VISIBLE:
            return await self.pages.error(request, 404)  # held or hidden comments cannot be answered
        parent = await comments.by_id(self.rt.db, row.id, self.rt.urls)
        if parent is None:
            return await self.pages.error(request, 404)  # followers-only or direct: not shown, not answered here
        member = member_of(request)
        if request.method == "GET":
            return await self.render.page(
                request, "reply.html", parent=parent, post_url=self.rt.urls.post(parent.post_id)
            )
        body = form.get("body")
        text = body[: MAX_BODY + 1] if isinstance(body, str) else ""
        try:
            url = await comment(self.rt, self.directory, member.username, target, text)
        except UserError as exc:
            return await self.render.page(
                request, "reply.html", status=400, parent=parent, post_url=self.rt.urls.post(parent.post_id),
                error=self.render.error_text(request, exc), body=text,
            )  # fmt: skip
        return RedirectResponse(self._at(parent.post_id, url), status_code=303)

    def _at(self, post_id: int, comment_url: str) -> str:
        """The place of a comment we just made, under its post."""
        comment_id = self.rt.urls.comment_id(comment_url)
        return self.rt.urls.comment_on_page(post_id, comment_id) if comment_id else self.rt.urls.post(post_id)
