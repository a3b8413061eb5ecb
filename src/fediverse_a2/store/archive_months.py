"""Live published blog posts (not events) by date range: the archive by year and month (posts.live_ids
lists a range's posts)."""

from __future__ import annotations

from collections.abc import Sequence

from .db import Executor
from .sql import LIVE_BLOG_POST

__all__ = ["count_between", "published_span"]

_RANGES_PER_STATEMENT = 120


async def published_span(db: Executor) -> tuple[float, float] | None:
    """The first and last publication time of the live posts, or None when there are none."""
    row = await db.fetchone(f"SELECT MIN(p.published), MAX(p.published) FROM posts p WHERE {LIVE_BLOG_POST}")
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1])


async def count_between(db: Executor, ranges: Sequence[tuple[float, float]]) -> list[int]:
    """How many live posts fall in each [start, end) range, in one pass over the posts per 120 ranges."""
    counts: list[int] = []
    for i in range(0, len(ranges), _RANGES_PER_STATEMENT):
        part = ranges[i : i + _RANGES_PER_STATEMENT]
        sums = ", ".join(
            f"COALESCE(SUM(CASE WHEN p.published >= ? AND p.published < ? THEN 1 ELSE 0 END), 0) AS n{j}"
            for j in range(len(part))
        )
        row = await db.fetchone(
            f"SELECT {sums} FROM posts p WHERE {LIVE_BLOG_POST} AND p.published >= ? AND p.published < ?",
            [bound for pair in part for bound in pair] + [part[0][0], part[-1][1]],
        )
        assert row is not None
        counts += [int(row[j]) for j in range(len(part))]
    return counts
