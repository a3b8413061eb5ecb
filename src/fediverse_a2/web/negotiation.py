"""Content negotiation between ActivityPub JSON and HTML pages."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["ACTIVITY_JSON", "activity_response", "wants_activity_json"]

ACTIVITY_JSON = "application/activity+json"
_AP_TYPES = ("application/activity+json", "application/ld+json")


def wants_activity_json(request: Request) -> bool:
    """True when the client asked for ActivityStreams (activity+json, or ld+json with the AS profile).

    A browser's Accept lists text/html first; we follow the first acceptable type with
    the highest weight, preferring ActivityPub on a tie.
    """
    accept = request.headers.get("accept", "")
    if not accept:
        return False
    best_ap = best_html = -1.0
    for part in accept.split(",")[:30]:
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        weight = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
        if media in _AP_TYPES:
            best_ap = max(best_ap, weight)
        elif media in ("text/html", "application/xhtml+xml", "*/*", "text/*"):
            # */* alone (curl's default) should get HTML; it only wins over AP on weight.
            best_html = max(best_html, weight if media != "*/*" else weight - 0.001)
    return best_ap > 0 and best_ap >= best_html


def activity_response(doc: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON-LD document served as application/activity+json."""
    hdrs = {"Vary": "Accept"}
    if headers:
        hdrs.update(headers)
    return Response(orjson.dumps(doc), status_code=status, media_type=ACTIVITY_JSON, headers=hdrs)
