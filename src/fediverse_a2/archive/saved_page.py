"""PURE reading of pages saved from the old site, as text (`saved_page_text`) or HTML (`saved_page_html`).

`read_saved_page(path)` decodes the file (UTF-8 with or without BOM; a file that is not UTF-8 is
read as Windows-1252, what an old Dutch Windows browser saved), tells HTML from text by its start,
and returns a `SavedPage`: title, author (when the page names one), date, body as sanitised HTML,
view count, comments oldest first with their UTC dates, and the address of the original when the
page gives it. Commenters are matched to members by full name by the importer.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from fediverse_a2.archive.saved_page_html import parse_html_page
from fediverse_a2.archive.saved_page_model import AMBTENAAR20, SavedComment, SavedPage, SiteChrome
from fediverse_a2.archive.saved_page_text import parse_text_page

__all__ = [
    "AMBTENAAR20",
    "NotASavedPage",
    "SavedComment",
    "SavedPage",
    "SiteChrome",
    "decode_page",
    "looks_like_html",
    "looks_like_text",
    "parse_saved_page",
    "read_saved_page",
]

_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html\b|<!--\s*saved from|<head\b|<body\b)", re.IGNORECASE)


class NotASavedPage(ValueError):
    """A file that is neither text nor HTML (an image, a PDF, an archive ...)."""


# Control bytes a text file never holds (tab, line feed, form feed, carriage return and escape
# aside); a few in a long file are noise, more are a binary file.
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 27}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def looks_like_text(data: bytes) -> bool:
    """Whether bytes read as text: no NUL and hardly any other control byte in the first 8 kB
    (a UTF-16 file, with its byte order mark, is text too)."""
    if data.startswith(_UTF16_BOMS):
        return True
    head = data[:8192]
    if b"\x00" in head:
        return False
    return sum(1 for byte in head if byte in _CONTROL) <= len(head) // 200


def looks_like_html(text: str) -> bool:
    """Whether a saved page is HTML (it starts like an HTML document) rather than text."""
    return bool(_HTML_START.match(text.lstrip("\ufeff")[:1024]))


def decode_page(data: bytes) -> str:
    """The text of a saved page's bytes: UTF-16 or UTF-8 by their byte order mark, else UTF-8, else Windows-1252."""
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_saved_page(
    text: str, *, kind: Literal["auto", "text", "html"] = "auto", chrome: SiteChrome = AMBTENAAR20
) -> SavedPage:
    """A SavedPage from the text of a saved page; kind "auto" tells HTML from text."""
    text = text.lstrip("\ufeff")
    if kind == "html" or (kind == "auto" and looks_like_html(text)):
        return parse_html_page(text, chrome=chrome)
    return parse_text_page(text, chrome=chrome)


def read_saved_page(path: str | os.PathLike[str], *, chrome: SiteChrome = AMBTENAAR20) -> SavedPage:
    """Read and parse a saved page file (text or HTML); NotASavedPage for any other kind of file."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not looks_like_text(data):
        raise NotASavedPage(f"{os.fspath(path)} is not a saved page: not text or HTML")
    return parse_saved_page(decode_page(data), chrome=chrome)
