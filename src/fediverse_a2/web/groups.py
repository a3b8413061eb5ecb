"""Group pages: /groups/{username} lists what a group announced; its moderators take posts out.

Browsers asking for a group's actor URL (/users/{username}) are sent here. A members-only group's
page is its members' only: a signed-in member who is not one sees the group's name and a form to
ask to join (`/groups/NAME/join`), which the group's moderators approve or reject on
`/groups/NAME/requests`; a visitor is asked to sign in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..content import excerpt, plain_text
from ..errors import UserError
from ..models import Member, Post
from ..runtime import Runtime
from ..services.groups import (
    MAX_REQUEST_MESSAGE,
    can_moderate,
    decide_request,
    ensure_network_group,
    join_state,
    page_url,
    remove_from_group,
    request_to_join,
)
from ..services.visibility import may_see_group
from ..store import group_members, groups, posts
from ..store.groups import Group, GroupPost
from .confirm import Ask, ask
from .forms import text_field
from .gate import member_of, viewer_of
from .ids import parse_id
from .links import normal_path
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
    """The page of a group, its moderators' remove action, and joining a members-only group."""

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
        """The group's posts, newest first (deleted and removed ones left out); for a members-only
        group only to its members (others may ask to join)."""
        group = await self._group(request)
        if group is None:
            return await self.pages.error(request, 404)
        me = viewer_of(request)
        if not await may_see_group(self.rt.db, group, me):
            if me is None:
                return RedirectResponse(self.render.links.login(normal_path(request.scope["path"])), status_code=303)
            return await self._join_page(request, group, me)
        return await self._render(request, group)

    async def _join_page(self, request: Request, group: Group, me: Member, status: int = 200) -> Response:
        return await self.render.page(
            request, "group_join.html", status=status, group=group, state=await join_state(self.rt, group, me),
            max_message=MAX_REQUEST_MESSAGE,
        )  # fmt: skip

    async def _render(self, request: Request, group: Group, *, notice: str | None = None,
                      error: str | None = None, status: int = 200) -> Response:  # fmt: skip
        paging = Paging.of(request, self.render.links, PAGE_SIZE)
        paged = paging.cut(await groups.posts(self.rt.db, group.id, paging.limit, paging.offset))
        items = []
        for shown in paged.items:
            post = await posts.by_id(self.rt.db, shown.post_id) if shown.post_id is not None else None
            if shown.post_id is not None and (post is None or post.deleted_at is not None or post.is_draft):
                continue
            items.append(_Item(shown, post))
        moderates = await can_moderate(self.rt, group, viewer_of(request))
        members = await group_members.list_members(self.rt.db, group.id) if group.members_only else []
        waiting = len(await group_members.pending(self.rt.db, group.id)) if moderates and group.members_only else 0
        return await self.render.page(
            request, "group.html", status=status, group=group, handle=self.rt.urls.handle(group.username),
            items=items, paged=paged, can_moderate=moderates, members=members, waiting=waiting,
            notice=notice, error=error,
        )  # fmt: skip

    async def _acting(self, request: Request) -> tuple[Group, Member, FormData | None] | Response:
        """The group a member acts on (404 when there is none), the member (the gate let only
        members in), and a POST's form (checked)."""
        me = member_of(request)
        form = await self.security.form(request) if request.method == "POST" else None
        group = await self._group(request)
        if group is None:
            return await self.pages.error(request, 404)
        return group, me, form

    async def join(self, request: Request) -> Response:
        """POST only: a member asks to join a members-only group (field `message`)."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        group, me, form = acting
        assert form is not None
        if await may_see_group(self.rt.db, group, me):
            return RedirectResponse(page_url(self.rt, group.username), status_code=303)
        try:
            await request_to_join(self.rt, group, me, text_field(form, "message", MAX_REQUEST_MESSAGE + 10))
        except UserError:
            return await self._join_page(request, group, me, status=403)
        return RedirectResponse(page_url(self.rt, group.username), status_code=303)

    async def requests(self, request: Request) -> Response:
        """GET: the requests to join waiting for a moderator of the group; POST: approve or reject one."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        group, me, form = acting
        if not group.members_only:
            return await self.pages.error(request, 404)  # everyone may read a public group: nobody asks
        if not await can_moderate(self.rt, group, me):
            return await self.pages.error(request, 403)
        error = None
        if form is not None:
            item, decision = parse_id(form.get("request")), form.get("decision")
            if item is None or decision not in ("approve", "reject"):
                return await self.pages.error(request, 400)
            try:
                await decide_request(self.rt, group, item, decision == "approve", me)
            except UserError as exc:
                error = self.render.error_text(request, exc)
            else:
                return RedirectResponse(f"{page_url(self.rt, group.username)}/requests", status_code=303)
        return await self.render.page(
            request, "group_requests.html", status=400 if error else 200, group=group, error=error,
            requests=await group_members.pending(self.rt.db, group.id),
        )  # fmt: skip

    async def remove(self, request: Request) -> Response:
        """GET ?item=ID: asks first; POST: a group moderator takes one post out of the group
        (an Undo{Announce} follows)."""
        acting = await self._acting(request)
        if isinstance(acting, Response):
            return acting
        group, me, form = acting
        item = parse_id(form.get("item") if form is not None else request.query_params.get("item"))
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
