"""Keys: loading an actor's public key (PEM or FEP-521a Multikey), and the raw sign/verify operations."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from .common import AnyPrivateKey, AnyPublicKey, SignatureError

__all__ = ["check_signature", "decode_multikey", "load_public_key_pem", "sign_bytes"]

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_B58_INDEX = {c: i for i, c in enumerate("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")}
_ED25519_PUB, _RSA_PUB = b"\xed\x01", b"\x85\x24"  # multicodec varints of 0xed and 0x1205


def load_public_key_pem(pem: str) -> AnyPublicKey:
    """Parse an actor's publicKeyPem (SubjectPublicKeyInfo or PKCS#1); only RSA and Ed25519."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignatureError("publicKeyPem is not a usable public key") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise SignatureError("public key is neither RSA nor Ed25519")
    return key


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


def check_signature(key: AnyPublicKey, key_type: str | None, signature: bytes, data: bytes) -> str | None:
    """None if `signature` over `data` verifies with `key`, else the reason.

    `key_type` is what the signature's algorithm demands ("rsa" or "ed25519"); None means
    "whatever the key is" (draft-cavage hs2019, RFC 9421 without `alg`).
    """
    try:
        if isinstance(key, RSAPublicKey):
            if key_type not in (None, "rsa"):
                return "signature algorithm does not fit the key type"
            key.verify(signature, data, _PKCS1, _SHA256)
        elif isinstance(key, Ed25519PublicKey):
            if key_type not in (None, "ed25519"):
                return "signature algorithm does not fit the key type"
            key.verify(signature, data)
        else:
            return "unsupported key type"
    except InvalidSignature:
        return "signature does not verify"
    return None


def sign_bytes(private_key: AnyPrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 for an RSA key, Ed25519 for an Ed25519 key."""
    if isinstance(private_key, RSAPrivateKey):
        return private_key.sign(data, _PKCS1, _SHA256)
    return private_key.sign(data)
