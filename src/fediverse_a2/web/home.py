"""The community front page: recent posts as cards (author's avatar, date, excerpt, first image),
recent comments, active groups, the newest members (for members), and how to follow the network."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..store import comments, events, groups, members, posts
from .cards import excerpt, post_cards
from .gate import viewer_of
from .paging import Paging
from .render import Renderer

__all__ = ["HomePage"]

SIDE_ITEMS = 6
HOME_EVENTS = 3  # upcoming events on the front page


class HomePage:
    """GET /: the front page, paged; instructions while there are no members."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    async def page(self, request: Request) -> Response:
        """The newest posts; on the first page also recent comments, active groups and new members."""
        paging = Paging.of(request, self.render.links)
        db = self.rt.db
        paged = paging.cut(await posts.recent(db, paging.limit, paging.offset))
        first = paging.number == 1
        network = self.rt.config.network.username
        recent = await comments.recent(db, self.rt.policy, SIDE_ITEMS) if first else []
        return await self.render.page(
            request, "home.html", cards=await post_cards(self.rt, paged.items), paged=paged,
            member_count=await members.count(db),
            network_handle=self.rt.urls.handle(network), network_url=f"/groups/{network}",
            recent_comments=[(c, excerpt(c.content_html)) for c in recent],
            active_groups=await groups.overview(db, active=True, limit=SIDE_ITEMS, leave_out=network) if first else [],
            newest=await members.newest(db, SIDE_ITEMS) if first and viewer_of(request) is not None else [],
            upcoming_events=await events.upcoming(db, time.time(), HOME_EVENTS) if first else [],
        )  # fmt: skip
