"""Paging as Mastodon's API does it: `max_id`, `since_id`, `min_id`, `limit`, and a `Link` header.

Ids are compared as numbers (see ids.py). `max_id` asks for what is older than an id,
`since_id` for the newest items newer than one, `min_id` for the items right after one (the
next page up). Answers are always newest first. The `Link` header points to the next page
(older, `max_id` of the last item) and the previous one (newer, `min_id` of the first item),
keeping the request's other parameters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from starlette.responses import Response

from .frame import ApiCall, json
from .params import Params

__all__ = ["Page", "Source", "gather", "paged", "paged_object"]

_T = TypeVar("_T")
_PAGING = ("max_id", "since_id", "min_id")


def _bound(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    value = value.strip()
    # An id that is not ours (or not a number) bounds nothing, as Mastodon ignores it.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None


@dataclass(frozen=True)
class Page:
    """One request's page: bounds (exclusive) and how many."""

    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int

    @classmethod
    def of(cls, params: Params, default: int = 20, maximum: int = 40) -> Page:
        """The page a request asks for; `limit` is kept between 1 and `maximum`."""
        limit = params.integer("limit", default)
        limit = default if limit is None else limit
        return cls(_bound(params, "max_id"), _bound(params, "since_id"), _bound(params, "min_id"),
                   min(max(limit, 1), maximum))  # fmt: skip

    @property
    def ascending(self) -> bool:
        """Whether to read upwards from min_id (the items right after it) rather than down from the top."""
        return self.min_id is not None

    @property
    def lower(self) -> int | None:
        """Items must have a larger id than this."""
        if self.min_id is not None and self.since_id is not None:
            return max(self.min_id, self.since_id)
        return self.min_id if self.min_id is not None else self.since_id

    def published_bounds(self) -> tuple[float | None, float | None]:
        """(before, after): publication times safely outside the page's status-id bounds.

        A status id starts with its publication second (ids.py), so a store can be asked for what
        was published in a range; `select` then sorts out the statuses of the bounding seconds by id.
        """
        upper, lower = self.max_id, self.lower
        return (
            None if upper is None else float((upper >> 32) + 1),
            None if lower is None else float((lower >> 32) - 1),
        )

    @property
    def fetch(self) -> int:
        """How many candidates to read from each source (the bounding seconds' statuses are sorted out by id)."""
        return self.limit + 10

    def select(self, items: Sequence[_T], key: Callable[[_T], int]) -> list[_T]:
        """This page out of candidates (any order): bounded, at most `limit`, newest first."""
        lower, upper = self.lower, self.max_id
        keyed = [(key(i), i) for i in items]  # each key computed once
        inside = [(k, i) for k, i in keyed if (lower is None or k > lower) and (upper is None or k < upper)]
        inside.sort(key=lambda pair: pair[0], reverse=not self.ascending)
        chosen = inside[: self.limit]
        if self.ascending:
            chosen.reverse()
        return [i for _, i in chosen]


Source = Callable[[float | None, float | None, int, bool], Awaitable[Sequence[_T]]]
MAX_FETCH = 2000


async def gather(
    page: Page, sources: Sequence[Source[_T]], key: Callable[[_T], int], keep: Callable[[_T], bool] | None = None
) -> list[_T]:
    """This page out of stores read by publication time, merged by id (`keep`: a filter of candidates).

    Each source is called with (published before, published after, how many, oldest first) and
    gives its newest (or oldest) candidates; when the bounding seconds (or the filter) leave the
    page short, the sources are asked for more.
    """
    before, after = page.published_bounds()
    size = page.fetch
    while True:
        batches = [await source(before, after, size, page.ascending) for source in sources]
        candidates = [item for batch in batches for item in batch if keep is None or keep(item)]
        chosen = page.select(candidates, key)
        if len(chosen) >= page.limit or all(len(batch) < size for batch in batches) or size >= MAX_FETCH:
            return chosen
        size *= 4


def paged(call: ApiCall, entities: list[dict[str, object]], ids: list[int]) -> Response:
    """The JSON list with its `Link` header; `ids` are the paging keys of the entities, newest first."""
    return paged_object(call, entities, ids)


def paged_object(call: ApiCall, body: object, ids: list[int]) -> Response:
    """A JSON answer with the `Link` header of the page whose paging keys are `ids`, newest first."""
    response = json(body)
    if ids:
        query = call.request.query_params
        kept = [(k, v) for k, v in query.multi_items() if k not in _PAGING]
        base = f"{call.rt.urls.base}{call.request.url.path}"
        older = urlencode([*kept, ("max_id", str(ids[-1]))])
        newer = urlencode([*kept, ("min_id", str(ids[0]))])
        response.headers["Link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
    return response
