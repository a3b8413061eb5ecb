"""PURE: reading the fields of one Ning record leniently, noting what was odd instead of failing."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import orjson

from fediverse_a2.archive.ning_dates import AMSTERDAM, parse_ning_date

__all__ = ["FieldReader", "NingRecordError", "synthetic_id"]

# Keys under which an attachment object (rather than a plain string) carries its address.
_ATTACHMENT_KEYS = ("url", "path", "fileUrl", "filename", "fileName", "src")


class NingRecordError(ValueError):
    """A record that was read as JSON but cannot become a member, post or group (e.g. no contributorName)."""


def synthetic_id(kind: str, data: Mapping[str, Any]) -> str:
    """A stable id for a record the archiver wrote without one: a hash of its canonical JSON."""
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return f"noid:{kind}:{digest[:20]}"


class FieldReader:
    """Typed access to a record's fields; odd values become defaults plus a warning (kept in `warnings`)."""

    def __init__(self, data: Mapping[str, Any], known: frozenset[str]) -> None:
        self.data = data
        self.warnings: list[str] = []
        self.extra = tuple(sorted(k for k in data if k not in known))

    def opt_text(self, key: str, *, unescape: bool = False) -> str | None:
        """The field as stripped text (numbers as text), or None when absent, null or empty."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.warnings.append(f"{key} is a {type(value).__name__}, not text")
            return None
        text = str(value).strip()
        if unescape:
            # Titles and names come HTML-escaped (`&amp;`), as Discourse's Ning importer also found.
            text = html.unescape(text).strip()
        return text or None

    def text(self, key: str, default: str = "", *, unescape: bool = False) -> str:
        """The field as text, or default."""
        value = self.opt_text(key, unescape=unescape)
        return default if value is None else value

    def html(self, key: str) -> str:
        """An HTML field as written (not stripped: leading whitespace can matter in <pre>)."""
        value = self.data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.warnings.append(f"{key} is a {type(value).__name__}, not HTML text")
            return ""
        return value

    def date(self, key: str, zone: tzinfo = AMSTERDAM) -> float | None:
        """The field as UTC epoch seconds (a date without offset is in `zone`); unreadable: None plus a warning."""
        value = self.data.get(key)
        if value is None or value == "":
            return None
        epoch = parse_ning_date(value, zone)
        if epoch is None:
            self.warnings.append(f"{key} is not a date: {str(value)[:40]!r}")
        return epoch

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of addresses (strings, or objects with a url/path), in order, empties dropped."""
        value = self.data.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, dict):
                item = next((item[k] for k in _ATTACHMENT_KEYS if isinstance(item.get(k), str)), None)
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            elif item is not None:
                self.warnings.append(f"{key} holds a {type(item).__name__} that is not an address")
        return tuple(out)

    def objects(self, key: str) -> list[Mapping[str, Any]]:
        """A list of objects (comments, group members); other items are dropped with a warning."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.warnings.append(f"{key} is a {type(value).__name__}, not a list")
            return []
        out: list[Mapping[str, Any]] = [item for item in value if isinstance(item, dict)]
        if len(out) != len(value):
            self.warnings.append(f"{key}: {len(value) - len(out)} item(s) that are not objects dropped")
        return out
