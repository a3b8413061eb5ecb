"""PURE: a page of the old site saved as text (a browser's "save as text"), read into a SavedPage.

The text is cut into paragraphs at blank lines (a line of spaces or no-break spaces is blank).
Then, in order:

- the byline "Geplaatst door NAAM op DATUM op TIJD", when the page has one, gives the author and
  date; the title is the paragraph before it. Without a byline the title is the first paragraph
  that is not chrome (the network's name, tagline, menu);
- the body runs from after the title (and byline) to the first of: the view counter
  ("Weergaven: 808"), the comment form or join notice, a comment header, the footer;
- each comment header "Reactie van NAAM op DATUM op TIJD" starts a comment that runs to the next
  header or the footer; chrome paragraphs in between (join notice, pager, "Verwijderen") go;
- the address of the original post, when the saved page shows one, is looked for in the chrome.

A paragraph becomes `<p>`, its line breaks `<br>`; the text is escaped. Comments come back oldest
first (the page shows them newest first), by date, stable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from fediverse_a2.archive.dutch_dates import match_byline, match_comment_header, match_views
from fediverse_a2.archive.saved_page_model import AMBTENAAR20, SavedComment, SavedPage, SiteChrome

__all__ = ["page_from_paragraphs", "paragraphs_html", "parse_text_page", "split_paragraphs", "title_text"]

_BLOG_OF = re.compile(r"\s*(?:Blog|Alle blogberichten) van\s+(?P<name>.+?)\s+bekijken\s*", re.IGNORECASE)
_BYLINE_WINDOW = 40  # the byline sits just under the title, near the top
_TITLE_MAX = 300  # a longer paragraph is text, not a title
_HEADING_MARK = re.compile(r"#{1,6}\s+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def title_text(paragraph: str) -> str:
    """A title as written, without the Markdown a text file may hold ("# Titel", "**Titel**")."""
    text = _HEADING_MARK.sub("", paragraph.strip(), count=1) if paragraph.lstrip().startswith("#") else paragraph
    text = _STRONG.sub(lambda m: m[2], text).strip()
    if len(text) > 2 and text[0] == text[-1] and text[0] in "*_" and text[1] != text[0]:
        text = text[1:-1].strip()  # *Titel* or _Titel_
    return text


def split_paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (lists of stripped lines) of a text, split at blank lines."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if stripped:
            current.append(stripped)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def paragraphs_html(paragraphs: Sequence[Sequence[str]]) -> str:
    """Paragraphs as `<p>` elements, their lines joined by `<br>`, text escaped."""
    return "".join("<p>" + "<br>".join(html.escape(line, quote=False) for line in p) + "</p>" for p in paragraphs)


def _title_index(
    paragraphs: Sequence[Sequence[str]], flat: list[str], byline_at: int | None, chrome: SiteChrome
) -> int | None:
    """The paragraph that is the title: one line, not chrome (None when the first candidate is text)."""
    candidates = range(byline_at - 1, -1, -1) if byline_at is not None else range(len(flat))
    for i in candidates:
        text = flat[i]
        if chrome.is_chrome(text) or chrome.is_footer(text):
            continue
        if byline_at is None and (match_views(text) is not None or match_comment_header(text) is not None):
            return None
        return i if len(paragraphs[i]) == 1 and len(text) <= _TITLE_MAX else None
    return None


def _comments(
    paragraphs: Sequence[Sequence[str]], flat: list[str], start: int, end: int, chrome: SiteChrome
) -> list[SavedComment]:
    comments: list[SavedComment] = []
    header: tuple[str, float] | None = None
    body: list[Sequence[str]] = []
    for i in range(start, end + 1):
        found = match_comment_header(flat[i]) if i < end else None
        if i == end or found is not None:
            if header is not None:
                comments.append(SavedComment(header[0], header[1], paragraphs_html(body)))
            header, body = found, []
            continue
        text = flat[i]
        if header is not None and not (chrome.is_chrome(text) or chrome.is_pager(text) or match_views(text)):
            body.append(paragraphs[i])
    # Oldest first; the page lists newest first, so equal times keep the reverse page order.
    comments.reverse()
    comments.sort(key=lambda c: c.published)
    return comments


def page_from_paragraphs(
    paragraphs: Sequence[Sequence[str]], *, chrome: SiteChrome = AMBTENAAR20, old_url: str | None = None
) -> SavedPage:
    """A SavedPage from the paragraphs of a saved page (see the module docstring)."""
    flat = [" ".join(p) for p in paragraphs]
    n = len(flat)
    author: str | None = None
    published: float | None = None
    byline_at: int | None = None
    for i, text in enumerate(flat[:_BYLINE_WINDOW]):
        found = match_byline(text)
        if found is not None:
            (author, published), byline_at = found, i
            break
    title_at = _title_index(paragraphs, flat, byline_at, chrome)
    body_start = max(-1 if title_at is None else title_at, -1 if byline_at is None else byline_at) + 1

    body_end = n
    for i in range(body_start, n):
        text = flat[i]
        if match_views(text) is not None or match_comment_header(text) is not None:
            body_end = i
            break
        if chrome.is_form(text) or chrome.is_footer(text):
            body_end = i
            break
    footer = next((i for i in range(body_end, n) if chrome.is_footer(flat[i])), n)
    first_header = next((i for i in range(body_end, footer) if match_comment_header(flat[i])), footer)
    views = next((v for i in range(body_end, footer) if (v := match_views(flat[i])) is not None), None)

    body: list[Sequence[str]] = []
    for i in range(body_start, body_end):
        blog_of = _BLOG_OF.fullmatch(flat[i])
        if blog_of is not None and not body:
            author = author or blog_of["name"]  # "Blog van NAAM bekijken" under the title
            continue
        body.append(paragraphs[i])

    if old_url is None:
        chrome_text = "\n".join(flat[:body_start] + flat[body_end:first_header] + flat[footer:])
        old_url = chrome.find_old_url(chrome_text)
    return SavedPage(
        title=title_text(flat[title_at]) if title_at is not None else "",
        author_name=author,
        published=published,
        body_html=paragraphs_html(body),
        views=views,
        comments=tuple(_comments(paragraphs, flat, first_header, footer, chrome)),
        old_url=old_url,
    )


def parse_text_page(text: str, *, chrome: SiteChrome = AMBTENAAR20) -> SavedPage:
    """A SavedPage from a page saved as text."""
    return page_from_paragraphs(split_paragraphs(text), chrome=chrome)
