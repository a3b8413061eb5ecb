"""PURE federation policy: domain normalisation, block/allow rules and the list formats they travel in.

No I/O here: storage, fetching subscriptions and the admin commands live elsewhere and call in.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

try:  # IDNA 2008 + UTS #46 (what browsers and Mastodon do); httpx already pulls it in
    import idna as _idna
except ImportError:  # pragma: no cover - the stdlib codec (IDNA 2003) still handles the common cases
    _idna = None

__all__ = [
    "KINDS",
    "MODES",
    "SEVERITIES",
    "DomainRule",
    "Policy",
    "effective_rules",
    "format_domain_csv",
    "host_of",
    "normalise_domain",
    "parse_domain_csv",
    "parse_domain_list",
]

MODES = frozenset({"open", "allowlist"})
KINDS = frozenset({"block", "allow"})
SEVERITIES = frozenset({"suspend", "silence", "noop"})  # Mastodon's DomainBlock severities

# Mastodon's export header and column order (Admin::ExportDomainBlocksController).
CSV_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")

_MAX_DOMAIN = 253
_MAX_LABEL = 63
# LDH labels; the underscore is let through because it does occur in real DNS names and is
# harmless for matching. No leading or trailing hyphen (RFC 1123).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
# WHATWG's "ends in a number": a last label like this makes a browser parse the host as IPv4
# ("127.1", "0x7f000001"), so it could be used to dodge an IP block: refuse it as a domain.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
# normalise_domain never returns a domain whose last label is all digits, so a dotted quad is an IP.
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
# Sources that a person typed, in order of precedence over subscriptions (see effective_rules).
_MANUAL_SOURCES = {"config": 0, "admin": 1}


def _invalid(value: object, reason: str) -> ValueError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ValueError(f"invalid domain: {shown} ({reason})")


def _valid_port(port: str) -> bool:
    # An empty port is legal in URLs ("host:"); anything else must be ASCII digits in range.
    return port == "" or (port.isascii() and port.isdigit() and int(port) <= 65535)


def _split_host(hostport: str, original: object) -> tuple[str, bool]:
    """Strip a :port and IPv6 brackets; returns (host, was_bracketed)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        rest = hostport[end + 1 :] if end >= 0 else ""
        if end < 0 or (rest and not (rest.startswith(":") and _valid_port(rest[1:]))):
            raise _invalid(original, "malformed [IPv6] literal")
        return hostport[1:end], True
    if hostport.count(":") >= 2:  # a bare IPv6 literal; a port needs the brackets
        return hostport, True
    host, colon, port = hostport.partition(":")
    if colon and not _valid_port(port):
        raise _invalid(original, "bad port")
    return host, False


def _ip(host: str) -> str | None:
    """The canonical text of an IP literal, or None when host is not one."""
    if "%" in host:  # an IPv6 zone id means nothing off this machine
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:10.0.0.1 reaches 10.0.0.1: one spelling, so a block on either covers both.
        return str(address.ipv4_mapped)
    return address.compressed


def normalise_domain(value: str) -> str:
    """Canonical form of a domain, IP literal, host:port or URL for storage and matching; ValueError if invalid."""
    if not isinstance(value, str):
        raise _invalid(value, "not a string")
    text = value.strip()
    if not text:
        raise _invalid(value, "empty")
    if "://" in text:
        try:
            netloc = urlsplit(text).netloc
        except ValueError:
            raise _invalid(value, "malformed URL") from None
        hostport = netloc
    else:
        hostport = text
    # '@' (userinfo) and '\' are where URL parsers disagree about the host: refuse rather than guess.
    if any(c in hostport for c in "/\\@?#") or not hostport:
        raise _invalid(value, "not a host name")
    host, bracketed = _split_host(hostport, value)
    if bracketed:
        ip = _ip(host)
        if ip is None or ":" not in host:
            raise _invalid(value, "malformed IPv6 literal")
        return ip
    if host.endswith("."):  # the root label; exactly one is stripped, "a.." stays invalid
        host = host[:-1]
    if host.startswith("*."):  # Mastodon-style wildcard: a block already covers subdomains
        host = host[2:]
    ip = _ip(host)
    if ip is not None:
        return ip
    if not host.isascii():
        try:
            host = _idna.encode(host, uts46=True).decode("ascii") if _idna else host.encode("idna").decode("ascii")
        except UnicodeError:  # idna.IDNAError is a UnicodeError
            raise _invalid(value, "not a valid internationalised domain name") from None
    host = host.lower()
    if not host:
        raise _invalid(value, "empty")
    if len(host) > _MAX_DOMAIN:
        raise _invalid(value, f"longer than {_MAX_DOMAIN} characters")
    labels = host.split(".")
    for label in labels:
        if not label:
            raise _invalid(value, "empty label")
        if len(label) > _MAX_LABEL:
            raise _invalid(value, f"label longer than {_MAX_LABEL} characters")
        if not _LABEL.fullmatch(label):
            raise _invalid(value, "bad characters")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise _invalid(value, "numeric top-level label but not an IP address")
    return host


def host_of(url: str) -> str:
    """Normalised host of an http(s) URL, port dropped; ValueError for anything else."""
    if not isinstance(url, str):
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    return normalise_domain(parts.netloc)


@dataclass(frozen=True)
class DomainRule:
    """One block or allow entry; the domain is normalised and every field checked on creation."""

    domain: str
    kind: str  # "block" | "allow"
    source: str = "admin"  # "config", "admin", or the subscription URL it came from
    severity: str = "suspend"  # Mastodon's: suspend | silence | noop
    comment: str = ""

    def __post_init__(self) -> None:
        # A rule that exists is a valid rule: matching and export never meet a bad one.
        object.__setattr__(self, "domain", normalise_domain(self.domain))
        if self.kind not in KINDS:
            raise ValueError(f"invalid rule kind: {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"invalid severity: {self.severity!r}")
        if not self.source:
            raise ValueError("a domain rule needs a source")

    @property
    def is_manual(self) -> bool:
        """True for rules a person set (config.toml or the admin), False for subscription entries."""
        return self.source in _MANUAL_SOURCES


class Policy:
    """Which remote hosts this instance talks to, answered fast enough to ask on every request."""

    CACHE_SIZE = 4096

    def __init__(self, mode: str, rules: Iterable[DomainRule]) -> None:
        if mode not in MODES:
            raise ValueError(f"invalid federation mode: {mode!r} (expected 'open' or 'allowlist')")
        self.mode = mode
        blocked: set[str] = set()
        allowed: set[str] = set()
        for rule in rules:
            if rule.kind == "allow":
                allowed.add(rule.domain)
            elif rule.severity != "noop":
                # noop is Mastodon's "no domain-level action" (only media/report flags), so it
                # blocks nothing. silence has no milder equivalent here: we refuse the domain.
                blocked.add(rule.domain)
        self._blocked = frozenset(blocked)
        self._allowed = frozenset(allowed)
        # raw host -> (blocked, allowed); bounded so a flood of distinct hosts can't grow it.
        self._cache: dict[str, tuple[bool, bool]] = {}

    @property
    def blocked(self) -> frozenset[str]:
        """The blocked domains (each also covers its subdomains)."""
        return self._blocked

    @property
    def allowed(self) -> frozenset[str]:
        """The allowed domains (each also covers its subdomains)."""
        return self._allowed

    def is_blocked(self, host: str) -> bool:
        """True if host or a parent domain is blocked; an invalid host counts as blocked."""
        return self._decide(host)[0]

    def is_allowed(self, host: str) -> bool:
        """True if this instance may federate with host; a block always wins, an invalid host never is."""
        return self._decide(host)[1]

    def _decide(self, host: str) -> tuple[bool, bool]:
        cached = self._cache.get(host) if isinstance(host, str) else None
        if cached is not None:
            return cached
        try:
            name = normalise_domain(host)
        except ValueError:
            # Fail closed: a host we can't even parse is neither trusted nor shown.
            return True, False
        if ":" in name or _IPV4.fullmatch(name):
            # IP literals match exactly: 10.0.0.1 is not a "subdomain" of 0.0.1.
            suffixes: tuple[str, ...] = (name,)
        else:
            labels = name.split(".")
            suffixes = tuple(".".join(labels[i:]) for i in range(len(labels)))
        blocked = any(s in self._blocked for s in suffixes)
        if blocked:
            allowed = False
        elif self.mode == "open":
            allowed = True
        else:
            allowed = any(s in self._allowed for s in suffixes)
        result = (blocked, allowed)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))  # oldest first: dicts keep insertion order
        self._cache[host] = result
        return result


def effective_rules(rules: Iterable[DomainRule]) -> list[DomainRule]:
    """One rule per (domain, kind), config before admin before subscriptions, in first-seen order."""
    best: dict[tuple[str, str], DomainRule] = {}
    for rule in rules:
        key = (rule.domain, rule.kind)
        current = best.get(key)
        if current is None or _precedence(rule) < _precedence(current):
            # Replacing keeps the key's original position, so the order stays first-seen.
            best[key] = rule
    return list(best.values())


def _precedence(rule: DomainRule) -> int:
    return _MANUAL_SOURCES.get(rule.source, len(_MANUAL_SOURCES))


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank CSV record."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # Excel saves a BOM
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: malformed CSV ({exc})") from None


def _csv_columns(row: list[str]) -> dict[str, int] | None:
    """Column positions when row is a header ("#domain,..." or "domain,..."), else None."""
    names = [cell.strip().lower().removeprefix("#") for cell in row]
    if "domain" in names:
        return {name: i for i, name in reversed(list(enumerate(names)))}  # first wins on repeats
    return None


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _csv_entries(text: str) -> Iterable[tuple[int, str, str, str]]:
    """(line, raw domain, severity, comment) for each data row of a Mastodon domain-block CSV."""
    columns: dict[str, int] | None = None
    for index, (line, row) in enumerate(_csv_rows(text)):
        if index == 0:
            columns = _csv_columns(row)
            if columns is not None:
                continue
            # No header: like Mastodon, the first column is the domain and the rest is ignored.
            columns = {"domain": 0}
        assert columns is not None
        severity = _cell(row, columns, "severity").lower() or "suspend"
        yield line, _cell(row, columns, "domain"), severity, _cell(row, columns, "public_comment")


def parse_domain_csv(text: str) -> list[DomainRule]:
    """Admin blocks from a Mastodon domain-block CSV; ValueError naming the line of the first bad row."""
    rules: dict[str, DomainRule] = {}
    # Every row is checked before anything is returned, so one bad line never imports half a file.
    for line, domain, severity, comment in _csv_entries(text):
        if severity not in SEVERITIES:
            raise ValueError(f"line {line}: unknown severity {severity!r}")
        try:
            rule = DomainRule(domain=domain, kind="block", source="admin", severity=severity, comment=comment)
        except ValueError as exc:
            raise ValueError(f"line {line}: {exc}") from None
        rules.setdefault(rule.domain, rule)
    return list(rules.values())


def format_domain_csv(rules: Iterable[DomainRule]) -> str:
    """The block rules as a Mastodon domain-block CSV (header included, one row per domain)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # Ruby's CSV.generate writes bare \n
    writer.writerow(CSV_HEADER)
    for rule in effective_rules(rules):
        if rule.kind != "block":
            continue  # the format has no place for allows
        # reject_media/reject_reports aren't stored here; Mastodon writes false for a plain block.
        writer.writerow([rule.domain, rule.severity, "false", "false", rule.comment, "false"])
    return out.getvalue()


# --- subscription lists ---------------------------------------------------------------------


def _domains_from_csv(body: str) -> list[str]:
    found = []
    for _line, domain, severity, _comment in _csv_entries(body):
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
            except ValueError:
                # One bad entry (e.g. Mastodon's obfuscated "exa*ple.org") must not sink the list.
                continue
        if domains:
            return list(domains)
    raise ValueError("no valid domains found in the subscribed list")
