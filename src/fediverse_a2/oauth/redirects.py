"""PURE: the redirect URIs an app may register, and where an approved authorisation may send the browser.

Apps on phones register their own schemes (`ivory://…`, `org.joinmastodon.android://…`), web
apps http(s) URLs, and command-line apps `urn:ietf:wg:oauth:2.0:oob`: the code is then shown
on the page to copy. A URI is used only exactly as registered (RFC 6749, 3.1.2).
"""

from __future__ import annotations

import re

from ..hosts import HostError, parse_origin

__all__ = ["MAX_URIS", "OOB", "RedirectError", "form_action_source", "parse_registered"]

OOB = "urn:ietf:wg:oauth:2.0:oob"
MAX_URIS = 10
MAX_LENGTH = 2000
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# Schemes that run or show something in the browser itself instead of handing over to an app.
_REFUSED = frozenset({"javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "view-source"})


class RedirectError(ValueError):
    """A redirect URI an app may not register."""


def _check(uri: str) -> str:
    if uri == OOB:
        return uri
    if len(uri) > MAX_LENGTH:
        raise RedirectError("redirect URI too long")
    if any(ch.isspace() or ord(ch) < 0x21 or ch in '"<>\\^`{|}' for ch in uri):
        raise RedirectError("redirect URI with characters a URI cannot have")
    match = _SCHEME.match(uri)
    if match is None:
        raise RedirectError("redirect URI must be absolute (have a scheme)")
    scheme = match.group(1).lower()
    if scheme in _REFUSED:
        raise RedirectError(f"redirect URI scheme {scheme!r} is not allowed")
    if "#" in uri:
        raise RedirectError("redirect URI must not have a fragment")
    rest = uri[match.end() :]
    if scheme in ("http", "https"):
        try:
            parse_origin(uri)
        except HostError:
            raise RedirectError("http(s) redirect URI must name a host") from None
    if not rest:
        raise RedirectError("redirect URI is empty after its scheme")
    return uri


def parse_registered(value: str | list[str] | None) -> tuple[str, ...]:
    """The redirect URIs of an app registration: a string (one per line or space-separated) or a list."""
    if value is None:
        raise RedirectError("redirect_uris is missing")
    items = value.split() if isinstance(value, str) else [v for item in value for v in str(item).split()]
    uris = tuple(dict.fromkeys(_check(item) for item in items))
    if not uris:
        raise RedirectError("redirect_uris is missing")
    if len(uris) > MAX_URIS:
        raise RedirectError(f"at most {MAX_URIS} redirect URIs")
    return uris


def form_action_source(uri: str) -> str | None:
    """What a page's CSP `form-action` must allow for a form whose answer redirects to `uri` (None: nothing more).

    Built from parsed parts only (a scheme, or a canonical origin), so nothing of the URI can
    add a directive to the policy.
    """
    if uri == OOB:
        return None
    match = _SCHEME.match(uri)
    if match is None:
        return None
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        try:
            return str(parse_origin(uri))
        except HostError:
            return None
    return f"{scheme}:"
