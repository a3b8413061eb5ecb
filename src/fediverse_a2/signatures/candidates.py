"""Parsing a request's signatures once, into Candidates: one parser for the policy and the verifier.

The caller checks each candidate's `key_id` against its federation policy, then hands the
same candidates to `verify_request`, so the keyId the policy checked is the one verified.

Anything ambiguous is refused here (a repeated parameter, label or dictionary key: two
parsers could read it two ways). A signature with an algorithm we do not support is
skipped, not fatal: a signer may add signatures for other verifiers. What depends on the
URL, the body or the clock (coverage rules, windows, digests) is checked in `verify`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .common import SignatureError, b64decode, lower_headers
from .structured_fields import Bare, DuplicateError, Item, Params, parse_dictionary

__all__ = [
    "MAX_CANDIDATES",
    "RFC9421_ALGORITHMS",
    "Candidate",
    "SignatureInput",
    "parse_lowered",
    "parse_signatures",
    "rfc9421_inputs",
    "supported_alg",
]

# alg -> the key type it demands; a missing alg lets the key's type decide.
RFC9421_ALGORITHMS = {"rsa-v1_5-sha256": "rsa", "ed25519": "ed25519"}
_CAVAGE_ALGORITHMS = {"rsa-sha256": "rsa", "hs2019": None}
# Each candidate may cost a key fetch (and a refetch): a request gets a few, not a hundred.
MAX_CANDIDATES = 4
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class Candidate:
    """One signature of a request, as parsed once: what the policy checks and verification needs."""

    scheme: str  # "rfc9421" or "cavage"
    key_id: str
    covered: tuple[str, ...]  # RFC 9421 component names, or cavage header names; lower case
    signature: bytes
    algorithm: str | None  # RFC 9421 `alg` (None when absent), or the cavage algorithm ("hs2019" by default)
    created: int | None = None
    expires: int | None = None
    label: str | None = None  # the RFC 9421 label
    params: tuple[tuple[str, Bare], ...] = ()  # RFC 9421 signature parameters in header order

    @property
    def key_type(self) -> str | None:
        """The key type the algorithm demands ("rsa" or "ed25519"), or None: the key decides."""
        if self.algorithm is None:
            return None
        known = RFC9421_ALGORITHMS if self.scheme == "rfc9421" else _CAVAGE_ALGORITHMS
        if self.algorithm not in known:  # only a hand-built Candidate can get here
            raise SignatureError(f"unsupported signature algorithm {self.algorithm[:40]!r}")
        return known[self.algorithm]


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """One member of Signature-Input: its label, covered components (inner list) and parameters."""

    label: str
    items: list[Item]
    params: Params

    def components(self) -> tuple[str, ...]:
        """The covered component names; SignatureError unless each is a plain name, once."""
        # Only plain names: no `;sf`, `;key`, `;req`, no tokens (which would serialise differently).
        if any(type(name) is not str or p for name, p in self.items):
            raise SignatureError("unsupported covered component (only plain names are)")
        names = tuple(str(name) for name, _ in self.items)
        if len(set(names)) != len(names):
            raise SignatureError("covered components are duplicated")
        return names


def _dictionary(value: str, field: str) -> dict[str, tuple[object, Params]]:
    try:
        return dict(parse_dictionary(value, strict=True))
    except DuplicateError as exc:
        raise SignatureError(f"ambiguous {field} header: {exc}") from None
    except ValueError:
        raise SignatureError("malformed Signature-Input or Signature header") from None


def rfc9421_inputs(h: Mapping[str, str]) -> tuple[list[SignatureInput], dict[str, tuple[object, Params]]]:
    """Signature-Input members in header order, and the Signature dictionary; `h` has lower-case names."""
    inputs = _dictionary(h.get("signature-input", ""), "Signature-Input")
    signatures = _dictionary(h.get("signature", ""), "Signature")
    out = []
    for label, (items, params) in inputs.items():
        if not isinstance(items, list):
            raise SignatureError("malformed Signature-Input header (a member is not an inner list)")
        out.append(SignatureInput(label, items, params))
    return out, signatures


def supported_alg(params: Params) -> bool:
    """Whether an RFC 9421 signature's `alg` is absent or one we verify."""
    alg = params.get("alg")
    return alg is None or (type(alg) is str and alg in RFC9421_ALGORITHMS)


def _rfc9421(h: Mapping[str, str]) -> tuple[list[Candidate], int]:
    inputs, signatures = rfc9421_inputs(h)
    out = []
    for entry in inputs:
        if not supported_alg(entry.params) or entry.label not in signatures:
            continue  # a signature for someone else's verifier; maybe another one is for us
        alg = entry.params.get("alg")
        sig = signatures[entry.label][0]
        if not isinstance(sig, bytes):
            raise SignatureError("Signature header has no byte-sequence value for the label")
        components = entry.components()
        key_id = entry.params.get("keyid")
        if type(key_id) is not str or not key_id:
            raise SignatureError("signature has no keyid")
        if "created" not in entry.params:
            raise SignatureError("signature has no created time")
        created, expires = entry.params["created"], entry.params.get("expires")
        if type(created) is not int or (expires is not None and type(expires) is not int):
            raise SignatureError("signature created/expires is not an integer")
        out.append(
            Candidate(
                scheme="rfc9421",
                key_id=key_id,
                covered=components,
                signature=sig,
                algorithm=alg if isinstance(alg, str) else None,  # supported_alg: str or absent
                created=created,
                expires=expires,
                label=entry.label,
                params=tuple(entry.params.items()),
            )
        )
    return out, len(inputs)


def _int_param(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise SignatureError(f"signature {what} is not an integer")
    return int(value)


def _cavage_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos, value = 0, value.strip()
    while pos < len(value):
        m = _CAVAGE_PARAM.match(value, pos)
        if m is None:
            raise SignatureError("malformed Signature header")
        name = m[1].lower()
        # Also catches two Signature lines, which arrive joined by ", " as one value.
        if name in params:
            raise SignatureError(f"ambiguous Signature header: {name[:20]} is given twice")
        params[name] = m[2] if m[2] is not None else m[3]
        pos = m.end()
    return params


def _cavage(raw: str) -> Candidate:
    p = _cavage_params(raw)
    key_id, sig_b64 = p.get("keyid"), p.get("signature")
    if not key_id:
        raise SignatureError("signature has no keyId")
    if not sig_b64:
        raise SignatureError("signature has no signature value")
    algorithm = (p.get("algorithm") or "hs2019").lower()
    if algorithm not in _CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm[:40]!r}")
    covered = tuple((p.get("headers") or "date").lower().split())
    created = _int_param(p["created"], "created") if "created" in p else None
    expires = _int_param(p["expires"], "expires") if "expires" in p else None
    if "(created)" in covered:
        if algorithm == "rsa-sha256":  # draft-12 §2.3 forbids (created) with rsa-* algorithms
            raise SignatureError("(created) cannot be used with rsa-sha256")
        if created is None:
            raise SignatureError("(created) is signed but created is missing")
    if "(expires)" in covered and expires is None:
        raise SignatureError("(expires) is signed but expires is missing")
    signature = b64decode(sig_b64, "signature")
    return Candidate("cavage", key_id, covered, signature, algorithm, created=created, expires=expires)


def _cavage_value(h: Mapping[str, str], rfc9421: bool) -> str | None:
    auth = h.get("authorization", "")
    from_auth = auth[10:] if auth[:10].lower() == "signature " else None
    if rfc9421:
        return from_auth  # the Signature header is RFC 9421's dictionary then
    from_header = h.get("signature")
    if from_header is not None and from_auth is not None and from_header != from_auth:
        raise SignatureError("ambiguous signature: Signature and Authorization headers differ")
    return from_header if from_header is not None else from_auth


def parse_lowered(h: Mapping[str, str]) -> list[Candidate]:
    """parse_signatures for headers already lower-cased and joined (see `lower_headers`)."""
    found: list[Candidate] = []
    inputs = 0
    if "signature-input" in h:
        found, inputs = _rfc9421(h)
    if not found and (raw := _cavage_value(h, "signature-input" in h)) is not None:
        found = [_cavage(raw)]
    if not found:
        raise SignatureError("no supported signature" if inputs else "request is not signed")
    return found[:MAX_CANDIDATES]


def parse_signatures(method: str, headers: Mapping[str, str]) -> list[Candidate]:
    """A request's signatures, parsed once: usable RFC 9421 ones in header order, else the cavage one."""
    del method  # part of the signature for symmetry with verify_request; parsing does not need it
    return parse_lowered(lower_headers(headers))
