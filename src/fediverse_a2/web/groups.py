"""Group pages: /groups/{username} lists what a group announced; its moderators take posts out.

Browsers asking for a group's actor URL (/users/{username}) are sent here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..content import excerpt, plain_text
from ..errors import UserError
from ..models import Post
from ..runtime import Runtime
from ..services.groups import can_moderate, ensure_network_group, page_url, remove_from_group
from ..store import groups, posts
from ..store.groups import Group, GroupPost
from .confirm import Ask, ask
from .gate import member_of, viewer_of
from .ids import parse_id
from .pages import Pages
from .paging import Paging
from .render import Renderer
from .security import WebSecurity

__all__ = ["GroupPages"]

PAGE_SIZE = 30


@dataclass(frozen=True)
class _Item:
    shown: GroupPost
    post: Post | None  # the local post, when it is one


class GroupPages:
    """The page of a group and its moderators' remove action."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages

    async def _ask_remove(self, request: Request, group: Group, item: int | None) -> Response:
        shown = await groups.post_by_id(self.rt.db, group.id, item) if item is not None else None
        if shown is None:
            return await self._render(request, group, error=self.render.text(request, "no_such_post"), status=404)
        post = await posts.by_id(self.rt.db, shown.post_id) if shown.post_id is not None else None
        what = post.title if post is not None else excerpt(plain_text(shown.content_html), 80)
        t = functools.partial(self.render.text, request)
        question = Ask(
            t("group_remove_title", title=what, group=group.name), t("group_remove_explain"),
            t("group_remove_confirm"), page_url(self.rt, group.username), fields=(("item", str(shown.id)),),
        )  # fmt: skip
        return await ask(self.render, request, question)

    async def _group(self, request: Request) -> Group | None:
        username = request.path_params["username"]
        if username == self.rt.config.network.username:
            return await ensure_network_group(self.rt)
        return await groups.by_username(self.rt.db, username)

    async def page(self, request: Request) -> Response:
        """The group's posts, newest first (deleted and removed ones left out)."""
        group = await self._group(request)
        if group is None:
            return await self.pages.error(request, 404)
        return await self._render(request, group)

    async def _render(self, request: Request, group: Group, *, notice: str | None = None,
                      error: str | None = None, status: int = 200) -> Response:  # fmt: skip
        paging = Paging.of(request, self.render.links, PAGE_SIZE)
        paged = paging.cut(await groups.posts(self.rt.db, group.id, paging.limit, paging.offset))
        items = []
        for shown in paged.items:
            post = await posts.by_id(self.rt.db, shown.post_id) if shown.post_id is not None else None
            if shown.post_id is not None and (post is None or post.deleted_at is not None):
                continue
            items.append(_Item(shown, post))
        return await self.render.page(
            request, "group.html", status=status, group=group, handle=self.rt.urls.handle(group.username),
            items=items, paged=paged, can_moderate=await can_moderate(self.rt, group, viewer_of(request)),
            notice=notice, error=error,
        )  # fmt: skip

    async def remove(self, request: Request) -> Response:
        """GET ?item=ID: asks first; POST: a group moderator takes one post out of the group
        (an Undo{Announce} follows)."""
        me = member_of(request)
        if request.method == "POST":
            form = await self.security.form(request)
            item = parse_id(form.get("item"))
        else:
            item = parse_id(request.query_params.get("item"))
        group = await self._group(request)
        if group is None:
            return await self.pages.error(request, 404)
        if not await can_moderate(self.rt, group, me):
            return await self.pages.error(request, 403)
        if request.method == "GET":
            return await self._ask_remove(request, group, item)
        try:
            if item is None or not await remove_from_group(self.rt, group, item, me):
                return await self._render(request, group, error=self.render.text(request, "no_such_post"), status=404)
        except UserError as exc:
            return await self._render(request, group, error=self.render.error_text(request, exc), status=403)
        return RedirectResponse(page_url(self.rt, group.username), status_code=303)
