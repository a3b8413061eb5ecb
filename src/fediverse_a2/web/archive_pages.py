"""The archive by year and month: /archive and /archive/{year}/{month}.

Months are the instance's time zone (config `instance.timezone`), the zone every date on the
site is shown in, so a post dated 31 January 23.30 is in January's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from ..i18n import month_name
from ..runtime import Runtime
from ..store import archive_months, posts
from .cards import post_cards
from .pages import Pages
from .paging import Paging
from .render import Renderer

__all__ = ["ArchivePages", "month_bounds", "months_between"]

_FIRST_YEAR, _LAST_YEAR = 1970, 9999


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[float, float]:
    """The [start, end) timestamps of a calendar month in a time zone."""
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def months_between(first: float, last: float, tz: ZoneInfo) -> list[tuple[int, int]]:
    """Every (year, month) from the month of `first` to the month of `last`, in order."""
    a, b = datetime.fromtimestamp(first, tz), datetime.fromtimestamp(last, tz)
    return [(m // 12, m % 12 + 1) for m in range(a.year * 12 + a.month - 1, b.year * 12 + b.month)]


@dataclass(frozen=True)
class Month:
    """A month of the archive index with its number of posts."""

    year: int
    month: int
    count: int


class ArchivePages:
    """The archive index and the month pages."""

    def __init__(self, rt: Runtime, renderer: Renderer, pages: Pages) -> None:
        self.rt = rt
        self.render = renderer
        self.pages = pages

    async def index(self, request: Request) -> Response:
        """/archive: the years, newest first, each with its months that have posts and their counts."""
        db, tz = self.rt.db, self.rt.tz
        span = await archive_months.published_span(db)
        months = months_between(*span, tz) if span else []
        counts = await archive_months.count_between(db, [month_bounds(y, m, tz) for y, m in months])
        years: dict[int, list[Month]] = {}
        for (year, month), count in zip(months, counts, strict=True):
            if count:
                years.setdefault(year, []).append(Month(year, month, count))
        lang = self.render.language(request)
        return await self.render.page(
            request, "archive.html", years=sorted(years.items(), reverse=True), tz=str(tz),
            month_name=lambda m: month_name(m, lang),
        )  # fmt: skip

    async def month(self, request: Request) -> Response:
        """/archive/{year}/{month}: that month's posts, paged, oldest first (?order=newest for the reverse)."""
        year, month = request.path_params["year"], request.path_params["month"]
        if not (_FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12):
            return await self.pages.error(request, 404)
        newest = request.query_params.get("order") == "newest"
        paging = Paging.of(request, self.render.links)
        start, end = month_bounds(year, month, self.rt.tz)
        ids = await posts.live_ids(
            self.rt.db, paging.limit, paging.offset, between=(start, end), oldest_first=not newest
        )
        paged = paging.cut(ids, newest_first=False)
        items = await posts.by_ids(self.rt.db, paged.items)
        lang = self.render.language(request)
        return await self.render.page(
            request, "archive_month.html", year=year, month=month, month_name=month_name(month, lang),
            cards=await post_cards(self.rt, items), paged=paged,
            order="newest" if newest else "oldest", base=f"/archive/{year}/{month:02d}",
        )  # fmt: skip
