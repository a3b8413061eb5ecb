"""PURE: a page of the old site saved as HTML, read into a SavedPage.

Ning's blog post page (its 2.x markup): the title in the page's `<h1>`; the byline "Geplaatst door
NAAM op DATUM op TIJD" under it; the post in the first `xg_user_generated` block; the counter
"Weergaven: N"; each comment a `<dl class="comment">` whose `<dt>` reads "Reactie van NAAM op
DATUM op TIJD" and whose `<dd>` holds the text. Comment headers are found by their text (the
deepest element whose whole text is a header), so other markup with the same words works too; the
comment text is the element after the header (the `<dd>` after a `<dt>`). The address of the
original comes from the browser's `<!-- saved from url=(NNNN)... -->`, `<link rel="canonical">` or
`og:url`. Chrome is simply not read. A page without a `xg_user_generated` block is read as text
(block elements become paragraphs) by `saved_page_text`.

The tree is built with the standard library's HTMLParser and walked without recursion, so a page
nested thousands deep is no problem. Body and comments are sanitised with `ning_html`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import escape
from html.parser import HTMLParser
from typing import TypeVar

from fediverse_a2.archive.dutch_dates import match_byline, match_comment_header
from fediverse_a2.archive.ning_html import sanitise_archive_html
from fediverse_a2.archive.saved_page_model import AMBTENAAR20, SavedComment, SavedPage, SiteChrome
from fediverse_a2.archive.saved_page_text import page_from_paragraphs, split_paragraphs

__all__ = ["parse_html_page"]

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title"})
_BLOCK = frozenset(
    {
        "p", "div", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "section", "article", "header", "footer", "nav", "form", "hr", "br",
    }
)  # fmt: skip
_CLOSES_P = _BLOCK - {"br", "li", "dt", "dd", "tr"}
_SAVED_FROM = re.compile(r"saved from url=\(\d+\)\s*(\S+)", re.IGNORECASE)
_LINE_MAX = 400  # a header or byline is a line, never longer than this
T = TypeVar("T")
_VIEWS = re.compile(r"Weergaven\s*:\s*(\d{1,3}(?:\.\d{3})+|\d+)", re.IGNORECASE)


class _Node:
    __slots__ = ("attrs", "children", "parent", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []
        self.parent = parent

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#document", {}, None)
        self.current = self.root
        self.saved_from: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        current = self.current
        # The implied ends of HTML that matter here: a new <p>/<li>/<dt>/<dd> closes the open one.
        if (
            (current.tag == "p" and tag in _CLOSES_P)
            or (current.tag == tag and tag in ("li", "p", "option"))
            or (tag in ("dt", "dd") and current.tag in ("dt", "dd"))
        ):
            current = current.parent or self.root
        node = _Node(tag, {k: v or "" for k, v in attrs}, current)
        current.children.append(node)
        self.current = current if tag in _VOID else node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        node: _Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        children = self.current.children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)

    def handle_comment(self, data: str) -> None:
        m = _SAVED_FROM.search(data)
        if m is not None and self.saved_from is None:
            self.saved_from = m.group(1)


def _walk(node: _Node) -> Iterator[_Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed([c for c in current.children if isinstance(c, _Node)]))


def _text(node: _Node, skip: _Node | None = None, blocks: bool = False) -> str:
    """The text of a subtree (hidden elements and `skip` left out); with blocks, paragraphs break at block elements."""
    out: list[str] = []
    stack: list[_Node | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item is skip or item.tag in _HIDDEN:
            continue
        if blocks and item.tag == "br":
            out.append("\n")
        elif blocks and item.tag in _BLOCK:
            out.append("\n\n")
            stack.append("\n\n")
        stack.extend(reversed(item.children))
    return "".join(out)


def _flat(node: _Node) -> str:
    return " ".join(_text(node).split())


def _inner_html(node: _Node) -> str:
    out: list[str] = []
    stack: list[_Node | str | tuple[str]] = list(reversed(node.children))
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            out.append(item[0])
        elif isinstance(item, str):
            out.append(escape(item, quote=False))
        else:
            attrs = "".join(f' {k}="{escape(v)}"' for k, v in item.attrs.items())
            out.append(f"<{item.tag}{attrs}>")
            if item.tag not in _VOID:
                stack.append((f"</{item.tag}>",))
                stack.extend(reversed(item.children))
    return "".join(out)


def _bounded_flat(node: _Node, limit: int) -> str | None:
    """The text of a small subtree, spaces collapsed; None as soon as it is longer than limit."""
    out: list[str] = []
    total = 0
    stack: list[_Node | str] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            total += len(item)
            if total > limit:
                return None
        elif item.tag not in _HIDDEN:
            stack.extend(reversed(item.children))
    return " ".join("".join(out).split())


def _lines(root: _Node, word: str, match: Callable[[str], T | None]) -> list[tuple[_Node, T]]:
    """The deepest elements whose whole text matches, in document order.

    The search starts from the text nodes that contain `word` and climbs while the text stays
    line-sized, so a large or deeply nested page costs one walk, not one walk per element.
    """
    found: list[tuple[_Node, T]] = []
    seen: set[int] = set()
    for node in _walk(root):
        if node.tag in _HIDDEN or not any(isinstance(c, str) and word in c.lower() for c in node.children):
            continue
        element: _Node | None = node
        while element is not None and id(element) not in seen:
            text = _bounded_flat(element, _LINE_MAX)
            if text is None:
                break
            result = match(text)
            if result is not None:
                seen.add(id(element))
                found.append((element, result))
                break
            element = element.parent
    return found


def _is_ancestor(ancestor: _Node, node: _Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _next_element(node: _Node) -> _Node | None:
    parent = node.parent
    if parent is None:
        return None
    siblings = [c for c in parent.children if isinstance(c, _Node)]
    at = siblings.index(node)
    return siblings[at + 1] if at + 1 < len(siblings) else None


def _old_url(root: _Node, saved_from: str | None) -> str | None:
    for node in _walk(root):
        if node.tag == "link" and "canonical" in node.attrs.get("rel", "").lower().split():
            return node.attrs.get("href") or None
        if node.tag == "meta" and node.attrs.get("property", "").lower() == "og:url":
            return node.attrs.get("content") or None
    return saved_from


def parse_html_page(text: str, *, chrome: SiteChrome = AMBTENAAR20) -> SavedPage:
    """A SavedPage from a page saved as HTML (see the module docstring)."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    root = builder.root
    old_url = _old_url(root, builder.saved_from)
    headers = [(n, name, when) for n, (name, when) in _lines(root, "reactie", match_comment_header)]
    comment_nodes = [n for n, _, _ in headers]
    comment_nodes += [b for n in comment_nodes if (b := _next_element(n)) is not None]
    body_node = next(
        (
            n
            for n in _walk(root)
            if n.has_class("xg_user_generated") and not any(_is_ancestor(c, n) or c is n for c in comment_nodes)
        ),
        None,
    )
    if body_node is None:
        return page_from_paragraphs(split_paragraphs(_text(root, blocks=True)), chrome=chrome, old_url=old_url)

    h1 = next((n for n in _walk(root) if n.tag == "h1"), None)
    title = _flat(h1) if h1 is not None else ""
    if not title:
        title_node = next((n for n in _walk(root) if n.tag == "title"), None)
        title = " ".join("".join(c for c in title_node.children if isinstance(c, str)).split()) if title_node else ""
        title = title.removesuffix(" - " + chrome.network_name)
    bylines = [found for node, found in _lines(root, "geplaatst", match_byline) if not _is_ancestor(body_node, node)]
    # The first one: the byline under the title, not a list of other posts further down.
    author, published = bylines[0] if bylines else (None, None)
    views_match = _VIEWS.search(" ".join(_text(root, skip=body_node).split()))

    comments: list[SavedComment] = []
    for node, name, when in headers:
        if _is_ancestor(body_node, node):
            continue  # the post itself quotes a header
        body = _next_element(node)
        if body is not None:
            inner = next((n for n in _walk(body) if n.has_class("xg_user_generated")), body)
            html_body = sanitise_archive_html(_inner_html(inner)).strip()
        else:
            html_body = ""
        comments.append(SavedComment(name, when, html_body))
    comments.reverse()  # newest first on the page; equal times keep the reverse page order
    comments.sort(key=lambda c: c.published)
    return SavedPage(
        title=title,
        author_name=author,
        published=published,
        body_html=sanitise_archive_html(_inner_html(body_node)).strip(),
        views=int(views_match.group(1).replace(".", "")) if views_match else None,
        comments=tuple(comments),
        old_url=old_url,
        image_sources=tuple(n.attrs.get("src", "") for n in _walk(body_node) if n.tag == "img"),
    )
