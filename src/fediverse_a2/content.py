"""PURE content handling: members' Markdown to safe HTML, remote HTML sanitising, plain and inert text."""

from __future__ import annotations

import functools
import html as html_lib
import importlib.util
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

__all__ = [
    "DROP_CONTENT_TAGS",
    "LINK_REL",
    "POST_ATTRIBUTES",
    "POST_TAGS",
    "POST_URL_SCHEMES",
    "REMOTE_ATTRIBUTES",
    "REMOTE_TAGS",
    "REMOTE_URL_SCHEMES",
    "excerpt",
    "first_words",
    "inert_text",
    "plain_text",
    "render_markdown",
    "render_post",
    "sanitise_post_html",
    "sanitise_remote_html",
]

LINK_REL = "nofollow noopener noreferrer"

# Contents dropped with the tag. Beyond script and style these are the tags whose content a
# browser never shows as text (iframe/noembed/noframes fallbacks, template, raw-text xmp and
# plaintext): keeping it would only surface hidden markup. Any other unknown tag keeps its text.
DROP_CONTENT_TAGS = frozenset(
    {"script", "style", "iframe", "noscript", "noembed", "noframes", "template", "xmp", "plaintext"}
)

# --- our members' posts ---------------------------------------------------------------------

POST_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "h2", "h3", "h4", "hr", "del"}
)
POST_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "*": frozenset(),  # replaces ammonia's default generic attributes (lang, title)
        "a": frozenset({"href", "class"}),  # class: only "mention hashtag", as Mastodon marks a #tag
        "ol": frozenset({"start"}),  # "3. item" lists keep their numbering
        "code": frozenset({"class"}),  # only language-* survives the filter, for highlighting
    }
)
POST_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# --- replies from other servers --------------------------------------------------------------
# Mastodon's MASTODON_STRICT (lib/sanitize_ext/sanitize_config.rb) without the headings: those
# Mastodon turns into <p><strong>, which sanitise_remote_html does too, before cleaning.

REMOTE_TAGS = frozenset(
    {
        "p", "br", "span", "a",
        "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
        "ul", "ol", "li",
        "ruby", "rt", "rp",
    }
)  # fmt: skip
REMOTE_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "*": frozenset({"lang"}),  # replaces ammonia's default generic attributes (lang, title)
        "a": frozenset({"href", "class"}),
        "span": frozenset({"class"}),
        "p": frozenset({"class"}),
        "ol": frozenset({"start", "reversed"}),
        "li": frozenset({"value"}),
    }
)
# Mastodon's LINK_PROTOCOLS. javascript:, data:, vbscript: and relative URLs are never among them.
REMOTE_URL_SCHEMES = frozenset(
    {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"}
)

# Mastodon's ALLOWED_CLASS_TRANSFORMER: microformats, mention/hashtag, and the link-shortening
# spans (invisible/ellipsis) its own posts are made of.
_REMOTE_CLASS = re.compile(r"(?:h|p|u|dt|e)-\S*|mention|hashtag|ellipsis|invisible")
_CODE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_HASHTAG_CLASS = re.compile(r"mention|hashtag")
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_LANG = re.compile(r"[A-Za-z0-9-]{1,35}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HEADING = re.compile(r"<(/?)h[1-6](?=[\s/>])[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|pre|blockquote|h[1-6]|hr|div|tr|td|th)\b[^>]*>", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def _keep_classes(value: str, pattern: re.Pattern[str]) -> str | None:
    kept = [name for name in value.split() if pattern.fullmatch(name)]
    return " ".join(kept) or None


def _absolute(value: str, schemes: frozenset[str]) -> str | None:
    # Relative links would resolve against our own site: on a federated post that is either
    # broken or a way to dress a link up as ours, so only absolute URLs with a known scheme pass.
    match = _SCHEME.match(value.strip())
    return value if match and match.group(1).lower() in schemes else None


def _post_filter(tag: str, attr: str, value: str) -> str | None:
    """nh3 attribute_filter for members' posts."""
    if attr == "href":
        return _absolute(value, POST_URL_SCHEMES)
    if attr == "class":
        return _keep_classes(value, _HASHTAG_CLASS if tag == "a" else _CODE_CLASS)
    if attr == "start":
        return value if _INTEGER.fullmatch(value.strip()) else None
    return value


def _remote_filter(tag: str, attr: str, value: str) -> str | None:
    """nh3 attribute_filter for remote HTML."""
    if attr == "href":
        return _absolute(value, REMOTE_URL_SCHEMES)
    if attr == "class":
        return _keep_classes(value, _REMOTE_CLASS)
    if attr in ("start", "value"):
        return value if _INTEGER.fullmatch(value.strip()) else None
    if attr == "lang":
        return value if _LANG.fullmatch(value.strip()) else None
    return value


def _cleaner(**options: Any) -> Callable[[str], str]:
    """A reusable sanitiser: nh3.Cleaner builds ammonia's config once (nh3 >= 0.3), else nh3.clean."""
    options = {k: set(v) if isinstance(v, frozenset) else v for k, v in options.items()}
    if "attributes" in options:
        options["attributes"] = {tag: set(names) for tag, names in options["attributes"].items()}
    cleaner_class = getattr(nh3, "Cleaner", None)
    if cleaner_class is not None:
        clean: Callable[[str], str] = cleaner_class(**options).clean
        return clean
    return functools.partial(nh3.clean, **options)  # pragma: no cover - older nh3


_clean_post = _cleaner(
    tags=POST_TAGS,
    clean_content_tags=DROP_CONTENT_TAGS,
    attributes=POST_ATTRIBUTES,
    attribute_filter=_post_filter,
    url_schemes=POST_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)
_clean_remote = _cleaner(
    tags=REMOTE_TAGS,
    clean_content_tags=DROP_CONTENT_TAGS,
    attributes=REMOTE_ATTRIBUTES,
    attribute_filter=_remote_filter,
    url_schemes=REMOTE_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)
# Only block structure survives, without attributes: its output is simple enough for regexes.
_clean_plain = _cleaner(
    tags=frozenset({"p", "br", "li", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "div"}),
    clean_content_tags=DROP_CONTENT_TAGS,
    attributes={"*": frozenset()},
    link_rel=None,
    strip_comments=True,
)


def sanitise_post_html(html: str) -> str:
    """Clean HTML written by our own members (normally render_markdown's output) to the post allowlist."""
    return _clean_post(html or "")


def sanitise_remote_html(html: str) -> str:
    """Clean HTML from other servers to Mastodon's strict allowlist; links get rel=nofollow noopener noreferrer."""
    if not html:
        return ""
    # Mastodon shows remote headings as bold paragraphs rather than dropping them into the
    # surrounding text. Rewriting the raw tags is safe because the result is sanitised anyway.
    html = _HEADING.sub(lambda m: "</strong></p>" if m.group(1) else "<p><strong>", html)
    return _clean_remote(html)


def plain_text(html: str) -> str:
    """The text of an HTML fragment on one line, entities decoded (for Atom titles/summaries and excerpts)."""
    if not html:
        return ""
    cleaned = _clean_plain(html)
    # Block boundaries become spaces so "<p>a</p><p>b</p>" reads "a b", not "ab".
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", cleaned))
    return _WHITESPACE.sub(" ", html_lib.unescape(text)).strip()


def excerpt(text: str, limit: int = 280) -> str:
    """A text cut to about `limit` characters at a word boundary, with " …" when cut."""
    if len(text) <= limit:
        return text
    return (text[:limit].rsplit(" ", 1)[0] or text[:limit]) + " …"


def first_words(html: str, limit: int = 80) -> str:
    """The start of an HTML text as plain text, cut at a word and marked when cut (names a short post)."""
    return excerpt(plain_text(html), limit)


# --- Markdown --------------------------------------------------------------------------------


def _render_image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images aren't part of posts: show one as a link to it, labelled with its alt text."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    label = renderer.renderInlineAsText(token.children or [], options, env) or str(src)
    return f'<a href="{escapeHtml(str(src))}">{escapeHtml(label)}</a>'


def _markdown() -> MarkdownIt:
    linkify = importlib.util.find_spec("linkify_it") is not None
    # Raw HTML stays text: members write Markdown, and the sanitiser is a second line, not the first.
    md = MarkdownIt("commonmark", {"html": False, "linkify": linkify})
    md.enable("strikethrough")  # ~~text~~ -> <del>, which the post allowlist has
    if linkify:  # pragma: no cover - depends on an optional package
        md.enable("linkify")
    md.add_render_rule("image", _render_image)
    return md


_MD = _markdown()


def _adjust(tokens: list[Token], outline: list[tuple[int, int]] | None = None) -> None:
    """Fit markdown-it's tokens to the post allowlist before rendering.

    The page title is the <h1>, so a post's headings start at <h2> and never skip a level: a post
    whose first heading is "##" still gets <h2>, and a heading goes at most one level deeper than
    the one before it (to <h4>). `outline` holds (Markdown level, HTML level) of the open sections.
    """
    outline = [] if outline is None else outline
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1])
            while outline and outline[-1][0] >= level:
                outline.pop()
            html_level = min(outline[-1][1] + 1 if outline else 2, 4)
            outline.append((level, html_level))
            token.tag = f"h{html_level}"
        elif token.type == "heading_close":
            token.tag = f"h{outline[-1][1]}"
        elif token.type in ("s_open", "s_close"):
            token.tag = "del"
        if token.children:
            _adjust(token.children, outline)


# A #tag in running text: after a start, a space or punctuation (not inside a word, an entity or a
# URL), letters, digits and _, at least one of them a letter (#2024 is a number, not a tag).
_HASHTAG = re.compile(r"(?<![\w&#/])#([^\W_]\w{0,49})")


def _hashtag_tokens(token: Token, tag_url: Callable[[str], str], found: list[str]) -> list[Token]:
    """A text token split into text and links to the tag pages of its #tags."""
    out: list[Token] = []
    text, at = token.content, 0
    for match in _HASHTAG.finditer(text):
        name = match.group(1)
        if not any(c.isalpha() for c in name):
            continue
        if match.start() > at:
            out.append(Token("text", "", 0, content=text[at : match.start()]))
        out.append(Token("link_open", "a", 1, attrs={"href": tag_url(name), "class": "mention hashtag"}))
        out.append(Token("text", "", 0, content=match.group(0)))
        out.append(Token("link_close", "a", -1))
        found.append(name)
        at = match.end()
    if not out:
        return [token]
    if at < len(text):
        out.append(Token("text", "", 0, content=text[at:]))
    return out


def _link_hashtags(tokens: list[Token], tag_url: Callable[[str], str], found: list[str]) -> None:
    """Make every #tag of running text a link to its tag page (not in code, not inside another link)."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        in_link = 0
        for child in token.children:
            if child.type == "link_open":
                in_link += 1
            elif child.type == "link_close":
                in_link -= 1
            if child.type == "text" and not in_link and "#" in child.content:
                children += _hashtag_tokens(child, tag_url, found)
            else:
                children.append(child)
        token.children = children


def render_markdown(text: str) -> str:
    """A member's Markdown (CommonMark, no raw HTML) as sanitised post HTML."""
    env: dict[str, Any] = {}
    tokens = _MD.parse(text or "", env)
    _adjust(tokens)
    return sanitise_post_html(_MD.renderer.render(tokens, _MD.options, env))


def render_post(text: str, tag_url: Callable[[str], str]) -> tuple[str, list[str]]:
    """A post's Markdown as sanitised HTML whose #tags link to `tag_url(tag)`, and those tags as written."""
    env: dict[str, Any] = {}
    tokens = _MD.parse(text or "", env)
    _adjust(tokens)
    found: list[str] = []
    _link_hashtags(tokens, tag_url, found)
    return sanitise_post_html(_MD.renderer.render(tokens, _MD.options, env)), found


# --- inert text ------------------------------------------------------------------------------

# Named explicitly although all are Cf, so the intent survives a Unicode version change.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_REMOVE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # controls, format chars, lone surrogates


def _inert_char(char: str) -> str:
    if char.isspace():
        return " "  # newline, tab, NBSP, U+2028... all become one ordinary space (then collapsed)
    if char in _BIDI or char in _ZERO_WIDTH or unicodedata.category(char) in _REMOVE_CATEGORIES:
        return ""
    return char


def inert_text(value: str | None, max_len: int = 100) -> str:
    """A remote plain-text field made harmless to display: no bidi/zero-width/control chars, one line, max_len chars."""
    if not isinstance(value, str) or max_len <= 0:
        return ""  # None, or a JSON-LD value that isn't a plain string
    cleaned = "".join(_inert_char(c) for c in value)
    return _WHITESPACE.sub(" ", cleaned).strip()[:max_len].rstrip()
