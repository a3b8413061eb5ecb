"""Paging as Mastodon's API does it: `max_id`, `since_id`, `min_id`, `limit`, and a `Link` header.

Ids are compared as numbers (see ids.py). `max_id` asks for what is older than an id,
`since_id` for the newest items newer than one, `min_id` for the items right after one (the
next page up). Answers are always newest first. The `Link` header points to the next page
(older, `max_id` of the last item) and the previous one (newer, `min_id` of the first item),
keeping the request's other parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from starlette.responses import Response

from .frame import ApiCall, json
from .params import Params

__all__ = ["Page", "paged"]

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

    def select(self, items: Sequence[_T], key: Callable[[_T], int]) -> list[_T]:
        """This page out of candidates (any order): bounded, at most `limit`, newest first."""
        lower, upper = self.lower, self.max_id
        inside = [i for i in items if (lower is None or key(i) > lower) and (upper is None or key(i) < upper)]
        inside.sort(key=key, reverse=not self.ascending)
        chosen = inside[: self.limit]
        return sorted(chosen, key=key, reverse=True) if self.ascending else chosen


def paged(call: ApiCall, entities: list[dict[str, object]], ids: list[int]) -> Response:
    """The JSON list with its `Link` header; `ids` are the paging keys of the entities, newest first."""
    response = json(entities)
    if ids:
        query = call.request.query_params
        kept = [(k, v) for k, v in query.multi_items() if k not in _PAGING]
        base = f"{call.rt.urls.base}{call.request.url.path}"
        older = urlencode([*kept, ("max_id", str(ids[-1]))])
        newer = urlencode([*kept, ("min_id", str(ids[0]))])
        response.headers["Link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
    return response
