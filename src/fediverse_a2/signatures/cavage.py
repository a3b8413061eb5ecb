"""draft-cavage-http-signatures-12 (what Mastodon speaks): the signing string and the inbound rules."""

from __future__ import annotations

import calendar
import email.utils
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ..hosts import HostError, canonical_authority
from .candidates import Candidate
from .common import SignatureError, SignedRequest, check_window, lower_headers, target
from .digests import check_digest

__all__ = ["cavage_signed_data", "cavage_signing_string", "signing_string"]


def signing_string(
    method: str,
    request_target: str,
    h: Mapping[str, str],
    covered: Sequence[str],
    pseudo: Mapping[str, str] | None = None,
) -> str:
    """The signing string from lower-cased headers `h`; `pseudo` holds `(created)`/`(expires)` values."""
    lines = []
    for name in covered:
        if name == "(request-target)":
            value: str | None = f"{method.lower()} {request_target}"
        else:
            value = pseudo.get(name) if pseudo and name in pseudo else h.get(name)
            if value is None:
                raise SignatureError(f"signed header {name} is missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def cavage_signing_string(method: str, path_and_query: str, headers: Mapping[str, str], covered: Sequence[str]) -> str:
    """The draft-cavage signing string; `(created)`/`(expires)` values are read from `headers`."""
    return signing_string(method, path_and_query, lower_headers(headers), [c.lower() for c in covered])


@lru_cache(maxsize=256)
def _http_date(value: str) -> float:
    # Cached: a busy sender signs many requests in the same second (email.utils parsing is ~10 µs).
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is not None:
            # A missing zone is taken as UTC, never as this server's local time.
            return calendar.timegm(parsed[:6]) - (parsed[9] or 0)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    raise SignatureError("Date header cannot be parsed")


def _check_host(req: SignedRequest) -> None:
    # The signature covers the Host header as sent; binding it to this server means comparing
    # that header with our own URL, in the one canonical form (127.0.0.1:80 is 127.0.0.1).
    value = req.headers.get("host")
    if value is None:
        raise SignatureError("signed header host is missing from the request")
    try:
        theirs = canonical_authority(value, req.parts.scheme.lower())
    except HostError:
        raise SignatureError("Host header is not a valid host") from None
    if theirs != req.authority:
        raise SignatureError("signed for another host than this instance")


def cavage_signed_data(c: Candidate, req: SignedRequest, now: float, max_skew: int) -> bytes:
    """The bytes a cavage candidate must have signed, once every rule passed (no key needed yet)."""
    for required in ("(request-target)", "host", "date", *(("digest",) if req.has_body else ())):
        if required not in c.covered:
            raise SignatureError(f"signature must cover {required}")
    _check_host(req)
    check_window(c.created, c.expires, now, max_skew)
    h = req.headers
    if "date" not in h:
        raise SignatureError("signed header date is missing from the request")
    if abs(now - _http_date(h["date"])) > max_skew:
        raise SignatureError("Date is too far from now")
    if "digest" in c.covered:
        check_digest(h.get("digest"), req.body)
    pseudo = {"(created)": str(c.created), "(expires)": str(c.expires)}
    return signing_string(req.method, target(req.parts), h, c.covered, pseudo).encode()
