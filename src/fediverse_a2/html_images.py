"""PURE: the `<img>` elements of HTML we store: the first one (a listing's thumbnail), the ones
without a description, and giving those one.

Tags are found with the standard library's HTML parser (an attribute value may hold a `>`), and
a changed tag is written anew with every attribute escaped; the rest of the HTML is kept as is.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["ImageRef", "describe", "find_images", "first_image", "rewrite_images", "undescribed", "with_alt"]


@dataclass(frozen=True)
class ImageRef:
    """One `<img>`: its address and description ("" when it has none)."""

    src: str
    alt: str
    width: int | None = None
    height: int | None = None
    title: str = ""


@dataclass(frozen=True)
class _Tag:
    start: int  # offset of "<img" in the document
    text: str  # the tag as written
    attrs: tuple[tuple[str, str], ...]


class _ImageTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[int, int, str, tuple[tuple[str, str], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            line, column = self.getpos()
            self.tags.append((line, column, self.get_starttag_text() or "", tuple((k, v or "") for k, v in attrs)))

    handle_startendtag = handle_starttag


def _tags(document: str) -> list[_Tag]:
    if "<img" not in document.lower():
        return []  # most documents: no parsing
    parser = _ImageTags()
    parser.feed(document)
    parser.close()
    # The parser counts lines by "\n" alone (not by every line break splitlines knows).
    line_starts = [0]
    for line in document.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    return [_Tag(line_starts[line - 1] + column, text, attrs) for line, column, text, attrs in parser.tags]


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 5 else None


def _ref(tag: _Tag) -> ImageRef:
    a = dict(tag.attrs)
    return ImageRef(
        a.get("src", ""), a.get("alt", "").strip(), _number(a.get("width")), _number(a.get("height")),
        a.get("title", "").strip(),
    )  # fmt: skip


def find_images(document: str) -> list[ImageRef]:
    """Every image of the document with an address, in order."""
    return [ref for ref in (_ref(t) for t in _tags(document)) if ref.src]


def first_image(document: str, src_prefix: str) -> ImageRef | None:
    """The first image whose address starts with `src_prefix` (e.g. this instance's media), or None."""
    return next((ref for ref in find_images(document) if ref.src.startswith(src_prefix)), None)


def undescribed(document: str) -> list[str]:
    """The addresses of images without a description (no alt, or only spaces), each once, in order."""
    return list(dict.fromkeys(ref.src for ref in find_images(document) if not ref.alt))


def _write(attrs: list[tuple[str, str]]) -> str:
    return "<img" + "".join(f' {k}="{html_lib.escape(v, quote=True)}"' for k, v in attrs) + ">"


def describe(document: str, descriptions: dict[str, str]) -> str:
    """The document with an alt text given to every image without one whose address is a key of
    `descriptions` (empty descriptions are skipped); images that have one keep theirs."""
    wanted = {src: alt.strip() for src, alt in descriptions.items() if alt.strip()}
    if not wanted:
        return document
    out: list[str] = []
    done = 0
    for tag in _tags(document):
        attrs = dict(tag.attrs)
        alt = wanted.get(attrs.get("src", ""))
        if alt is None or attrs.get("alt", "").strip():
            continue
        rewritten = [(k, v) for k, v in tag.attrs if k != "alt"] + [("alt", alt)]
        out.append(document[done : tag.start])
        out.append(_write(rewritten))
        done = tag.start + len(tag.text)
    out.append(document[done:])
    return "".join(out)


def with_alt(document: str, source: Callable[[str], str] | None = None) -> str:
    """The document with `alt=""` on every image that has no alt at all, so a reader is not read
    its address; the image still counts as undescribed (`undescribed`) until its author describes it.

    `source` gives each image the address it is shown from (the media proxy for another host's).
    """
    tags = _tags(document)
    if not tags:
        return document  # the common case: nothing to copy
    out: list[str] = []
    done = 0
    for tag in tags:
        attrs = list(tag.attrs)
        if source is not None:
            attrs = [(k, source(v) if k == "src" else v) for k, v in attrs]
        if not any(k == "alt" for k, _ in attrs):
            attrs.append(("alt", ""))
        elif attrs == list(tag.attrs):
            continue
        out.append(document[done : tag.start])
        out.append(_write(attrs))
        done = tag.start + len(tag.text)
    out.append(document[done:])
    return "".join(out)


def rewrite_images(document: str, source: Callable[[ImageRef], str | None]) -> str:
    """The document with each image's address replaced by `source(image)`, or the image left out
    where that is None (an image without an address is given "")."""
    out: list[str] = []
    done = 0
    for tag in _tags(document):
        new = source(_ref(tag))
        out.append(document[done : tag.start])
        if new is not None:
            out.append(_write([(k, new if k == "src" else v) for k, v in tag.attrs]))
        done = tag.start + len(tag.text)
    out.append(document[done:])
    return "".join(out)
