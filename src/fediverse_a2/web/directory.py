"""The member directory (/members, searchable with ?q= by name, organisation and function) and the
list of groups (/groups: every group with its description, follower count and latest post)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..search_text import fold
from ..services.groups import ensure_network_group
from ..store import follows, groups, members
from .paging import Paging
from .render import Renderer

__all__ = ["DIRECTORY_PAGE", "MAX_QUERY", "DirectoryPages", "query_words"]

DIRECTORY_PAGE = 48
MAX_QUERY = 200
MAX_WORDS = 8


def query_words(query: str) -> list[str]:
    """The folded words of a directory search ("René  Utrecht" -> ["rene", "utrecht"])."""
    return fold(query[:MAX_QUERY]).split()[:MAX_WORDS]


class DirectoryPages:
    """GET /members and GET /groups."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    async def members(self, request: Request) -> Response:
        """Members by name; with ?q=, those whose name or profile fields hold every word."""
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
        paging = Paging.of(request, self.render.links, DIRECTORY_PAGE)
        found = await members.directory(self.rt.db, query_words(query), paging.limit, paging.offset)
        paged = paging.cut(found, newest_first=False)  # by name: "previous" and "next"
        return await self.render.page(
            request, "members.html", query=query, found=paged.items, paged=paged, max_query=MAX_QUERY
        )

    async def groups(self, request: Request) -> Response:
        """The network group, then every topic group by name with its counts and latest post."""
        network = await ensure_network_group(self.rt)
        leave_out = self.rt.config.network.username
        return await self.render.page(
            request, "groups.html", network=network, network_handle=self.rt.urls.handle(leave_out),
            network_followers=await follows.count_followers(self.rt.db, network.id) if network else 0,
            items=await groups.overview(self.rt.db, leave_out=leave_out),
        )  # fmt: skip
