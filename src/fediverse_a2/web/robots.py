"""/robots.txt: crawlers may read the public pages; nothing behind a sign-in, a form or a server's key.

The disallowed paths come from the route table: every route not declared for visitors (members'
pages, moderation, admin, inboxes, token routes) is listed, with `*` for its parameters, beside
the pages that are forms or endless (sign-in, search, remote interaction) and the prefixes of
the client API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .gate import Gate, GatedRoute, Level

__all__ = ["Robots"]

# Open to visitors, but nothing for an index: forms, searches, and the API and OAuth prefixes.
_ALSO = ("/api/", "/oauth/", "/login", "/logout", "/join", "/invite/", "/password/", "/interact", "/reply", "/search")
_PARAM = re.compile(r"\{[^}]*\}")


def disallowed(routes: Iterable[GatedRoute]) -> list[str]:
    """The path patterns crawlers are asked to leave alone, in a stable order.

    A first path segment whose every route is closed (`/admin`, `/settings`, `/moderation`) is
    disallowed as a whole; elsewhere each closed route is, with `*` for its parameters.
    """
    closed: dict[str, list[str]] = {}
    open_segments: set[str] = set()
    for route in routes:
        segment = "/" + route.path.split("/")[1]
        if route.access.level == Level.VISITOR:
            open_segments.add(segment)
        else:
            closed.setdefault(segment, []).append(_PARAM.sub("*", route.path))
    paths = set(_ALSO)
    for segment, patterns in closed.items():
        paths.update(patterns if segment in open_segments else [segment])
    # A pattern that another one already covers as a prefix is left out.
    return sorted(p for p in paths if not any(p != q and p.startswith(q) and "*" not in q for q in paths))


class Robots:
    """GET /robots.txt, written from the gate's routes (all of them are known by the first request)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    @cached_property
    def text(self) -> str:
        """The file: one group for every crawler."""
        lines = ["User-agent: *", *(f"Disallow: {p}" for p in disallowed(self.gate.routes)), "Allow: /", ""]
        return "\n".join(lines)

    async def get(self, request: Request) -> Response:
        """The rules, cacheable for a day."""
        return PlainTextResponse(self.text, headers={"Cache-Control": "public, max-age=86400"})
