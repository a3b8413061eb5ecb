"""HTTP signatures, draft-cavage-http-signatures-12 and RFC 9421: signing and verification.

Pure functions on `cryptography`: no database, no network. Key lookup is injected as an
async callable, so the caller decides about caching and fetching.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import email.utils
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from .structured_fields import Item, Params, Token, parse_dictionary, serialize_bare, serialize_inner_list

__all__ = [
    "KeyLookup",
    "PublicKey",
    "SignatureAuth",
    "SignatureError",
    "Verified",
    "cavage_signing_string",
    "content_digest_header",
    "decode_multikey",
    "digest_header",
    "load_public_key_pem",
    "rfc9421_signature_base",
    "sign_headers",
    "verify_request",
]

AnyPublicKey = RSAPublicKey | Ed25519PublicKey
AnyPrivateKey = RSAPrivateKey | Ed25519PrivateKey


class SignatureError(Exception):
    """A request signature that is missing, malformed, stale or wrong; `.reason` is the 401 body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    """A parsed public key and the actor that owns it."""

    key_id: str
    owner: str
    key: AnyPublicKey


# (key_id, refresh) -> key. refresh=True means "refetch, the cached key failed"; raises
# SignatureError when no key can be had.
KeyLookup = Callable[[str, bool], Awaitable[PublicKey]]


@dataclass(frozen=True)
class Verified:
    """Who signed a request that verified, and with which scheme ("cavage" or "rfc9421")."""

    key_id: str
    owner: str
    scheme: str


_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_RFC_RSA, _RFC_ED = "rsa-v1_5-sha256", "ed25519"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*(?:,|$)')


def digest_header(body: bytes) -> str:
    """The draft-cavage `Digest` header value for `body`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` header value for `body`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def load_public_key_pem(pem: str) -> AnyPublicKey:
    """Parse an actor's publicKeyPem (SubjectPublicKeyInfo or PKCS#1); only RSA and Ed25519."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignatureError("publicKeyPem is not a usable public key") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise SignatureError("public key is neither RSA nor Ed25519")
    return key


_B58_INDEX = {c: i for i, c in enumerate("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")}
_ED25519_PUB, _RSA_PUB = b"\xed\x01", b"\x85\x24"  # multicodec varints of 0xed and 0x1205


def decode_multikey(multibase: str) -> AnyPublicKey:
    """Parse a FEP-521a publicKeyMultibase: base58btc ('z') of ed25519-pub or rsa-pub (DER)."""
    # Base58 decoding is quadratic; 2000 characters is beyond any RSA-8192 key.
    if not multibase.startswith("z") or len(multibase) > 2000:
        raise SignatureError("publicKeyMultibase is not a base58btc ('z') value")
    number = 0
    for char in multibase[1:]:
        if (digit := _B58_INDEX.get(char)) is None:
            raise SignatureError("publicKeyMultibase is not valid base58")
        number = number * 58 + digit
    zeros = len(multibase) - 1 - len(multibase[1:].lstrip("1"))  # each leading '1' is a zero byte
    raw = bytes(zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")
    prefix, material = raw[:2], raw[2:]
    if prefix == _ED25519_PUB and len(material) == 32:
        return Ed25519PublicKey.from_public_bytes(material)
    if prefix == _RSA_PUB:
        try:
            key = serialization.load_der_public_key(material)
        except (ValueError, UnsupportedAlgorithm):
            raise SignatureError("publicKeyMultibase holds a malformed RSA key") from None
        if isinstance(key, RSAPublicKey):
            return key
    raise SignatureError("publicKeyMultibase is not an Ed25519 or RSA Multikey")


# --- shared helpers


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    # Repeated fields are combined with ", " as both specs require (starlette's
    # Headers.items() yields every raw line).
    out: dict[str, str] = {}
    for name, value in headers.items():
        name, value = name.lower(), value.strip()
        out[name] = value if name not in out else f"{out[name]}, {value}"
    return out


def _authority(parts: SplitResult) -> str:
    host = parts.netloc.rpartition("@")[2].lower()
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    return host[: -len(default)] if default and host.endswith(default) else host


def _target(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _has_body(method: str, body: bytes) -> bool:
    # A POST with an empty body still gets (and needs) a digest, as Mastodon does.
    return bool(body) or method.upper() in _BODY_METHODS


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SignatureError(f"{what} is not valid base64") from None


def _http_date(value: str) -> float:
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is not None:
            # A missing zone is taken as UTC, never as this server's local time.
            return calendar.timegm(parsed[:6]) - (parsed[9] or 0)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    raise SignatureError("Date header cannot be parsed")


def _int_param(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise SignatureError(f"signature {what} is not an integer")
    return int(value)


def _check_window(created: int | None, expires: int | None, now: float, max_skew: int) -> None:
    if created is not None and abs(now - created) > max_skew:
        raise SignatureError("signature created time is too far from now")
    if expires is not None and now > expires:
        raise SignatureError("signature has expired")


def _check_key(key: AnyPublicKey, kind: str | None, sig: bytes, data: bytes) -> str | None:
    """None if `sig` verifies, else the reason; kind None means "whatever the key is"."""
    try:
        if isinstance(key, RSAPublicKey):
            if kind not in (None, "rsa"):
                return "signature algorithm does not fit the key type"
            key.verify(sig, data, _PKCS1, _SHA256)
        elif isinstance(key, Ed25519PublicKey):
            if kind not in (None, "ed25519"):
                return "signature algorithm does not fit the key type"
            key.verify(sig, data)
        else:
            return "unsupported key type"
    except InvalidSignature:
        return "signature does not verify"
    return None


async def _verify_key(
    key_id: str, kind: str | None, sig: bytes, data: bytes, lookup: KeyLookup, scheme: str
) -> Verified:
    pk = await lookup(key_id, False)
    if _check_key(pk.key, kind, sig, data) is not None:
        pk = await lookup(key_id, True)  # the actor may have rotated its key: refetch once
        if (reason := _check_key(pk.key, kind, sig, data)) is not None:
            raise SignatureError(reason)
    return Verified(key_id, pk.owner, scheme)


def _sign(private_key: AnyPrivateKey, data: bytes) -> bytes:
    if isinstance(private_key, RSAPrivateKey):
        return private_key.sign(data, _PKCS1, _SHA256)
    return private_key.sign(data)


# --- draft-cavage


def _cavage_string(method: str, target: str, h: Mapping[str, str], covered: Sequence[str]) -> str:
    lines = []
    for name in covered:
        if name == "(request-target)":
            value: str | None = f"{method.lower()} {target}"
        else:
            value = h.get(name)
            if value is None:
                raise SignatureError(f"signed header {name} is missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def cavage_signing_string(method: str, path_and_query: str, headers: Mapping[str, str], covered: Sequence[str]) -> str:
    """The draft-cavage signing string; `(created)`/`(expires)` values are read from `headers`."""
    return _cavage_string(method, path_and_query, _lower(headers), [c.lower() for c in covered])


def _parse_cavage(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos, value = 0, value.strip()
    while pos < len(value):
        m = _CAVAGE_PARAM.match(value, pos)
        if m is None:
            raise SignatureError("malformed Signature header")
        params[m[1].lower()] = m[2] if m[2] is not None else m[3]
        pos = m.end()
    return params


async def _verify_cavage(
    method: str, url: str, h: dict[str, str], body: bytes, raw: str, lookup: KeyLookup, now: float, max_skew: int
) -> Verified:
    p = _parse_cavage(raw)
    key_id, sig_b64 = p.get("keyid"), p.get("signature")
    if not key_id:
        raise SignatureError("signature has no keyId")
    if not sig_b64:
        raise SignatureError("signature has no signature value")
    algorithm = (p.get("algorithm") or "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        raise SignatureError(f"unsupported signature algorithm {algorithm[:40]!r}")
    covered = (p.get("headers") or "date").lower().split()
    for required in ("(request-target)", "host", "date", *(("digest",) if _has_body(method, body) else ())):
        if required not in covered:
            raise SignatureError(f"signature must cover {required}")
    created = _int_param(p["created"], "created") if "created" in p else None
    expires = _int_param(p["expires"], "expires") if "expires" in p else None
    if "(created)" in covered:
        if algorithm == "rsa-sha256":  # draft-12 §2.3 forbids (created) with rsa-* algorithms
            raise SignatureError("(created) cannot be used with rsa-sha256")
        if created is None:
            raise SignatureError("(created) is signed but created is missing")
    if "(expires)" in covered and expires is None:
        raise SignatureError("(expires) is signed but expires is missing")
    _check_window(created, expires, now, max_skew)
    if "date" not in h:
        raise SignatureError("signed header date is missing from the request")
    if abs(now - _http_date(h["date"])) > max_skew:
        raise SignatureError("Date is too far from now")
    if "digest" in covered:
        _check_digest(h.get("digest"), body)
    # `h` is our own lower-cased copy: the pseudo-headers can live in it.
    h["(created)"], h["(expires)"] = str(created), str(expires)
    text = _cavage_string(method, _target(urlsplit(url)), h, covered).encode()
    kind = "rsa" if algorithm == "rsa-sha256" else None
    return await _verify_key(key_id, kind, _b64(sig_b64, "signature"), text, lookup, "cavage")


def _check_digest(value: str | None, body: bytes) -> None:
    if value is None:
        raise SignatureError("Digest header is missing")
    for part in value.split(","):
        name, _, b64 = part.strip().partition("=")
        if name.lower() == "sha-256":
            if not hmac.compare_digest(_b64(b64, "Digest"), hashlib.sha256(body).digest()):
                raise SignatureError("Digest does not match the body")
            return
    raise SignatureError("Digest has no SHA-256 value")


# --- RFC 9421


def _component(name: str, method: str, url: str, parts: SplitResult, h: Mapping[str, str]) -> str:
    match name:
        case "@method":
            return method
        case "@target-uri":
            return url
        case "@authority":
            return _authority(parts)
        case "@scheme":
            return parts.scheme.lower()
        case "@path":
            return parts.path or "/"
        case "@query":
            return f"?{parts.query}"
        case "@request-target":
            return _target(parts)
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name[:40]}")
    if (value := h.get(name)) is None:
        raise SignatureError(f"signed header {name[:40]} is missing from the request")
    return value


def _base(method: str, url: str, h: Mapping[str, str], items: list[Item], params: Params) -> str:
    parts = urlsplit(url)
    lines = [f"{serialize_bare(n)}: {_component(str(n), method, url, parts, h)}" for n, _ in items]
    lines.append(f'"@signature-params": {serialize_inner_list(items, params)}')
    return "\n".join(lines)


def _pick(h: Mapping[str, str], label: str | None) -> tuple[str, list[Item], Params, bytes | None]:
    try:
        inputs = parse_dictionary(h.get("signature-input", ""))
        signatures = parse_dictionary(h.get("signature", ""))
    except ValueError:
        raise SignatureError("malformed Signature-Input or Signature header") from None
    for name, (items, params) in inputs.items():
        if label not in (None, name) or not isinstance(items, list):
            continue
        if label is None and (params.get("alg", _RFC_RSA) not in (_RFC_RSA, _RFC_ED) or name not in signatures):
            continue  # verify the first signature we can, skip the others
        if any(not isinstance(n, str) or isinstance(n, Token) or p for n, p in items):
            raise SignatureError("unsupported covered component (only plain names are)")
        sig = signatures.get(name, (None,))[0]
        return name, items, params, sig if isinstance(sig, bytes) else None
    raise SignatureError("no supported RFC 9421 signature")


def rfc9421_signature_base(method: str, url: str, headers: Mapping[str, str], label: str | None = None) -> str:
    """The RFC 9421 §2.5 signature base of the signature `label` (default: first usable)."""
    h = _lower(headers)
    _, items, params, _ = _pick(h, label)
    return _base(method, url, h, items, params)


async def _verify_rfc9421(
    method: str, url: str, h: dict[str, str], body: bytes, lookup: KeyLookup, now: float, max_skew: int
) -> Verified:
    _, items, params, sig = _pick(h, None)
    if sig is None:
        raise SignatureError("Signature header has no byte-sequence value for the label")
    names = [str(n) for n, _ in items]
    if len(set(names)) != len(names):
        raise SignatureError("covered components are duplicated")
    if "@method" not in names:
        raise SignatureError("signature must cover @method")
    whole = "@target-uri" in names or "@request-target" in names
    if not whole and not ("@authority" in names and "@path" in names):
        raise SignatureError("signature must cover @target-uri, or @authority and @path")
    if urlsplit(url).query and not whole and "@query" not in names:
        raise SignatureError("signature must cover the query")
    if _has_body(method, body) and "content-digest" not in names:
        raise SignatureError("signature must cover content-digest")
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("signature has no keyid")
    if "created" not in params:
        raise SignatureError("signature has no created time")
    created, expires = params["created"], params.get("expires")
    if type(created) is not int or (expires is not None and type(expires) is not int):
        raise SignatureError("signature created/expires is not an integer")
    _check_window(created, expires, now, max_skew)
    if "content-digest" in names:
        _check_content_digest(h.get("content-digest"), body)
    alg = params.get("alg")
    kind = None if alg is None else "rsa" if alg == _RFC_RSA else "ed25519"
    data = _base(method, url, h, items, params).encode()
    return await _verify_key(key_id, kind, sig, data, lookup, "rfc9421")


def _check_content_digest(value: str | None, body: bytes) -> None:
    if value is None:
        raise SignatureError("Content-Digest header is missing")
    try:
        members = parse_dictionary(value)
    except ValueError:
        raise SignatureError("malformed Content-Digest header") from None
    checked = False
    for name, fn in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        if name in members:
            digest = members[name][0]
            if not isinstance(digest, bytes) or not hmac.compare_digest(digest, fn(body).digest()):
                raise SignatureError("Content-Digest does not match the body")
            checked = True
    if not checked:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 value")


# --- public entry points


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    lookup: KeyLookup,
    *,
    now: float | None = None,
    max_skew: int = 3600,
) -> Verified:
    """Verify a request's RFC 9421 (preferred) or draft-cavage signature, or raise SignatureError.

    `url` is the full URL as this server sees itself (configured base URL + path + query);
    `headers` may be any case mix, e.g. starlette `Headers`. Every policy check runs before
    the key lookup. Checking that `Verified.owner` is the activity's actor is the caller's job.
    """
    now = time.time() if now is None else now
    h = _lower(headers)
    body = body or b""
    if "signature-input" in h:
        return await _verify_rfc9421(method, url, h, body, lookup, now, max_skew)
    raw = h.get("signature")
    if raw is None:
        auth = h.get("authorization", "")
        if auth[:10].lower() == "signature ":
            raw = auth[10:]
    if raw is None:
        raise SignatureError("request is not signed")
    return await _verify_cavage(method, url, h, body, raw, lookup, now, max_skew)


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
    now = time.time() if now is None else now
    parts = urlsplit(url)
    body = body or b""
    has_body = _has_body(method, body)
    rsa = isinstance(private_key, RSAPrivateKey)
    out = {"Host": _authority(parts), "Date": email.utils.formatdate(now, usegmt=True)}
    if scheme == "cavage":
        if has_body:
            out["Digest"] = digest_header(body)
    elif scheme == "rfc9421":
        if has_body:
            out["Content-Digest"] = content_digest_header(body)
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    extra = {k.lower(): v for k, v in (extra_headers or {}).items()}
    if clash := {"signature", "signature-input", *(k.lower() for k in out)} & extra.keys():
        raise ValueError(f"extra_headers cannot replace {sorted(clash)}")
    out.update(extra_headers or {})
    h = {k.lower(): v for k, v in out.items()}
    if scheme == "cavage":
        covered = ["(request-target)", "host", "date", *(["digest"] if has_body else []), *extra]
        sig = _sign(private_key, _cavage_string(method, _target(parts), h, covered).encode())
        out["Signature"] = (
            f'keyId="{key_id}",algorithm="{"rsa-sha256" if rsa else "hs2019"}",'
            f'headers="{" ".join(covered)}",signature="{base64.b64encode(sig).decode("ascii")}"'
        )
    else:
        names = ["@method", "@target-uri", *(["content-digest"] if has_body else []), *extra]
        items: list[Item] = [(n, {}) for n in names]
        params: Params = {"created": int(now), "keyid": key_id, "alg": _RFC_RSA if rsa else _RFC_ED}
        sig = _sign(private_key, _base(method, url, h, items, params).encode())
        out["Signature-Input"] = "sig1=" + serialize_inner_list(items, params)
        out["Signature"] = "sig1=" + serialize_bare(sig)
    return out


class SignatureAuth(httpx.Auth):
    """httpx auth that signs every outgoing request: the one place we sign."""

    requires_request_body = True

    def __init__(self, key_id: str, private_key: AnyPrivateKey, scheme: str = "cavage") -> None:
        if scheme not in ("cavage", "rfc9421"):
            raise ValueError(f"unknown signature scheme {scheme!r}")
        self.key_id, self.private_key, self.scheme = key_id, private_key, scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the signature headers for this exact request, then send it."""
        url, key = str(request.url), self.private_key
        request.headers.update(sign_headers(request.method, url, request.content, self.key_id, key, scheme=self.scheme))
        yield request
