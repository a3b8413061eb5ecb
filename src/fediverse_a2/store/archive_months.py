"""Live published posts by date range: the archive by year and month."""

from __future__ import annotations

from collections.abc import Sequence

from .db import Executor

__all__ = ["count_between", "post_ids_between", "published_span"]

# Blog posts only: events are listed on /events, by their own dates.
_LIVE = "p.deleted_at IS NULL AND p.state = 'published' AND p.kind = 'post'"
_RANGES_PER_STATEMENT = 120


async def published_span(db: Executor) -> tuple[float, float] | None:
    """The first and last publication time of the live posts, or None when there are none."""
    row = await db.fetchone(f"SELECT MIN(p.published) AS first, MAX(p.published) AS last FROM posts p WHERE {_LIVE}")
    if row is None or row["first"] is None:
        return None
    return float(row["first"]), float(row["last"])


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
            f"SELECT {sums} FROM posts p WHERE {_LIVE} AND p.published >= ? AND p.published < ?",
            [bound for pair in part for bound in pair] + [part[0][0], part[-1][1]],
        )
        assert row is not None
        counts += [int(row[j]) for j in range(len(part))]
    return counts


async def post_ids_between(
    db: Executor, start: float, end: float, limit: int, offset: int = 0, *, newest_first: bool = False
) -> list[int]:
    """Ids of the live posts published in [start, end), by date (oldest first unless asked)."""
    order = "DESC" if newest_first else "ASC"
    rows = await db.fetchall(
        f"SELECT p.id FROM posts p WHERE {_LIVE} AND p.published >= ? AND p.published < ? "
        f"ORDER BY p.published {order}, p.id {order} LIMIT ? OFFSET ?",
        (start, end, limit, offset),
    )
    return [r["id"] for r in rows]
