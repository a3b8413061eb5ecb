"""PURE: subscribed domain lists (`[federation] subscriptions`) in the formats they come in.

A list is a Mastodon domain-block CSV, Mastodon's API JSON (`[{"domain": …}]`) or plain text
with one domain a line; the format is taken from the Content-Type, else sniffed.
"""

from __future__ import annotations

import json
from typing import Any

from ..hosts import HostError, normalise_domain
from .mastodon_csv import csv_entries

__all__ = ["parse_domain_list", "parse_subscription"]


def parse_subscription(entry: str) -> tuple[str, str]:
    """'allow:https://…' -> ("allow", url); a plain URL (or 'block:…') is a blocklist."""
    for kind in ("allow", "block"):
        if entry.startswith(f"{kind}:"):
            return kind, entry[len(kind) + 1 :]
    return "block", entry


def _domains_from_csv(body: str) -> list[str]:
    found = []
    for _line, domain, severity, _comment in csv_entries(body):
        if severity == "noop":
            continue  # Mastodon: no domain-level action
        found.append(domain)
    return found


def _domains_from_json(body: str) -> list[str]:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    found = []
    for item in data:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("domain"), str):
            if item.get("severity") == "noop":
                continue
            found.append(item["domain"])
    return found


def _domains_from_text(body: str) -> list[str]:
    found = []
    for raw in body.removeprefix("\ufeff").splitlines():
        line = raw.split("#", 1)[0].strip()  # '#' starts a comment; domains never contain one
        if line and line.lower() != "domain":  # a lone CSV header is not a domain
            found.append(line)
    return found


_PARSERS = {"csv": _domains_from_csv, "json": _domains_from_json, "text": _domains_from_text}
# text/plain is left out on purpose: raw file hosts serve CSV and JSON as text/plain too.
_MEDIA_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/comma-separated-values": "csv",
    "application/json": "json",
    "text/json": "json",
}


def _sniff(body: str) -> list[str]:
    """Formats to try for body, likeliest first."""
    head = body.removeprefix("\ufeff").lstrip()
    if head.startswith(("[", "{")):
        return ["json", "csv", "text"]
    first_line = head.split("\n", 1)[0]
    if "," in first_line or first_line.lower().startswith("#domain"):
        return ["csv", "text", "json"]
    return ["text", "csv", "json"]


def parse_domain_list(body: str, content_type: str) -> list[str]:
    """Normalised domains from a subscribed list (Mastodon CSV, Mastodon API JSON or plain text); ValueError if none."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    head = body.removeprefix("\ufeff").lstrip()
    if media in ("text/html", "application/xhtml+xml") or head.startswith("<"):
        # A login wall or error page: parsing it as a list could only yield nonsense.
        raise ValueError("subscription returned an HTML page, not a domain list")
    declared = _MEDIA_TYPES.get(media) or ("json" if media.endswith("+json") else None)
    order = [declared] if declared else []
    order += [fmt for fmt in _sniff(body) if fmt not in order]
    for fmt in order:
        try:
            raw = _PARSERS[fmt](body)
        except ValueError:  # malformed CSV: try the next format
            continue
        domains: dict[str, None] = {}
        for value in raw:
            try:
                domains[normalise_domain(value)] = None
            except HostError:
                # One bad entry (e.g. Mastodon's obfuscated "exa*ple.org") must not sink the list.
                continue
        if domains:
            return list(domains)
    raise ValueError("no valid domains found in the subscribed list")
