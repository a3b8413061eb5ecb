"""A strict check of the HTML we serve, shared by the page tests."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.fields: list[str] = []
        self.headings: list[int] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        if tag in ("input", "textarea", "select") and values.get("type") not in ("hidden", "submit"):
            self.fields.append(values.get("id") or "?")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:]}")
        else:
            self.open.pop()


def check_html(page: str) -> None:
    """Balanced tags, unique ids, every field labelled, headings that never skip a level."""
    checker = _Checker()
    checker.feed(page)
    assert page.startswith("<!doctype html>")
    assert not checker.problems and not checker.open, (checker.problems, checker.open)
    assert len(checker.ids) == len(set(checker.ids)), checker.ids
    assert all(f in checker.labels for f in checker.fields), (checker.fields, checker.labels)
    levels = checker.headings
    assert levels and levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
