"""One pager for every listing: which page a request asks for, what to fetch, and the links on.

A listing takes its window from `Paging.of(request, links)`, asks the store for `paging.limit`
rows from `paging.offset` (one more than it shows, to know whether a next page exists), and
`paging.cut(found)` makes the Page the template shows with the `pager` macro. Its links are
built by `Links.here` (base_url + the normalised path, the rest of the query kept).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.requests import Request

from .links import Links

__all__ = ["MAX_PAGE", "PAGE_SIZE", "Page", "Paging", "page_number", "parse_page"]

PAGE_SIZE = 20
MAX_PAGE = 10_000  # deeper pages are refused to this one: an offset of millions costs a scan
_DIGITS = 7

T = TypeVar("T")


def parse_page(raw: object, maximum: int = MAX_PAGE) -> int:
    """A page number as sent (query or form value): 1 when absent or nonsense, at most `maximum`."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return 1
    number = int(raw) if len(raw) <= _DIGITS else maximum
    return max(1, min(number, maximum))


def page_number(request: Request, maximum: int = MAX_PAGE) -> int:
    """The ?page=N of a request (1 when absent or nonsense)."""
    return parse_page(request.query_params.get("page"), maximum)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """What a listing shows: its items, its number, and the links to the pages beside it."""

    items: list[T]
    number: int
    prev_url: str | None
    next_url: str | None
    newest_first: bool = True  # the links say "newer/older" rather than "previous/next"

    @property
    def has_next(self) -> bool:
        """Whether an older (or further) page exists."""
        return self.next_url is not None

    @property
    def shown(self) -> bool:
        """Whether the pager is worth showing (there is more than this page)."""
        return self.prev_url is not None or self.next_url is not None


@dataclass(frozen=True, slots=True)
class Paging:
    """The window of a listing a request asks for, and how to link to another page of it."""

    number: int
    size: int = PAGE_SIZE
    link: Callable[[int | None], str] = field(default=lambda n: "", repr=False, compare=False)

    @classmethod
    def of(cls, request: Request, links: Links, size: int = PAGE_SIZE) -> Paging:
        """The window `?page=` names; its links are this page's address with another `page=`."""
        return cls(page_number(request), size, lambda n: links.here(request, page=n))

    @property
    def limit(self) -> int:
        """Rows to fetch: one more than a page, to know whether there is a next one."""
        return self.size + 1

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.number - 1) * self.size

    def cut(self, found: Sequence[T], *, newest_first: bool = True) -> Page[T]:
        """The page of `found` (fetched with `limit` and `offset`) with links to the pages beside it."""
        prev_url = self.link(self.number - 1 if self.number > 2 else None) if self.number > 1 else None
        next_url = self.link(self.number + 1) if len(found) > self.size else None
        return Page(list(found[: self.size]), self.number, prev_url, next_url, newest_first)
