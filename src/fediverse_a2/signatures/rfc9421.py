"""RFC 9421 HTTP Message Signatures: components, the signature base, and the inbound rules.

Derived components come from `url`, this server's own name for the request, never from the
request's Host header: a signature that covers `@authority` or `@target-uri` is thereby bound
to this host. `@request-target` carries no host, so on its own it binds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from ..hosts import canonical_authority
from .candidates import Candidate, SignatureInput, rfc9421_inputs, supported_alg
from .common import SignatureError, SignedRequest, check_window, lower_headers, target
from .digests import check_content_digest
from .structured_fields import Item, Params, serialize_bare, serialize_inner_list

__all__ = ["rfc9421_signature_base", "rfc9421_signed_data", "signature_base"]


def _component(
    name: str, method: str, url: str, parts: SplitResult, authority: str | None, h: Mapping[str, str]
) -> str:
    match name:
        case "@method":
            return method
        case "@target-uri":
            return url
        case "@authority":
            return authority if authority is not None else canonical_authority(parts.netloc, parts.scheme.lower())
        case "@scheme":
            return parts.scheme.lower()
        case "@path":
            return parts.path or "/"
        case "@query":
            return f"?{parts.query}"
        case "@request-target":
            return target(parts)
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name[:40]}")
    if (value := h.get(name)) is None:
        raise SignatureError(f"signed header {name[:40]} is missing from the request")
    return value


def signature_base(
    method: str, url: str, h: Mapping[str, str], items: list[Item], params: Params, authority: str | None = None
) -> str:
    """The §2.5 signature base from lower-cased headers `h`; `authority` defaults to the URL's, canonical."""
    parts = urlsplit(url)
    lines = [f"{serialize_bare(n)}: {_component(str(n), method, url, parts, authority, h)}" for n, _ in items]
    lines.append(f'"@signature-params": {serialize_inner_list(items, params)}')
    return "\n".join(lines)


def _first_usable(inputs: list[SignatureInput], signatures: Mapping[str, object], label: str | None) -> SignatureInput:
    for entry in inputs:
        if label is not None:
            if entry.label == label:
                return entry
        elif supported_alg(entry.params) and entry.label in signatures:
            return entry
    raise SignatureError("no supported RFC 9421 signature")


def rfc9421_signature_base(method: str, url: str, headers: Mapping[str, str], label: str | None = None) -> str:
    """The RFC 9421 §2.5 signature base of the signature `label` (default: first usable)."""
    h = lower_headers(headers)
    inputs, signatures = rfc9421_inputs(h)
    entry = _first_usable(inputs, signatures, label)
    return signature_base(method, url, h, [(n, {}) for n in entry.components()], entry.params)


def rfc9421_signed_data(c: Candidate, req: SignedRequest, now: float, max_skew: int) -> bytes:
    """The signature base an RFC 9421 candidate must have signed, once every rule passed (no key needed yet)."""
    names = c.covered
    if "@method" not in names:
        raise SignatureError("signature must cover @method")
    if "@target-uri" not in names and "@authority" not in names:
        raise SignatureError("signature must cover @authority or @target-uri (they bind this host)")
    whole = "@target-uri" in names or "@request-target" in names
    if not whole and "@path" not in names:
        raise SignatureError("signature must cover @target-uri, or @path")
    if req.parts.query and not whole and "@query" not in names:
        raise SignatureError("signature must cover the query")
    if req.has_body and "content-digest" not in names:
        raise SignatureError("signature must cover content-digest")
    check_window(c.created, c.expires, now, max_skew)
    if "content-digest" in names:
        check_content_digest(req.headers.get("content-digest"), req.body)
    items: list[Item] = [(n, {}) for n in names]
    return signature_base(req.method, req.url, req.headers, items, dict(c.params), req.authority).encode()
