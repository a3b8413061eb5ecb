"""/search?q=...: full-text search over posts and comments, as an HTML page of ranked hits."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from ..content import first_words, plain_text
from ..i18n import translate
from ..runtime import Runtime
from ..search_text import MAX_QUERY, Segment, mark, query_terms, snippet
from ..store import search
from .paging import Paging
from .render import Renderer

__all__ = ["SearchPage"]


@dataclass(frozen=True)
class Result:
    """One hit as the page shows it; the marked pieces are escaped by the template."""

    url: str
    title: list[Segment]
    is_comment: bool
    author_name: str
    author_url: str | None
    published: float
    snippet: list[Segment]
    language: str | None


class SearchPage:
    """GET /search: the form, and the results of `q`, a page at a time."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    @staticmethod
    def _heading(hit: search.Hit, untitled: str) -> str:
        """A post's title; a short post (no title) is named by its first words, a comment under one by `untitled`."""
        if hit.title:
            return hit.title
        return (first_words(hit.content_html) if hit.comment_id is None else "") or untitled

    def _result(self, hit: search.Hit, terms: list[str], untitled: str) -> Result:
        post_url = self.rt.urls.post(hit.post_id)
        if hit.author_username:
            author_url: str | None = self.rt.urls.actor(hit.author_username)
        else:
            author_url = hit.author_url
        return Result(
            url=post_url if hit.comment_id is None else self.rt.urls.comment_on_page(hit.post_id, hit.comment_id),
            title=mark(hit.title, terms),
            is_comment=hit.comment_id is not None,
            author_name=hit.author_name,
            author_url=author_url,
            published=hit.published,
            snippet=snippet(plain_text(hit.content_html), terms),
            language=hit.language,
        )

    async def search(self, request: Request) -> Response:
        """The results page; an empty query shows the form, one over MAX_QUERY characters is refused (400)."""
        query = request.query_params.get("q", "")
        if len(query) > MAX_QUERY:
            return await self.render.page(
                request, "search.html", status=400, query=query[:MAX_QUERY], too_long=True, max_query=MAX_QUERY,
                results=[], searched=False,
            )  # fmt: skip
        query = query.strip()
        terms = query_terms(query)
        paging = Paging.of(request, self.render.links)
        hits = await search.search(self.rt.db, terms, self.rt.policy, paging.limit, paging.offset)
        paged = paging.cut(hits, newest_first=False)
        untitled = translate(self.render.language(request), "short_post")
        return await self.render.page(
            request, "search.html", query=query, too_long=False, max_query=MAX_QUERY,
            results=[self._result(h, terms, untitled) for h in paged.items], paged=paged, searched=bool(terms),
        )  # fmt: skip
