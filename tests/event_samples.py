"""What the event tests share: UTC moments, and Mobilizon's context as it sends it.

Mobilizon redefines `location` and `Place` as schema.org's, so its documents take the JSON-LD
slow path before they are read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DASH = "\u2013"  # between two times on a page

MOBILIZON_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://litepub.social/litepub/context.jsonld",
    {
        "sc": "http://schema.org#",
        "mz": "https://joinmobilizon.org/ns#",
        "Place": "sc:Place",
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "addressLocality": "sc:addressLocality",
        "postalCode": "sc:postalCode",
        "streetAddress": "sc:streetAddress",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
    },
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """A moment given in UTC, as epoch seconds."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
