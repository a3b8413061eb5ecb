"""The member directory (/members, searchable with ?q= by name, organisation and function) and the
list of groups (/groups: every group with its description, follower count and latest post)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..search_text import fold
from ..services.groups import ensure_network_group
from ..store import follows, groups, members
from .pages import page_number
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
        page = page_number(request)
        found = await members.directory(self.rt.db, query_words(query), DIRECTORY_PAGE + 1, (page - 1) * DIRECTORY_PAGE)
        return await self.render.page(
            request, "members.html", query=query, found=found[:DIRECTORY_PAGE], page=page,
            has_next=len(found) > DIRECTORY_PAGE, max_query=MAX_QUERY,
        )  # fmt: skip

    async def groups(self, request: Request) -> Response:
        """The network group, then every topic group by name with its counts and latest post."""
        network = await ensure_network_group(self.rt)
        leave_out = self.rt.config.network.username
        return await self.render.page(
            request, "groups.html", network=network, network_handle=self.rt.urls.handle(leave_out),
            network_followers=await follows.count_followers(self.rt.db, network.id) if network else 0,
            items=await groups.overview(self.rt.db, leave_out=leave_out),
        )  # fmt: skip
