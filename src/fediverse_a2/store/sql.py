"""What every store module shares, written once: placeholders, chunks of ids, the condition of a
live post, and records read from rows.

A record is a frozen dataclass whose fields are the columns a query selects, in the same order:
`SELECT {columns(Media)} FROM media` and `record(Media, row)` go together, so a column added to
the dataclass is selected and read in one change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from typing import Any, TypeVar

__all__ = [
    "CHUNK",
    "LIVE_BLOG_POST",
    "LIVE_POST",
    "chunks",
    "columns",
    "marks",
    "optional_float",
    "optional_int",
    "optional_str",
    "record",
]

_T = TypeVar("_T")

# A post (aliased `p`) that anyone may see: published, not a draft, not deleted.
LIVE_POST = "p.deleted_at IS NULL AND p.state = 'published'"
# A live blog post: events (posts of kind event) have their own listings (store/events.py).
LIVE_BLOG_POST = LIVE_POST + " AND p.kind = 'post'"
# Bound parameters per IN (...) list: well below SQLite's and PostgreSQL's limits.
CHUNK = 500


def marks(n: int) -> str:
    """`?, ?, ?` for n parameters."""
    return ", ".join("?" * n)


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most `size` items (for IN lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def columns(cls: type[Any], alias: str = "") -> str:
    """A record's fields as a SELECT list, in field order (each prefixed with `alias.` when given)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + f.name for f in fields(cls))


def record(cls: type[_T], row: Iterable[Any]) -> _T:
    """The record of a row (or a slice of one) that selected `columns(cls)`: by position, no lookup by name."""
    return cls(*row)


def optional_str(value: Any) -> str | None:
    """A nullable text value read from the database."""
    return None if value is None else str(value)


def optional_int(value: Any) -> int | None:
    """A nullable integer read from the database."""
    return None if value is None else int(value)


def optional_float(value: Any) -> float | None:
    """A nullable number read from the database."""
    return None if value is None else float(value)
