"""PURE: comments in thread order, each once, without recursion (the web's and the API's threads)."""

from __future__ import annotations

from collections.abc import Sequence

from .models import Comment

__all__ = ["walk"]


def walk(items: Sequence[Comment]) -> list[tuple[Comment, int]]:
    """Each comment with its depth, followed by its answers (oldest first), walked with a stack.

    Every comment appears exactly once, whatever the parent_id graph: a comment whose parent is
    missing (hidden, deleted) starts a thread of its own, and so does one caught in a cycle
    (after the threads that start at a root, in the order given)."""
    by_id = {c.id: c for c in items}
    answers: dict[int, list[Comment]] = {}
    roots: list[Comment] = []
    for c in items:
        if c.parent_id is not None and c.parent_id in by_id and c.parent_id != c.id:
            answers.setdefault(c.parent_id, []).append(c)
        else:
            roots.append(c)
    out: list[tuple[Comment, int]] = []
    seen: set[int] = set()
    for start in (*roots, *items):
        if start.id in seen:
            continue
        stack: list[tuple[Comment, int]] = [(start, 0)]
        while stack:
            c, depth = stack.pop()
            if c.id in seen:
                continue
            seen.add(c.id)
            out.append((c, depth))
            if kids := answers.get(c.id):
                stack.extend((a, depth + 1) for a in reversed(kids))
    return out
