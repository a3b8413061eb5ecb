"""PURE: the one model of hosts and origins. Every comparison of hosts or origins goes here.

A host is compared in its canonical form, so that two spellings of one host are one host
(CVE-2023-42451 was two normalisers that disagreed):

* names: IDNA 2008 with UTS #46 mapping (what browsers and Mastodon do), lower case, one
  trailing dot dropped, LDH labels (plus `_`, which real DNS names carry), length limits;
* IPv4 in every form a WHATWG URL parser accepts: `127.1`, `0x7f000001`, `2130706433`,
  `0177.0.0.1`, all become `127.0.0.1`. A host whose last label is a number but which is
  no valid IPv4 address is refused, as browsers refuse it;
* IPv6 compressed, without brackets; an IPv4-mapped address (`::ffff:10.0.0.1`) is the
  IPv4 address it reaches. Zone ids are refused: they mean nothing off this machine;
* an origin is (scheme, host, port) with the scheme's default port filled in, so
  `https://Example.org./x` and `https://example.org:443/y` share an origin;
* this instance is its own origin in any spelling, and also any address that reaches one of
  its listening sockets (`reaches_listener`): `localhost` resolving to 127.0.0.1 while
  base_url says 127.0.0.1 is still us.

Anything else (user-info, whitespace, control characters, backslashes, a port out of range,
a percent sign in a host) is refused rather than guessed at: URL parsers disagree there.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

try:  # IDNA 2008 + UTS #46; httpx depends on it
    import idna as _idna
except ImportError:  # pragma: no cover - the stdlib codec (IDNA 2003) still handles the common cases
    _idna = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_PORTS",
    "MAX_URL",
    "HostError",
    "Origin",
    "canonical_authority",
    "canonical_host",
    "canonical_url",
    "domain_suffixes",
    "format_authority",
    "host_of",
    "is_authority_of",
    "is_ip",
    "normalise_domain",
    "origin_of",
    "parse_origin",
    "reaches_listener",
    "same_host",
    "same_origin",
    "split_hostport",
]

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL = 8192
_MAX_DOMAIN = 253
_MAX_LABEL = 63
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
_NUMERIC = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NETLOC_END = re.compile(r"[/?#]")


class HostError(ValueError):
    """A host, authority or URL that is not usable; the message says why."""


def _fail(value: object, reason: str) -> HostError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return HostError(f"invalid host: {shown} ({reason})")


# -- IPv4, the WHATWG way ----------------------------------------------------------------


def _ipv4_part(text: str) -> int | None:
    if text[:2] in ("0x", "0X"):
        digits = text[2:]
        return int(digits, 16) if digits else 0
    if len(text) > 1 and text[0] == "0":
        return int(text, 8) if all(c in "01234567" for c in text) else None
    return int(text)


def _ipv4(host: str, original: object) -> str | None:
    """The dotted quad of a host that ends in a number; None when host is a name."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMERIC.fullmatch(labels[-1]):
        return None
    if len(labels) > 4 or not all(_NUMERIC.fullmatch(label) for label in labels):
        raise _fail(original, "ends in a number but is not an IPv4 address")
    numbers = [_ipv4_part(label) for label in labels]
    if any(n is None for n in numbers):
        raise _fail(original, "not a valid IPv4 address")
    parts: list[int] = [n for n in numbers if n is not None]
    if any(n > 255 for n in parts[:-1]) or parts[-1] >= 256 ** (5 - len(parts)):
        raise _fail(original, "IPv4 address out of range")
    value = parts[-1]
    for index, number in enumerate(parts[:-1]):
        value += number * 256 ** (3 - index)
    return str(ipaddress.IPv4Address(value))


def _ipv6(text: str, original: object) -> str:
    if "%" in text:
        raise _fail(original, "IPv6 zone ids are not allowed")
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise _fail(original, "malformed IPv6 address") from None
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)  # ::ffff:10.0.0.1 reaches 10.0.0.1: one spelling
    return address.compressed


# -- hosts -------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def canonical_host(text: str) -> str:
    """The canonical form of a host (no port): a name, a dotted quad or a bare IPv6; HostError otherwise."""
    if not isinstance(text, str) or not text:
        raise _fail(text, "empty")
    if text[0] == "[":
        if text[-1] != "]":
            raise _fail(text, "malformed [IPv6] literal")
        return _ipv6(text[1:-1], text)
    if ":" in text:
        return _ipv6(text, text)
    host = text
    if not host.isascii():
        try:
            if _idna is not None:
                host = _idna.encode(host, uts46=True).decode("ascii")
            else:  # pragma: no cover
                host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
            raise _fail(text, "not a valid internationalised domain name") from None
    host = host.lower()
    ip = _ipv4(host, text)
    if ip is not None:
        return ip
    if host.endswith("."):  # the root label; exactly one is dropped, "a.." stays invalid
        host = host[:-1]
    if not host:
        raise _fail(text, "empty")
    if len(host) > _MAX_DOMAIN:
        raise _fail(text, f"longer than {_MAX_DOMAIN} characters")
    for label in host.split("."):
        if not label:
            raise _fail(text, "empty label")
        if len(label) > _MAX_LABEL:
            raise _fail(text, f"label longer than {_MAX_LABEL} characters")
        if not _LABEL.fullmatch(label):
            raise _fail(text, "bad characters")
    return host


def is_ip(host: str) -> bool:
    """Whether a canonical host is an IP address rather than a name."""
    return ":" in host or (host[-1:].isdigit() and host.replace(".", "").isdigit())


def domain_suffixes(host: str) -> tuple[str, ...]:
    """A canonical host and every parent domain (`a.b.c`, `b.c`, `c`); an IP only matches itself."""
    if is_ip(host):
        return (host,)
    labels = host.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def format_authority(host: str, port: int | None) -> str:
    """A canonical host and an optional port as URLs and handles write them (an IPv6 host in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def split_hostport(authority: str) -> tuple[str, int | None]:
    """(host text, port or None) of `host`, `host:port`, `[v6]` or `[v6]:port`; HostError if malformed."""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise _fail(authority, "malformed [IPv6] literal")
        host, rest = authority[: end + 1], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise _fail(authority, "junk after [IPv6] literal")
        port_text = rest[1:] if rest else ""
    elif authority.count(":") >= 2:
        return authority, None  # a bare IPv6 literal (a port needs the brackets)
    else:
        host, _, port_text = authority.partition(":")
    if port_text == "":
        return host, None  # "host:" is the default port, as in URLs
    if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5 or int(port_text) > 65535:
        raise _fail(authority, "bad port")
    return host, int(port_text)


# -- origins -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """(scheme, canonical host, port) of an http(s) URL, the default port filled in."""

    scheme: str
    host: str
    port: int

    @property
    def authority(self) -> str:
        """host[:port] as a Host header or handle shows it: the default port left out."""
        return format_authority(self.host, None if self.port == DEFAULT_PORTS[self.scheme] else self.port)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}"


@lru_cache(maxsize=16384)
def _parse_origin(url: str) -> Origin:
    head = url[:8].lower()
    if head.startswith("https://"):
        scheme, rest = "https", url[8:]
    elif head.startswith("http://"):
        scheme, rest = "http", url[7:]
    else:
        raise HostError(f"not an http(s) URL: {url[:200]!r}")
    if _BAD_URL_CHARS.search(url):
        raise HostError("URL contains whitespace, control characters or a backslash")
    netloc = _NETLOC_END.split(rest, 1)[0]
    if not netloc:
        raise HostError("URL has no host")
    if "@" in netloc:
        raise HostError("URL has user info")
    if "%" in netloc:
        raise HostError("URL host is percent-encoded")
    host_text, port = split_hostport(netloc)
    return Origin(scheme, canonical_host(host_text), DEFAULT_PORTS[scheme] if port is None else port)


def parse_origin(url: str) -> Origin:
    """The origin of an absolute http(s) URL; HostError when it is not one (strictly)."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise HostError("not a URL, or longer than 8192 characters")
    return _parse_origin(url)


def origin_of(url: object) -> Origin | None:
    """parse_origin, or None for anything that is not an absolute http(s) URL."""
    if type(url) is not str or len(url) > MAX_URL:
        return None
    try:
        return _parse_origin(url)
    except HostError:
        return None


def canonical_url(url: str) -> str:
    """The URL with its origin spelled canonically (what is fetched is what was checked); HostError if none."""
    origin = parse_origin(url)
    rest = _NETLOC_END.split(url.split("://", 1)[1], 1)
    tail = url.split("://", 1)[1][len(rest[0]) :]
    return f"{origin}{tail}"


def same_origin(a: object, b: object) -> bool:
    """Whether two http(s) URLs share scheme, canonical host and port; never for non-URLs."""
    oa = origin_of(a)
    return oa is not None and oa == origin_of(b)


def same_host(a: object, b: object) -> bool:
    """Whether two http(s) URLs are on one canonical host (any scheme or port); never for non-URLs."""
    oa, ob = origin_of(a), origin_of(b)
    return oa is not None and ob is not None and oa.host == ob.host


def host_of(url: str) -> str:
    """The canonical host of an http(s) URL, port dropped; HostError (a ValueError) otherwise."""
    return parse_origin(url.strip() if isinstance(url, str) else url).host


def canonical_authority(value: str, scheme: str) -> str:
    """A Host header (or any host[:port]) in canonical form, the scheme's default port left out."""
    host_text, port = split_hostport(value.strip())
    origin = Origin(scheme, canonical_host(host_text), DEFAULT_PORTS[scheme] if port is None else port)
    return origin.authority


def is_authority_of(value: str, origin: Origin) -> bool:
    """Whether `host[:port]` (a handle's or a resource's) names `origin`, in any spelling; never raises.

    Without a port it is the origin's scheme's default port, as in a URL.
    """
    try:
        host_text, port = split_hostport(value.strip())
        host = canonical_host(host_text)
    except (HostError, TypeError):
        return False
    return host == origin.host and (DEFAULT_PORTS[origin.scheme] if port is None else port) == origin.port


def normalise_domain(value: str) -> str:
    """The canonical host of what an admin or a list names: a domain, `*.domain`, an IP, host:port or a URL.

    Ports never count for the federation policy. HostError (a ValueError) when it is none of these.
    """
    if not isinstance(value, str):
        raise _fail(value, "not a string")
    text = value.strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in DEFAULT_PORTS:
            raise _fail(value, "not an http(s) URL")
        text = text.split("://", 1)[1]
        text = _NETLOC_END.split(text, 1)[0]
    if not text:
        raise _fail(value, "empty")
    # '@' (user info) and '\' are where URL parsers disagree about the host: refuse rather than guess.
    if any(c in text for c in "/\\@?#% \t"):
        raise _fail(value, "not a host name")
    host_text, _port = split_hostport(text)
    if host_text.startswith("*."):  # Mastodon-style wildcard: a rule already covers subdomains
        host_text = host_text[2:]
    return canonical_host(host_text)


# -- this instance's own sockets -----------------------------------------------------------

_ANY = frozenset({"0.0.0.0", "::"})  # a listener on every address; also what connecting to them reaches


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(canonical_host(text.split("%", 1)[0]))
    except (HostError, ValueError):
        return None


def reaches_listener(
    ip: str, port: int, listeners: Iterable[tuple[str, int]], local_addresses: Iterable[str] = ()
) -> bool:
    """Whether a connection to ip:port would reach one of this instance's listening sockets.

    `listeners` are (address, port) pairs as bound; an address of every interface (`0.0.0.0`,
    `::`) is reached through loopback and through each of `local_addresses` (this machine's).
    Connecting to `0.0.0.0` or `::` reaches the local machine. Names are resolved by the caller.
    """
    target = _address(ip)
    if target is None:
        return False
    target_text = str(target)
    for host, listen_port in listeners:
        if listen_port != port:
            continue
        bound = _address(host)
        if bound is None:
            continue
        if target_text in _ANY:
            return True
        if str(bound) in _ANY:
            if target.is_loopback or target_text in {str(a) for a in map(_address, local_addresses) if a}:
                return True
        elif bound == target:
            return True
    return False
