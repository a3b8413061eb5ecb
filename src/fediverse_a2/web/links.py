"""Links to this site built from a request: always `base_url` + a normalised path, never off-site.

A request path is whatever the client sent: `//evil.example/`, `///x`, `/%2F%2Fevil.example`
(decoded by the server to `//evil.example`) or `/\\evil.example`. Written back into a page as
`{path}?lang=nl` such a path is a protocol-relative link to another site. So every link made
from a request (language switch, canonical link, pager, `next=` after sign-in) is absolute,
starts with this instance's `base_url`, and carries the path in one normal form: empty and `.`
segments dropped, `..` resolved, every segment percent-encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote, urlencode

from starlette.requests import Request

from ..activitypub.urls import Urls

__all__ = ["Links", "local_target", "normal_path"]

MAX_TARGET = 4000  # a `next=` longer is not one of ours (an app's /oauth/authorize?… comes back this way)
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"  # RFC 3986 pchar without '%': a literal '%' is re-encoded
_QUERY_SAFE = "!$&'()*+,;=:@-._~/?%"


def normal_path(path: str) -> str:
    """A decoded request path in normal form: '/' + encoded segments; never '//' at the start."""
    segments: list[str] = []
    for segment in path.replace("\\", "/").split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(quote(segment, safe=_SEGMENT_SAFE))
    trailing = "/" if path.endswith(("/", "\\")) and segments else ""
    return "/" + "/".join(segments) + trailing


def local_target(value: str) -> str | None:
    """A `next=` value as a path (and query) on this site in normal form; None when it is not one.

    Only a path is accepted (starting with one '/'); its path part is decoded and normalised, so
    `/%2F%2Fevil.example` becomes `/evil.example`; the query is kept, with anything unsafe encoded.
    """
    if not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > MAX_TARGET:
        return None
    path, _, query = value.partition("#")[0].partition("?")
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return None
    target = normal_path(unquote(path))
    return f"{target}?{quote(query, safe=_QUERY_SAFE)}" if query else target


class Links:
    """Absolute links to pages of this site, for one app."""

    def __init__(self, urls: Urls) -> None:
        self.base = urls.base

    def to(self, path: str, query: Mapping[str, str | int] | None = None) -> str:
        """base_url + the normalised `path` (+ the query, encoded)."""
        link = self.base + normal_path(path)
        return f"{link}?{urlencode(query, safe='/:@')}" if query else link

    def here(self, request: Request, **changes: str | int | None) -> str:
        """This page's own address with some query parameters changed (None removes one)."""
        params: dict[str, str | int] = {k: v for k, v in request.query_params.multi_items() if k not in changes}
        params.update({k: v for k, v in changes.items() if v is not None})
        return self.to(request.scope["path"], params)  # decoded; request.url.path re-encodes some

    def login(self, next_target: str | None) -> str:
        """The sign-in page, which goes on to `next_target` (a path on this site) afterwards."""
        target = local_target(next_target) if next_target else None
        return self.to("/login", {"next": target} if target and target != "/" else None)
