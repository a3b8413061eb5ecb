"""PURE: a JSON object from untrusted bytes, strictly."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["parse_json_document"]


def parse_json_document(body: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """A JSON object from untrusted bytes; ValueError with a short message otherwise."""
    try:
        # orjson rejects trailing data, invalid UTF-8 and nesting deeper than 1024.
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(str(exc).splitlines()[0][:120] if str(exc) else "malformed JSON") from None
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    return doc
