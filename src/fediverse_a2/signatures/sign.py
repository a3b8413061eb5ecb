"""Signing outgoing requests: `sign_headers`, and `SignatureAuth`, the one place every request is signed."""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Generator, Mapping
from urllib.parse import SplitResult, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ..hosts import DEFAULT_PORTS, canonical_authority
from .cavage import signing_string
from .common import AnyPrivateKey, has_body, target
from .digests import content_digest_header, digest_header
from .keys import sign_bytes
from .rfc9421 import signature_base
from .structured_fields import Item, Params, serialize_bare, serialize_inner_list

__all__ = ["SignatureAuth", "sign_headers"]

_SCHEMES = ("cavage", "rfc9421")


def _host(parts: SplitResult) -> str:
    # The Host sent (and signed): canonical, user info dropped, the scheme's default port left out.
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {scheme!r}")
    return canonical_authority(parts.netloc.rpartition("@")[2], scheme)


def sign_headers(
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key: AnyPrivateKey,
    *,
    scheme: str = "cavage",
    now: float | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers that sign this request (Host, Date, Digest or Content-Digest, Signature...)."""
    if not isinstance(private_key, RSAPrivateKey | Ed25519PrivateKey):
        raise TypeError("private_key must be an RSA or Ed25519 private key")
    if not (key_id.isascii() and key_id.isprintable()) or '"' in key_id:
        raise ValueError("key_id must be printable ASCII without quotes")
    if scheme not in _SCHEMES:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    now = time.time() if now is None else now
    parts = urlsplit(url)
    body = body or b""
    with_body = has_body(method, body)
    rsa = isinstance(private_key, RSAPrivateKey)
    out = {"Host": _host(parts), "Date": email.utils.formatdate(now, usegmt=True)}
    if with_body and scheme == "cavage":
        out["Digest"] = digest_header(body)
    elif with_body:
        out["Content-Digest"] = content_digest_header(body)
    extra = {k.lower(): v for k, v in (extra_headers or {}).items()}
    if clash := {"signature", "signature-input", *(k.lower() for k in out)} & extra.keys():
        raise ValueError(f"extra_headers cannot replace {sorted(clash)}")
    out.update(extra_headers or {})
    h = {k.lower(): v for k, v in out.items()}
    if scheme == "cavage":
        covered = ["(request-target)", "host", "date", *(["digest"] if with_body else []), *extra]
        sig = sign_bytes(private_key, signing_string(method, target(parts), h, covered).encode())
        out["Signature"] = (
            f'keyId="{key_id}",algorithm="{"rsa-sha256" if rsa else "hs2019"}",'
            f'headers="{" ".join(covered)}",signature="{base64.b64encode(sig).decode("ascii")}"'
        )
    else:
        names = ["@method", "@target-uri", *(["content-digest"] if with_body else []), *extra]
        items: list[Item] = [(n, {}) for n in names]
        params: Params = {"created": int(now), "keyid": key_id, "alg": "rsa-v1_5-sha256" if rsa else "ed25519"}
        sig = sign_bytes(private_key, signature_base(method, url, h, items, params).encode())
        out["Signature-Input"] = "sig1=" + serialize_inner_list(items, params)
        out["Signature"] = "sig1=" + serialize_bare(sig)
    return out


class SignatureAuth(httpx.Auth):
    """httpx auth that signs every outgoing request: the one place we sign."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key: AnyPrivateKey, scheme: str = "cavage") -> None:
        if scheme not in _SCHEMES:
            raise ValueError(f"unknown signature scheme {scheme!r}")
        self.key_id, self.private_key, self.scheme = key_id, private_key, scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the signature headers for this exact request, then send it."""
        url, key = str(request.url), self.private_key
        request.headers.update(sign_headers(request.method, url, request.content, self.key_id, key, scheme=self.scheme))
        yield request
