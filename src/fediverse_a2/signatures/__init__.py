"""HTTP signatures, draft-cavage-http-signatures-12 and RFC 9421: signing and verification.

Pure code on `cryptography`: no database, no network. The key lookup is injected as an async
callable, so the caller decides about caching and fetching. A route parses a request's
signatures once (`parse_signatures`), checks each candidate's key id against its policy, and
passes the same candidates to `verify_request`, which binds every signature to this host.

Modules: `common` (errors, types), `keys`, `digests`, `structured_fields` (RFC 8941),
`candidates` (parsing), `cavage`, `rfc9421`, `verify`, `sign`.
"""

from __future__ import annotations

from .candidates import Candidate, parse_signatures
from .cavage import cavage_signing_string
from .common import AnyPrivateKey, AnyPublicKey, KeyLookup, PublicKey, SignatureError, Verified
from .digests import content_digest_header, digest_header
from .keys import decode_multikey, load_public_key_pem
from .rfc9421 import rfc9421_signature_base
from .sign import SignatureAuth, sign_headers
from .verify import verify_request

__all__ = [
    "AnyPrivateKey",
    "AnyPublicKey",
    "Candidate",
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
    "parse_signatures",
    "rfc9421_signature_base",
    "sign_headers",
    "verify_request",
]
