"""Commenting on the web: the comment form under a post, and answering any comment (local or remote).

An answer to a remote comment goes to its author with a Mention, so their server notifies
them (services.social.comment does the addressing).
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..content import plain_text
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services.social import comment, delete_comment
from ..store import comments, posts
from .confirm import Ask, ask
from .gate import member_of
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["CommentPages"]

MAX_BODY = 20_000


class CommentPages:
    """POST /posts/{id}/comments, GET/POST /reply?to=ID, GET/POST /comments/{id}/delete."""

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
        text = body if isinstance(body, str) else ""  # all of it goes back into the form when refused
        try:
            url = await comment(
                self.rt, self.directory, member.username, self.rt.urls.post(post.id), text[: MAX_BODY + 1]
            )
        except UserError as exc:  # the post again, the comment still in its form, and why
            error = self.render.error_text(request, exc)
            return await self.pages.post(request, post, status=400, comment_error=error, comment_body=text)
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
        text = body if isinstance(body, str) else ""
        try:
            url = await comment(self.rt, self.directory, member.username, target, text[: MAX_BODY + 1])
        except UserError as exc:
            return await self.render.page(
                request, "reply.html", status=400, parent=parent, post_url=self.rt.urls.post(parent.post_id),
                error=self.render.error_text(request, exc), body=text,
            )  # fmt: skip
        return RedirectResponse(self._at(parent.post_id, url), status_code=303)

    async def delete(self, request: Request) -> Response:
        """GET: asks first; POST: a member deletes their own comment (a Delete goes to whoever got it)."""
        member = member_of(request)
        if request.method == "POST":
            await self.security.form(request)
        found = await comments.by_id(self.rt.db, request.path_params["comment_id"], self.rt.urls)
        if found is None or not found.local:
            return await self.pages.error(request, 404)
        if found.author.uri != self.rt.urls.actor(member.username):
            return await self.pages.error(request, 403)
        back = self.rt.urls.comment_on_page(found.post_id, found.id)
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("delete_own_comment_title"), t("delete_own_comment_explain"), t("confirm_delete"), back,
                quote=plain_text(found.content_html)[:500],
            )  # fmt: skip
            return await ask(self.render, request, question)
        try:
            await delete_comment(self.rt, found.ap_id)
        except UserError as exc:  # deleted meanwhile
            return await self.pages.error(request, 404, detail=self.render.error_text(request, exc))
        return RedirectResponse(self.rt.urls.post(found.post_id), status_code=303)

    def _at(self, post_id: int, comment_url: str) -> str:
        """The place of a comment we just made, under its post."""
        comment_id = self.rt.urls.comment_id(comment_url)
        return self.rt.urls.comment_on_page(post_id, comment_id) if comment_id else self.rt.urls.post(post_id)
