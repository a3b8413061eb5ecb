"""The community front page: recent posts as cards (author's avatar, date, excerpt, first image),
recent comments, active groups, the newest members (for members), and how to follow the network."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..store import comments, groups, members, posts
from .cards import excerpt, post_cards
from .pages import PAGE_SIZE, page_number
from .render import Renderer

__all__ = ["HomePage"]

SIDE_ITEMS = 6


class HomePage:
    """GET /: the front page, paged; instructions while there are no members."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    async def page(self, request: Request) -> Response:
        """The newest posts; on the first page also recent comments, active groups and new members."""
        page = page_number(request)
        db = self.rt.db
        items = await posts.recent(db, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        me = await self.render.security.member(request)
        first = page == 1
        network = self.rt.config.network.username
        recent = await comments.recent(db, self.rt.policy, SIDE_ITEMS) if first else []
        return await self.render.page(
            request, "home.html", cards=await post_cards(self.rt, items[:PAGE_SIZE]), page=page,
            has_next=len(items) > PAGE_SIZE, member_count=await members.count(db),
            network_handle=self.rt.urls.handle(network), network_url=f"/groups/{network}",
            recent_comments=[(c, excerpt(c.content_html)) for c in recent],
            active_groups=await groups.overview(db, active=True, limit=SIDE_ITEMS, leave_out=network) if first else [],
            newest=await members.newest(db, SIDE_ITEMS) if first and me is not None else [],
        )  # fmt: skip
