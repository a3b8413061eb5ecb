"""The pages of the site (/pages/SLUG): the network's own pages, about and house rules, listed in the footer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime
from ..store import site_pages
from .pages import Pages
from .render import Renderer

__all__ = ["SitePages"]


class SitePages:
    """GET /pages/{slug}."""

    def __init__(self, rt: Runtime, render: Renderer, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.pages = pages

    async def page(self, request: Request) -> Response:
        """One page of the site, or 404."""
        found = await site_pages.by_slug(self.rt.db, request.path_params["slug"][:100])
        if found is None:
            return await self.pages.error(request, 404)
        return await self.render.page(request, "site_page.html", page=found)
