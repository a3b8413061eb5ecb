"""PURE: sanitising archived HTML (Ning descriptions and comments, saved pages) while keeping its structure.

The allowlist is the post allowlist of `fediverse_a2.content` (paragraphs, line breaks, lists,
links, emphasis, code, quotes, headings) plus what Ning's editor wrote and a reader would miss:
images (`src`, `alt`, `title`, numeric `width`/`height`), `b i u s sub sup`, `div`, `h1`-`h6` and
plain tables. Scripts, styles, event handlers, `javascript:` and `data:` URLs go. Embedded players
(`<iframe>`/`<embed>` with a `src`, e.g. YouTube) become a link to what they showed, as Discourse's
Ning importer does, instead of vanishing. An image without a description gets one from the archive
where it has one: its `title`, else the caption of the `<figure>` it stands in.

`rewrite_url(tag, url)` lets the importer point images and links at the copied media (return the
new URL, or None to drop the attribute). Without it, absolute http(s) URLs stay, `mailto:` links
stay, and images keep a safe relative path of the export (for the importer to rewrite later).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from contextvars import ContextVar

import nh3

from fediverse_a2.archive.ning_media import local_path
from fediverse_a2.content import DROP_CONTENT_TAGS, LINK_REL, POST_TAGS, plain_text
from fediverse_a2.html_images import describe, find_images, with_alt

__all__ = ["ARCHIVE_ATTRIBUTES", "ARCHIVE_TAGS", "UrlRewriter", "describe_from_archive", "sanitise_archive_html"]

UrlRewriter = Callable[[str, str], str | None]

ARCHIVE_TAGS = POST_TAGS | frozenset(
    {"img", "b", "i", "u", "s", "sub", "sup", "div", "h1", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
)
ARCHIVE_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),
    "a": {"href"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*):")
_NUMBER = re.compile(r"\d{1,5}")
_FIGURE = re.compile(r"<figure\b.*?</figure\s*>", re.IGNORECASE | re.DOTALL)
_CAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption\s*>", re.IGNORECASE | re.DOTALL)
_EMBED = re.compile(r"""<(?:iframe|embed)\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>""", re.IGNORECASE)


def _embed_as_link(m: re.Match[str]) -> str:
    url = html_lib.unescape(m[1] if m[1] is not None else m[2] if m[2] is not None else m[3]).strip()
    if url.startswith("//"):
        url = "https:" + url  # protocol-relative embeds (//www.youtube.com/embed/...)
    escaped = html_lib.escape(url)
    return f'<a href="{escaped}">{escaped}</a>'


def _described_by_caption(m: re.Match[str]) -> str:
    figure = m[0]
    caption = _CAPTION.search(figure)
    images = find_images(figure)
    if caption is None or len(images) != 1:
        return figure
    return describe(figure, {images[0].src: plain_text(caption[1])})


def describe_from_archive(html: str) -> str:
    """Images without a description get their `title`, else their `<figure>`'s caption, as alt text;
    the others an empty one (their authors describe them later, see services/image_descriptions.py)."""
    titles: dict[str, str] = {}
    for ref in find_images(html):
        if not ref.alt and ref.title.strip():
            titles.setdefault(ref.src, ref.title)
    return with_alt(_FIGURE.sub(_described_by_caption, describe(html, titles)))


def _allowed(tag: str, url: str) -> bool:
    m = _SCHEME.match(url)
    if m is None:
        # Relative: only images of the archive itself, which the importer rewrites.
        return tag == "img" and local_path(url) is not None
    return m.group(1).lower() in (_IMAGE_SCHEMES if tag == "img" else _LINK_SCHEMES)


class _Call:
    """What one sanitise call needs inside nh3's attribute filter: its rewriter, and its errors."""

    __slots__ = ("errors", "rewrite_url")

    def __init__(self, rewrite_url: UrlRewriter | None) -> None:
        self.rewrite_url = rewrite_url
        self.errors: list[Exception] = []


# The cleaner is built once (building one costs eight times a clean); each call hands its own
# rewriter to the shared attribute filter through this context variable.
_CALL: ContextVar[_Call] = ContextVar("archive_sanitise_call")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr in ("width", "height", "colspan", "rowspan", "start"):
        return value if _NUMBER.fullmatch(value.strip()) else None
    if attr not in ("href", "src"):
        return value
    call = _CALL.get()
    if call.rewrite_url is not None:
        try:
            new = call.rewrite_url(tag, value)  # nh3 passes the value with entities decoded
        except Exception as exc:  # nh3 would only print it: kept and re-raised after the clean
            call.errors.append(exc)
            return None
        if new is None:
            return None
        value = new
    return value if _allowed(tag, value) else None


_cleaner = nh3.Cleaner(
    tags=set(ARCHIVE_TAGS),
    clean_content_tags=set(DROP_CONTENT_TAGS),
    attributes=ARCHIVE_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    link_rel=LINK_REL,
    strip_comments=True,
    url_schemes={"http", "https", "mailto"},
)


def sanitise_archive_html(html: str, *, rewrite_url: UrlRewriter | None = None) -> str:
    """Clean archived HTML to ARCHIVE_TAGS, keeping its structure and images; see the module docstring."""
    if not html:
        return ""
    html = describe_from_archive(_EMBED.sub(_embed_as_link, html))
    call = _Call(rewrite_url)
    token = _CALL.set(call)
    try:
        cleaned: str = _cleaner.clean(html)
    finally:
        _CALL.reset(token)
    if call.errors:
        raise call.errors[0]
    return cleaned
