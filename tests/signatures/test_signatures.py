"""HTTP signatures: fixed vectors, every inbound rule, key rotation, round trips, httpsig interop."""

from __future__ import annotations

import base64
import email.utils
import hashlib
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpsig
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.datastructures import Headers

from fediverse_a2.signatures import (
    Candidate,
    KeyLookup,
    PublicKey,
    SignatureAuth,
    SignatureError,
    Verified,
    cavage_signing_string,
    content_digest_header,
    decode_multikey,
    digest_header,
    load_public_key_pem,
    parse_signatures,
    rfc9421_signature_base,
    sign_headers,
    verify_request,
)
from fediverse_a2.signatures.candidates import MAX_CANDIDATES
from fediverse_a2.signatures.structured_fields import DuplicateError, Token, parse_dictionary

# A fixed RSA-2048 test key (generated once for these tests; never used anywhere else).
RSA_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCuqeNs/ixvMTza
+rXjeXURLYD/EUuWnhSAwf63p1l8NXty3Igg7r9bYRavCh4gK6+KHdYObfoJFYi9
v12d4cdbMAFAH3n1c6OFQzZ2L4eMjWEQQsgQZx9956oOB5hJrd+TGtHhEhEtjhuA
SvoACySIIXwsHZAz+To7+ga/ItyNw8pZHqso+H+2zc6DQOnlFx+eu+hfmILGSYva
zrvy60zaM+hcUhRqOVtAicRa/RVw9FJFFEzNGQleHDUWAWMuGhQCVqk89gZkJhLL
tYgPP/JlZO4wLO5n8i0Fe3VcXLkgvbR1XJYPerYA+fVUvd8O57XQ2Q+7bQoO5ox8
hxVVr0krAgMBAAECggEASb8TdlaPPleEwVSv7Z6/rgQPfiK4TpzqPT8rpDF1l/sg
52tz0qvbgeKpaDiWZbDsSh203pzSwHkmJi+hgGLvAHJxZLiljtxHg6HQYfBJhC/B
dtMrk7lm04s4Avpz81AFoR/m0+gD9r8Un4OIsPIDd7LjseC9nSQy0VYM+TDn/Lal
kCEUjj5VU4U1QMTwqRNdjkyxN6C/dZZzBtlfeMKBFnLGjiEh1G6YGnxxp/OZ4qzc
w/nXujipDIs/8afYBqpFj0lqO1MTdTXsBzV+bmfgOfu63lgTz2oSbNXkfiftxgqL
JR8GkaYr0ScC6j5oFZscGLyxo/LVp5uX0oyFOvuRSQKBgQDscRoNteofyDJZqxXk
lzqRjxQGIUfpGJ1PDDLWC7jDPQk48vlLyPvI1wzXdXYLTzZWxefQIJBDGExA+JQL
nl7De56y4QN2Z8zRUPTu02JOc5ui7j6fhvfNdlPUVheb3J9o4agTc0Z7MKOHKaCA
s/C7xw5JSgV87HnfRBZuf0wjDwKBgQC9HJH4+z182DRLWfJ6/j4KxB1PH0H2qarv
xppJCqisE5HLOPuHQMn/FuTrvui6dGz4vcYCm7Yaywg1M1iVoB9qFUkRfLa088v0
VrjP5JyIA+t2HC9dGmmuKU0o2KMqlq+D6bAETTUTmkqkqsFsaudFMwmZWqtEZQPV
fb/ktQ5IJQKBgC5IsZ3vd2ZDTT/qUr3NsMRfqr7McwQ5MkoQDD+ESeXGI/EG9zAT
pt4Y4sWmk7YBCpUP5qICTdskfYDWaDyiAtDneRhxHblm9lwfKeM6c+sBjHzngFDA
HfAVcrGFLNfw5y+jxMAR98ETs185Edc/4icP/0bve4WJ0Q2YiX+V4bSXAoGAXVki
/QIXge6/MYq+1NN3EJ1p0kqdpwJtbFpegjuOsxId33DLSCJFE3PboDrmalNaDxau
DU+LfoJGFOy5h3I4z4aeQNGM5pmJTZ0ZMRWp5sH4kp6rCowlKmEcw1LciANFtBnA
Vv89eeWpfssDG19RtajRzi8hZ2ttjw65kE2HNTkCgYANF7ANSGf6kYSEOn6mvq7j
gWUNf+eVRRNH+dwIzYzwkM6vns1lmesVrBFVVL1Ldr//167uYTvEJr6FrXTik8cx
hzW3qY9GKlIKTN21Nzv6n9rZ4YxaZwMXWsEjMzbAWxze73F1QvC/Yoqxk4W3mzxz
FANNw3WAsp7cyUe9UKvnBw==
-----END PRIVATE KEY-----
"""


def _load_rsa(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


RSA_KEY = _load_rsa(RSA_PEM)
RSA_PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
ED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))

KEY_ID = "https://peer.example/users/bob#main-key"
OWNER = "https://peer.example/users/bob"
URL = "https://a2.example/users/alice/inbox"
BODY = b'{"type":"Follow","actor":"https://peer.example/users/bob"}'
NOW = 1_700_000_000
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # NOW as IMF-fixdate
BODY_SHA256 = "6qYebvCiBvnOQkF4fT5mfBA8ISSEJZ7o2VxcGhmoGZk="
BASE_HEADERS = {"Host": "a2.example", "Date": DATE, "Digest": f"SHA-256={BODY_SHA256}"}
MASTODON = ["(request-target)", "host", "date", "digest"]

CAVAGE_STRING = f"""(request-target): post /users/alice/inbox
host: a2.example
date: Tue, 14 Nov 2023 22:13:20 GMT
digest: SHA-256={BODY_SHA256}"""
CAVAGE_SIG = (
    "qja4hC/Mgh7r63dKg6ZFPg7yKCBQ57aM3eqqWeuhHpB0zNyjIOIhIyEd8AIaYCGWPH3i92C8cqL98z2PavURjuE8Tb8YLjhgrdcbY9MkIXuW"
    "+NmhKgL8g7JUDqsYpZPs7MTkOlehbmo1e4BRnGjknEPAu+kQwxCjVAmf+tj5Qfw2zUjRk3Ux1sBSNb/6va12CwIFF+Czc3uVARW2jJmKTXHd"
    "c2F7APIhagRT1b72p2Ye2na+9DpAoraW4BhNRYyQOa1Kydd9cmEBsKqG0/z790fG0j/vkQKr7cPRoXhpPqcLpw9uEWGzbtX0nJUAIIc88VAB"
    "EluqcudoykzDQfqkOg=="
)
RFC_INPUT = (
    'sig1=("@method" "@target-uri" "content-digest");created=1700000000;'
    'keyid="https://peer.example/users/bob#main-key";alg="rsa-v1_5-sha256"'
)
RFC_BASE = f'''"@method": POST
"@target-uri": https://a2.example/users/alice/inbox
"content-digest": sha-256=:{BODY_SHA256}:
"@signature-params": ("@method" "@target-uri" "content-digest");created=1700000000;keyid="https://peer.example/users/bob#main-key";alg="rsa-v1_5-sha256"'''
RFC_SIG = (
    "HRWzC8li55uox9t/rXrpfNK4yV+S6gxV/jzzpAypQCqXY52Clzx/z7FMzdL1gwfjUf0QM9kJnUhim1qsqfPqSuTrQD3rAN88se0/d5MVLE1G"
    "mwfx+jCuN0EP4dTxxukeBZWAnUUm5DDtmpJ/K1ldvcFigypqbAUweFbKhn2gIuMR9ZVJSsod9OKUgBaWJ87edGVqDIADjDXSIkM/IMlHqgBh"
    "EXozIjwPa8WM8SvwAC1AZXuzTZfq7i+43Xah4HPQFsRT/PQ77R8unbLonF5gBDWP19B5SxrvNr2q8AyxFQBJc6sxoN8yTkIzXpn4bpIEWhbp"
    "VVj3aEvUP61Q2SBpwA=="
)


class FakeKeys:
    """A KeyLookup: `key` normally, `fresh` (if given) on refresh; records every refresh flag."""

    def __init__(self, key: object, fresh: object | None = None) -> None:
        self.key, self.fresh = key, fresh
        self.calls: list[bool] = []

    async def __call__(self, key_id: str, refresh: bool) -> PublicKey:
        self.calls.append(refresh)
        key = self.fresh if refresh and self.fresh is not None else self.key
        return PublicKey(key_id, OWNER, key)  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def raw_sign(key: object, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, Ed25519PrivateKey)
    return key.sign(data)


def cavage(
    covered: list[str],
    headers: Mapping[str, str] = BASE_HEADERS,
    *,
    key: object = RSA_KEY,
    params: str = 'algorithm="rsa-sha256",',
    target: str = "post /users/alice/inbox",
) -> dict[str, str]:
    """A draft-cavage signed header set, built here by hand (not with the module under test)."""
    lower = {k.lower(): v for k, v in headers.items()}
    text = "\n".join(f"{n}: {target if n == '(request-target)' else lower[n]}" for n in covered)
    sig = b64(raw_sign(key, text.encode()))
    return {**headers, "Signature": f'keyId="{KEY_ID}",{params}headers="{" ".join(covered)}",signature="{sig}"'}


def rfc9421(
    components: list[str],
    params: str,
    headers: Mapping[str, str],
    *,
    key: object = RSA_KEY,
    method: str = "POST",
    url: str = URL,
    label: str = "sig1",
) -> dict[str, str]:
    """An RFC 9421 signed header set, with the signature base built here by hand."""
    parts, lower = urlsplit(url), {k.lower(): v for k, v in headers.items()}
    derived = {
        "@method": method,
        "@target-uri": url,
        "@authority": parts.netloc,
        "@path": parts.path,
        "@query": f"?{parts.query}",
        "@request-target": parts.path + (f"?{parts.query}" if parts.query else ""),
    }
    inner = "(" + " ".join(f'"{c}"' for c in components) + ")" + params
    lines = [f'"{c}": {derived[c] if c.startswith("@") else lower[c]}' for c in components]
    base = "\n".join([*lines, f'"@signature-params": {inner}'])
    sig = b64(raw_sign(key, base.encode()))
    return {**headers, "Signature-Input": f"{label}={inner}", "Signature": f"{label}=:{sig}:"}


RFC_PARAMS = f';created={NOW};keyid="{KEY_ID}"'
CD_HEADERS = {"Host": "a2.example", "Content-Digest": f"sha-256=:{BODY_SHA256}:"}


async def verify(
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    lookup: KeyLookup | None = None,
    now: float = NOW,
    candidates: list[Candidate] | None = None,
) -> Verified:
    keys = lookup or FakeKeys(RSA_KEY.public_key())
    return await verify_request(method, url, headers, body, keys, now=now, candidates=candidates)


async def rejects(headers: Mapping[str, str], fragment: str, **kwargs: object) -> None:
    with pytest.raises(SignatureError) as info:
        await verify(headers, **kwargs)  # type: ignore[arg-type]
    assert fragment in info.value.reason


# --- digests and fixed vectors


def test_digest_headers() -> None:
    expected = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert expected == BODY_SHA256
    assert digest_header(BODY) == f"SHA-256={BODY_SHA256}"
    assert content_digest_header(BODY) == f"sha-256=:{BODY_SHA256}:"


def test_cavage_signing_string_is_exact() -> None:
    headers = {"HOST": "a2.example", "date": DATE, "Digest": f"SHA-256={BODY_SHA256}", "X-Other": "x"}
    assert cavage_signing_string("POST", "/users/alice/inbox", headers, MASTODON) == CAVAGE_STRING


def test_cavage_signing_string_needs_every_covered_header() -> None:
    with pytest.raises(SignatureError, match="digest"):
        cavage_signing_string("POST", "/users/alice/inbox", {"Host": "a2.example", "Date": DATE}, MASTODON)


async def test_cavage_fixed_key_vector() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, now=NOW)
    assert signed == {
        "Host": "a2.example",
        "Date": DATE,
        "Digest": f"SHA-256={BODY_SHA256}",
        "Signature": f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest",'
        f'signature="{CAVAGE_SIG}"',
    }
    assert await verify(signed) == Verified(KEY_ID, OWNER, "cavage")


async def test_rfc9421_fixed_key_vector_and_base() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme="rfc9421", now=NOW)
    assert signed == {
        "Host": "a2.example",
        "Date": DATE,
        "Content-Digest": f"sha-256=:{BODY_SHA256}:",
        "Signature-Input": RFC_INPUT,
        "Signature": f"sig1=:{RFC_SIG}:",
    }
    assert rfc9421_signature_base("POST", URL, signed) == RFC_BASE
    assert await verify(signed) == Verified(KEY_ID, OWNER, "rfc9421")


# RFC 9421 appendix B.2.6 (ed25519): the published signature base, key and signature.
B26_INPUT = 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'  # noqa: E501
B26_BASE = '''"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'''  # noqa: E501
B26_SIG = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
B26_PUBLIC_RAW = base64.urlsafe_b64decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs=")  # the JWK "x"
B26_PUBLIC = Ed25519PublicKey.from_public_bytes(B26_PUBLIC_RAW)
B26_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Length": "18",
    "Signature-Input": B26_INPUT,
    "Signature": f"sig-b26=:{B26_SIG}:",
}
B26_URL = "http://example.com/foo?param=Value&Pet=dog"


async def test_rfc9421_appendix_b26_signature_base() -> None:
    base = rfc9421_signature_base("POST", B26_URL, B26_HEADERS)
    assert base == B26_BASE
    B26_PUBLIC.verify(base64.b64decode(B26_SIG), base.encode())  # raises if our base were wrong
    # The RFC's example leaves the body and query unsigned, which our policy refuses.
    await rejects(B26_HEADERS, "query", url=B26_URL, body=b'{"hello": "world"}', now=1618884473)


def test_rfc9421_signature_params_are_reserialised_canonically() -> None:
    headers = {
        "Signature-Input": 'sig1=(  "@method"   "@target-uri" );created=1700000000'
        + ';keyid="k\\"e\\\\y";tag=tok;x=1.50;f=?0;t',
        "Signature": "sig1=:AAAA:",
    }
    assert rfc9421_signature_base("GET", URL, headers).splitlines() == [
        '"@method": GET',
        f'"@target-uri": {URL}',
        '"@signature-params": ("@method" "@target-uri");created=1700000000;keyid="k\\"e\\\\y";tag=tok;x=1.5;f=?0;t',
    ]


# --- tampering


async def test_cavage_tampering_fails() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, now=NOW)
    await rejects(signed, "Digest does not match", body=BODY + b" ")
    await rejects(signed, "does not verify", url="https://a2.example/users/carol/inbox")
    await rejects(signed, "does not verify", url=URL + "?x=1")
    await rejects({**signed, "Host": "other.example"}, "signed for another host")
    await rejects({**signed, "Date": email.utils.formatdate(NOW + 1, usegmt=True)}, "does not verify")
    sig = bytearray(base64.b64decode(CAVAGE_SIG))
    sig[10] ^= 1
    await rejects({**signed, "Signature": signed["Signature"].replace(CAVAGE_SIG, b64(bytes(sig)))}, "does not verify")


async def test_rfc9421_tampering_fails() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme="rfc9421", now=NOW)
    await rejects(signed, "Content-Digest does not match", body=BODY + b" ")
    await rejects(signed, "does not verify", url="https://a2.example/users/carol/inbox")
    await rejects(signed, "does not verify", method="PUT")
    await rejects({**signed, "Signature-Input": RFC_INPUT.replace("1700000000", "1700000001")}, "does not verify")
    sig = bytearray(base64.b64decode(RFC_SIG))
    sig[0] ^= 0x80
    await rejects({**signed, "Signature": f"sig1=:{b64(bytes(sig))}:"}, "does not verify")


# --- draft-cavage rules


async def test_cavage_by_hand_verifies() -> None:
    assert await verify(cavage(MASTODON)) == Verified(KEY_ID, OWNER, "cavage")


@pytest.mark.parametrize("missing", MASTODON)
async def test_cavage_must_cover_each_required_header(missing: str) -> None:
    await rejects(cavage([h for h in MASTODON if h != missing]), f"must cover {missing}")


async def test_cavage_get_needs_no_digest_but_the_rest() -> None:
    headers = {"Host": "a2.example", "Date": DATE}
    signed = cavage(["(request-target)", "host", "date"], headers, target="get /users/alice")
    assert await verify(signed, method="GET", url="https://a2.example/users/alice", body=None)
    await rejects(cavage(["(request-target)", "date"], headers, target="get /users/alice"), "must cover host",
                  method="GET", url="https://a2.example/users/alice", body=None)  # fmt: skip


async def test_cavage_headers_default_is_date_only() -> None:
    text = f"date: {DATE}"
    headers = {**BASE_HEADERS, "Signature": f'keyId="{KEY_ID}",signature="{b64(raw_sign(RSA_KEY, text.encode()))}"'}
    await rejects(headers, "must cover (request-target)")


async def test_cavage_missing_digest_header() -> None:
    signed = cavage(MASTODON)
    del signed["Digest"]
    await rejects(signed, "Digest header is missing")


async def test_cavage_digest_must_have_sha256_or_sha512() -> None:
    md5 = "MD5=" + b64(hashlib.md5(BODY).digest())
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": md5}), "no SHA-256 or SHA-512")
    sha512 = "SHA-512=" + b64(hashlib.sha512(BODY).digest())
    assert await verify(cavage(MASTODON, {**BASE_HEADERS, "Digest": sha512}))


async def test_cavage_digest_list_and_case() -> None:
    listed = f"SHA-512={b64(hashlib.sha512(BODY).digest())}, sha-256={BODY_SHA256}"
    assert await verify(cavage(MASTODON, {**BASE_HEADERS, "Digest": listed}))
    wrong = f"SHA-256={b64(hashlib.sha256(b'other').digest())}"
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": wrong}), "Digest does not match")


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ed25519"])
async def test_cavage_unknown_algorithm(algorithm: str) -> None:
    await rejects(cavage(MASTODON, params=f'algorithm="{algorithm}",'), "unsupported signature algorithm")


@pytest.mark.parametrize("params", ['algorithm="hs2019",', ""])
async def test_cavage_hs2019_or_absent_algorithm_uses_key_type(params: str) -> None:
    assert await verify(cavage(MASTODON, params=params))
    signed = cavage(MASTODON, params=params, key=ED_KEY)
    assert await verify(signed, lookup=FakeKeys(ED_KEY.public_key()))


async def test_cavage_rsa_sha256_does_not_accept_an_ed25519_key() -> None:
    signed = cavage(MASTODON, key=ED_KEY)
    await rejects(signed, "does not fit the key type", lookup=FakeKeys(ED_KEY.public_key()))


async def test_cavage_missing_key_id_or_signature() -> None:
    signed = cavage(MASTODON)
    await rejects({**signed, "Signature": signed["Signature"].replace(f'keyId="{KEY_ID}",', "")}, "no keyId")
    without_sig = signed["Signature"].split(',signature="')[0]
    await rejects({**signed, "Signature": without_sig}, "no signature value")
    await rejects({**signed, "Signature": "garbage"}, "malformed")
    await rejects(BASE_HEADERS, "not signed")


async def test_cavage_authorization_header_is_accepted() -> None:
    signed = cavage(MASTODON)
    headers = {**BASE_HEADERS, "Authorization": "Signature " + signed["Signature"]}
    assert await verify(headers) == Verified(KEY_ID, OWNER, "cavage")


@pytest.mark.parametrize("offset", [-7200, 7200])
async def test_cavage_date_out_of_window(offset: int) -> None:
    headers = {**BASE_HEADERS, "Date": email.utils.formatdate(NOW + offset, usegmt=True)}
    await rejects(cavage(MASTODON, headers), "Date is too far")
    assert await verify(cavage(MASTODON, headers), now=NOW + offset)  # same request, signed "now"


async def test_cavage_date_within_window_and_lenient_formats() -> None:
    for date in (email.utils.formatdate(NOW - 3500, usegmt=True), "Tue, 14 Nov 2023 23:13:20 +0100"):
        assert await verify(cavage(MASTODON, {**BASE_HEADERS, "Date": date}))
    late = {**BASE_HEADERS, "Date": "Wed, 15 Nov 2023 23:13:20 +0100"}
    await rejects(cavage(MASTODON, late), "Date is too far")


@pytest.mark.parametrize("date", ["yesterday", "", "Tue, 99 Foo 2023 25:61:00 GMT"])
async def test_cavage_unparseable_date(date: str) -> None:
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Date": date}), "Date header cannot be parsed")


async def test_cavage_created_and_expires_pseudo_headers() -> None:
    covered = [*MASTODON, "(created)", "(expires)"]
    headers = {**BASE_HEADERS, "(created)": str(NOW), "(expires)": str(NOW + 60)}
    signed = cavage(covered, headers, key=ED_KEY, params=f'algorithm="hs2019",created={NOW},expires={NOW + 60},')
    del signed["(created)"], signed["(expires)"]
    lookup = FakeKeys(ED_KEY.public_key())
    assert await verify(signed, lookup=lookup)
    await rejects(signed, "expired", lookup=lookup, now=NOW + 61)
    rsa_created = signed["Signature"].replace('algorithm="hs2019"', 'algorithm="rsa-sha256"')
    await rejects({**signed, "Signature": rsa_created}, "(created) cannot be used")
    bad_created = signed["Signature"].replace(f"created={NOW}", "created=soon")
    await rejects({**signed, "Signature": bad_created}, "created is not an integer", lookup=lookup)
    unsigned_expires = signed["Signature"].replace(f"expires={NOW + 60},", "")
    await rejects({**signed, "Signature": unsigned_expires}, "(expires) is signed but expires is missing")


# --- RFC 9421 rules


async def test_rfc9421_fedify_shaped_input_verifies() -> None:
    headers = {**CD_HEADERS, "Date": DATE}
    params = f';alg="rsa-v1_5-sha256";keyid="{KEY_ID}";created={NOW}'
    signed = rfc9421(["@method", "@target-uri", "host", "date", "content-digest"], params, headers)
    assert await verify(Headers(signed)) == Verified(KEY_ID, OWNER, "rfc9421")


async def test_rfc9421_authority_and_path() -> None:
    signed = rfc9421(["@method", "@authority", "@path", "content-digest"], RFC_PARAMS, CD_HEADERS)
    assert await verify(signed)
    await rejects(signed, "does not verify", url="https://other.example/users/alice/inbox")
    await rejects(signed, "must cover the query", url=URL + "?page=2")
    signed = rfc9421(["@method", "@authority", "@path", "@query", "content-digest"], RFC_PARAMS, CD_HEADERS,
                     url=URL + "?page=2")  # fmt: skip
    assert await verify(signed, url=URL + "?page=2")
    await rejects(signed, "does not verify", url=URL + "?page=3")


async def test_rfc9421_must_cover_method_target_and_digest() -> None:
    await rejects(rfc9421(["@target-uri", "content-digest"], RFC_PARAMS, CD_HEADERS), "@method")
    await rejects(rfc9421(["@method", "content-digest"], RFC_PARAMS, CD_HEADERS), "@target-uri")
    await rejects(rfc9421(["@method", "@path", "content-digest"], RFC_PARAMS, CD_HEADERS), "@target-uri")
    await rejects(rfc9421(["@method", "@target-uri"], RFC_PARAMS, CD_HEADERS), "must cover content-digest")


async def test_rfc9421_duplicate_components() -> None:
    signed = rfc9421(["@method", "@method", "@target-uri", "content-digest"], RFC_PARAMS, CD_HEADERS)
    await rejects(signed, "duplicated")


async def test_empty_post_still_needs_a_digest() -> None:
    headers = {"Host": "a2.example", "Date": DATE}
    await rejects(cavage(["(request-target)", "host", "date"], headers), "must cover digest", body=b"")
    await rejects(rfc9421(["@method", "@target-uri"], RFC_PARAMS, headers), "must cover content-digest", body=None)
    signed = sign_headers("POST", URL, b"", KEY_ID, RSA_KEY, now=NOW)
    assert signed["Digest"] == "SHA-256=" + b64(hashlib.sha256(b"").digest())
    assert await verify(signed, body=None)


def test_host_drops_default_port_and_userinfo() -> None:
    for url in ("https://a2.example:443/x", "http://A2.example:80/x", "https://user@a2.example/x"):
        assert sign_headers("GET", url, None, KEY_ID, RSA_KEY)["Host"] == "a2.example"
    assert sign_headers("GET", "http://a2.example:443/x", None, KEY_ID, RSA_KEY)["Host"] == "a2.example:443"


async def test_rfc9421_get_needs_no_content_digest() -> None:
    signed = rfc9421(["@method", "@target-uri"], RFC_PARAMS, {"Host": "a2.example"}, method="GET")
    assert await verify(signed, method="GET", body=None)


async def test_rfc9421_missing_content_digest_header() -> None:
    signed = rfc9421(["@method", "@target-uri", "content-digest"], RFC_PARAMS, CD_HEADERS)
    del signed["Content-Digest"]
    await rejects(signed, "Content-Digest header is missing")


async def test_rfc9421_content_digest_algorithms() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    sha512 = f"sha-512=:{b64(hashlib.sha512(BODY).digest())}:"
    assert await verify(rfc9421(comps, RFC_PARAMS, {"Content-Digest": sha512}))
    md5 = {"Content-Digest": f"md5=:{b64(hashlib.md5(BODY).digest())}:"}
    await rejects(rfc9421(comps, RFC_PARAMS, md5), "no sha-256")
    wrong = f"sha-256=:{b64(hashlib.sha256(b'x').digest())}:, {sha512}"
    await rejects(rfc9421(comps, RFC_PARAMS, {"Content-Digest": wrong}), "Content-Digest does not match")


async def test_rfc9421_created_and_expires() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    await rejects(rfc9421(comps, f';keyid="{KEY_ID}"', CD_HEADERS), "no created")
    await rejects(rfc9421(comps, f';created={NOW - 7200};keyid="{KEY_ID}"', CD_HEADERS), "too far")
    await rejects(rfc9421(comps, f';created={NOW + 7200};keyid="{KEY_ID}"', CD_HEADERS), "too far")
    await rejects(rfc9421(comps, f';created={NOW - 60};expires={NOW - 1};keyid="{KEY_ID}"', CD_HEADERS), "expired")
    assert await verify(rfc9421(comps, f';created={NOW - 60};expires={NOW + 60};keyid="{KEY_ID}"', CD_HEADERS))
    await rejects(rfc9421(comps, f';created="{NOW}";keyid="{KEY_ID}"', CD_HEADERS), "not an integer")
    await rejects(rfc9421(comps, f";created={NOW}", CD_HEADERS), "no keyid")


async def test_rfc9421_alg_must_fit_the_key() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    ed_on_rsa = rfc9421(comps, RFC_PARAMS + ';alg="ed25519"', CD_HEADERS)
    await rejects(ed_on_rsa, "does not fit the key type")
    rsa_on_ed = rfc9421(comps, RFC_PARAMS + ';alg="rsa-v1_5-sha256"', CD_HEADERS, key=ED_KEY)
    await rejects(rsa_on_ed, "does not fit the key type", lookup=FakeKeys(ED_KEY.public_key()))
    await rejects(rfc9421(comps, RFC_PARAMS + ';alg="hmac-sha256"', CD_HEADERS), "no supported")
    ed = rfc9421(comps, RFC_PARAMS, CD_HEADERS, key=ED_KEY)  # no alg: the key type decides
    assert await verify(ed, lookup=FakeKeys(ED_KEY.public_key()))


async def test_rfc9421_first_supported_label_is_used() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    other = rfc9421(comps, RFC_PARAMS + ';alg="hmac-sha256"', CD_HEADERS, label="sig0")
    good = rfc9421(comps, RFC_PARAMS, CD_HEADERS, label="sig1")
    headers = {
        **CD_HEADERS,
        "Signature-Input": f"{other['Signature-Input']}, {good['Signature-Input']}",
        "Signature": f"{other['Signature']}, {good['Signature']}",
    }
    assert await verify(headers)
    # Repeated header lines combine like one comma-separated line.
    raw = [(k.lower().encode(), v.encode()) for k, v in CD_HEADERS.items()]
    for signed in (good, other):
        raw += [(b"signature-input", signed["Signature-Input"].encode()), (b"signature", signed["Signature"].encode())]
    lines = Headers(raw=raw)
    assert len(lines.getlist("signature-input")) == 2
    assert await verify(lines)


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ("sig1=(@method)", "sig1=:AAAA:", "malformed"),
        ('sig1=("@method" "@target-uri"', "sig1=:AAAA:", "malformed"),
        ('sig1=("@method""@target-uri")', "sig1=:AAAA:", "malformed"),
        ('sig1=("@method");created=1,', "sig1=:AAAA:", "malformed"),
        ('sig1=("@method");created=1', "sig1=:not base64!:", "malformed"),
        ('sig1=("@method");created=1', "sig1=AAAA", "no byte-sequence"),
        ('sig1=("@method");created=1', "sig2=:AAAA:", "no supported"),
        ('sig1=("@method";sf "@target-uri");created=1', "sig1=:AAAA:", "unsupported covered component"),
        ('sig1=(method "@target-uri");created=1', "sig1=:AAAA:", "unsupported covered component"),
    ],
)
async def test_rfc9421_malformed_headers(signature_input: str, signature: str, reason: str) -> None:
    await rejects({**CD_HEADERS, "Signature-Input": signature_input, "Signature": signature}, reason)


def test_structured_field_dictionary_parsing() -> None:
    parsed = parse_dictionary('a=1, b=("x" y;p=?0);q=-2.5,  c;d=:AAE=:,e=?1')
    assert parsed == {
        "a": (1, {}),
        "b": ([("x", {}), ("y", {"p": False})], {"q": -2.5}),
        "c": (True, {"d": b"\x00\x01"}),
        "e": (True, {}),
    }
    assert isinstance(parsed["b"][0][1][0], Token)  # type: ignore[index]
    for bad in ("a=1,", "a=1 b=2", "A=1", "a=(1 2", "a=1234567890123456", 'a="\\x"', "a=(1)x"):
        with pytest.raises(ValueError):
            parse_dictionary(bad)


async def test_rfc9421_preferred_over_cavage() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme="rfc9421", now=NOW)
    both = {**signed, "Authorization": "Signature " + cavage(MASTODON)["Signature"]}
    assert (await verify(both)).scheme == "rfc9421"


# --- bound to this host


async def test_cavage_without_host_covered_is_refused() -> None:
    lookup = FakeKeys(RSA_KEY.public_key())
    await rejects(cavage(["(request-target)", "date", "digest"]), "signature must cover host", lookup=lookup)
    assert lookup.calls == []


async def test_cavage_with_host_of_another_server_is_refused() -> None:
    # A genuine signature, made for other.example, replayed to us: the Host it covers is not ours.
    signed = cavage(MASTODON, {**BASE_HEADERS, "Host": "other.example"})
    lookup = FakeKeys(RSA_KEY.public_key())
    await rejects(signed, "signed for another host than this instance", lookup=lookup)
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Host": "a2.example:8443"}), "signed for another host")
    http_url = "http://a2.example/users/alice/inbox"
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Host": "a2.example:443"}), "another host", url=http_url)
    assert lookup.calls == []  # refused before any key is fetched


async def test_cavage_host_with_default_port_or_upper_case_is_accepted() -> None:
    cases = [
        ("127.0.0.1:80", "http://127.0.0.1/users/alice/inbox"),
        ("EXAMPLE.org", "https://example.org/users/alice/inbox"),
        ("a2.example:443", URL),
        ("A2.Example.", URL),
        ("a2.example", "https://A2.example:443/users/alice/inbox"),
    ]
    for host, url in cases:
        signed = cavage(MASTODON, {**BASE_HEADERS, "Host": host})
        assert await verify(signed, url=url) == Verified(KEY_ID, OWNER, "cavage"), host


async def test_cavage_unusable_host_header_is_refused() -> None:
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Host": "a2.example/x"}), "Host header is not a valid host")
    signed = cavage(MASTODON)
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()] + [(b"host", b"other.example")]
    await rejects(Headers(raw=raw), "Host header is not a valid host")  # two Host lines: ambiguous
    del signed["Host"]
    await rejects(signed, "host is missing")


async def test_rfc9421_with_only_request_target_is_refused() -> None:
    comps = ["@method", "@request-target", "content-digest"]
    lookup = FakeKeys(RSA_KEY.public_key())
    await rejects(rfc9421(comps, RFC_PARAMS, CD_HEADERS), "must cover @authority or @target-uri", lookup=lookup)
    assert lookup.calls == []
    # With @authority beside it, the host is bound and @request-target carries path and query.
    assert await verify(rfc9421(["@authority", *comps], RFC_PARAMS, CD_HEADERS))


async def test_rfc9421_with_authority_of_another_server_fails() -> None:
    comps = ["@method", "@authority", "@path", "content-digest"]
    other = "https://other.example/users/alice/inbox"
    lookup = FakeKeys(RSA_KEY.public_key())
    # @authority is derived from our own URL, so what was signed for other.example cannot match,
    # whatever Host header the request carries.
    await rejects(rfc9421(comps, RFC_PARAMS, CD_HEADERS, url=other), "signature does not verify", lookup=lookup)
    assert lookup.calls == [False, True]
    target = rfc9421(["@method", "@target-uri", "content-digest"], RFC_PARAMS, CD_HEADERS, url=other)
    await rejects({**target, "Host": "a2.example"}, "signature does not verify")
    # Our URL's authority is canonical: a default port or upper case in base_url changes nothing.
    assert await verify(rfc9421(comps, RFC_PARAMS, CD_HEADERS), url="https://A2.example:443/users/alice/inbox")


async def test_verify_request_needs_an_absolute_url() -> None:
    with pytest.raises(ValueError):
        await verify(cavage(MASTODON), url="/users/alice/inbox")


# --- ambiguous headers


async def test_cavage_duplicate_parameter_is_refused() -> None:
    signed = cavage(MASTODON)
    lookup = FakeKeys(RSA_KEY.public_key())
    two_key_ids = f'keyId="https://evil.example/k",{signed["Signature"]}'
    await rejects({**signed, "Signature": two_key_ids}, "ambiguous Signature header", lookup=lookup)
    assert lookup.calls == []
    twice = signed["Signature"].replace('algorithm="rsa-sha256",', 'algorithm="rsa-sha256",Algorithm="hs2019",')
    await rejects({**signed, "Signature": twice}, "ambiguous Signature header")
    with pytest.raises(SignatureError, match="ambiguous"):
        parse_signatures("POST", {**signed, "Signature": two_key_ids})


async def test_cavage_two_signature_lines_are_refused() -> None:
    signed = cavage(MASTODON)
    other = cavage(MASTODON, key=ED_KEY, params="")
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()] + [(b"signature", other["Signature"].encode())]
    await rejects(Headers(raw=raw), "ambiguous Signature header")


async def test_cavage_signature_and_authorization_must_agree() -> None:
    signed = cavage(MASTODON)
    assert await verify({**signed, "Authorization": "Signature " + signed["Signature"]})
    other = cavage(MASTODON, key=ED_KEY, params="")["Signature"]
    await rejects({**signed, "Authorization": "Signature " + other}, "Signature and Authorization headers differ")


async def test_rfc9421_duplicate_signature_input_label_is_refused() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    signed = rfc9421(comps, RFC_PARAMS, CD_HEADERS)
    evil = rfc9421(comps, f';created={NOW};keyid="https://evil.example/k"', CD_HEADERS)
    lookup = FakeKeys(RSA_KEY.public_key())
    both_inputs = {**signed, "Signature-Input": f"{signed['Signature-Input']}, {evil['Signature-Input']}"}
    await rejects(both_inputs, "ambiguous Signature-Input header", lookup=lookup)
    both_sigs = {**signed, "Signature": f"{signed['Signature']}, {evil['Signature']}"}
    await rejects(both_sigs, "ambiguous Signature header", lookup=lookup)
    assert lookup.calls == []


async def test_rfc9421_duplicate_inner_list_parameter_is_refused() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    signed = rfc9421(comps, RFC_PARAMS + ';keyid="https://evil.example/k"', CD_HEADERS)
    await rejects(signed, "ambiguous Signature-Input header: parameter 'keyid' is repeated")
    signed = rfc9421(comps, f';created={NOW};created={NOW + 1};keyid="{KEY_ID}"', CD_HEADERS)
    await rejects(signed, "parameter 'created' is repeated")


def test_structured_fields_strict_mode_refuses_repeats() -> None:
    assert parse_dictionary("a=1, a=2") == {"a": (2, {})}  # RFC 8941: the last one wins...
    for repeated in ("a=1, a=2", "a=1;p=1;p=2", "a=(1;p 2);q;q", 'a=("x";p;p)', "a, b, a"):
        with pytest.raises(DuplicateError):  # ...but not where a signature depends on it
            parse_dictionary(repeated, strict=True)
    assert parse_dictionary("a=(1;p 2;p);q, b=?0", strict=True) == {
        "a": ([(1, {"p": True}), (2, {"p": True})], {"q": True}),
        "b": (False, {}),
    }


async def test_cavage_two_sha256_digest_values_are_refused() -> None:
    lookup = FakeKeys(RSA_KEY.public_key())
    twice = f"SHA-256={BODY_SHA256}, sha-256={BODY_SHA256}"  # even two right ones: names are case-insensitive
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": twice}), "Digest repeats the sha-256", lookup=lookup)
    wrong_second = f"SHA-256={BODY_SHA256},SHA-256={b64(hashlib.sha256(b'x').digest())}"
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": wrong_second}), "Digest repeats", lookup=lookup)
    assert lookup.calls == []


async def test_cavage_sha256_right_but_sha512_wrong_is_refused() -> None:
    digest = f"SHA-256={BODY_SHA256}, SHA-512={b64(hashlib.sha512(b'other').digest())}"
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": digest}), "Digest does not match")
    digest = f"SHA-512={b64(hashlib.sha512(b'other').digest())}, SHA-256={BODY_SHA256}"
    await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": digest}), "Digest does not match")
    ignored = f"MD5=garbage, SHA-256={BODY_SHA256}"  # an algorithm we do not know is not checked
    assert await verify(cavage(MASTODON, {**BASE_HEADERS, "Digest": ignored}))
    for malformed in ("SHA-256", f"SHA-256={BODY_SHA256},", "=abc"):
        await rejects(cavage(MASTODON, {**BASE_HEADERS, "Digest": malformed}), "malformed Digest")


async def test_content_digest_duplicate_is_refused() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    twice = f"sha-256=:{BODY_SHA256}:, sha-256=:{BODY_SHA256}:"
    lookup = FakeKeys(RSA_KEY.public_key())
    await rejects(rfc9421(comps, RFC_PARAMS, {"Content-Digest": twice}), "Content-Digest repeats", lookup=lookup)
    assert lookup.calls == []


async def test_content_digest_sha256_right_but_sha512_wrong_is_refused() -> None:
    comps = ["@method", "@target-uri", "content-digest"]
    value = f"sha-256=:{BODY_SHA256}:, sha-512=:{b64(hashlib.sha512(b'other').digest())}:"
    await rejects(rfc9421(comps, RFC_PARAMS, {"Content-Digest": value}), "Content-Digest does not match")
    not_bytes = f"sha-256=:{BODY_SHA256}:, sha-512=abc"
    await rejects(rfc9421(comps, RFC_PARAMS, {"Content-Digest": not_bytes}), "Content-Digest does not match")


# --- several signatures


OLD_KEY_ID = "https://peer.example/users/bob#old-key"
ED_OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
COMPS = ["@method", "@target-uri", "content-digest"]


class KeysById:
    """A KeyLookup over a fixed table of keys; records (key_id, refresh) of every call."""

    def __init__(self, keys: Mapping[str, object]) -> None:
        self.keys = keys
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> PublicKey:
        self.calls.append((key_id, refresh))
        if key_id not in self.keys:
            raise SignatureError(f"unknown key {key_id}")
        return PublicKey(key_id, OWNER, self.keys[key_id])  # type: ignore[arg-type]


def combine(*signed: Mapping[str, str]) -> dict[str, str]:
    """Several RFC 9421 signatures on one request, in this order."""
    inputs = ", ".join(one["Signature-Input"] for one in signed)
    return {**CD_HEADERS, "Signature-Input": inputs, "Signature": ", ".join(one["Signature"] for one in signed)}


def old_signature(components: list[str] = COMPS) -> dict[str, str]:
    """An RFC 9421 signature under OLD_KEY_ID made with ED_KEY, which that key id does not hold."""
    return rfc9421(components, f';created={NOW};keyid="{OLD_KEY_ID}"', CD_HEADERS, key=ED_KEY, label="old")


async def test_rfc9421_unsupported_alg_first_then_one_that_verifies() -> None:
    first = rfc9421(COMPS, RFC_PARAMS + ';alg="ecdsa-p256-sha256"', CD_HEADERS, label="sig0")
    headers = combine(first, rfc9421(COMPS, RFC_PARAMS, CD_HEADERS))
    candidates = parse_signatures("POST", headers)
    assert [(c.scheme, c.label) for c in candidates] == [("rfc9421", "sig1")]
    assert await verify(headers) == Verified(KEY_ID, OWNER, "rfc9421")
    with pytest.raises(SignatureError, match="no supported signature"):
        parse_signatures("POST", combine(first))


async def test_rfc9421_first_fails_and_second_verifies() -> None:
    lookup = KeysById({OLD_KEY_ID: ED_OTHER.public_key(), KEY_ID: RSA_KEY.public_key()})
    headers = combine(old_signature(), rfc9421(COMPS, RFC_PARAMS, CD_HEADERS))
    assert await verify(headers, lookup=lookup) == Verified(KEY_ID, OWNER, "rfc9421")
    assert lookup.calls == [(OLD_KEY_ID, False), (OLD_KEY_ID, True), (KEY_ID, False)]
    # A first one that breaks a rule is never looked up; the second still verifies.
    lookup = KeysById({OLD_KEY_ID: ED_OTHER.public_key(), KEY_ID: RSA_KEY.public_key()})
    unbound = old_signature(["@method", "@request-target", "content-digest"])
    headers = combine(unbound, rfc9421(COMPS, RFC_PARAMS, CD_HEADERS))
    assert await verify(headers, lookup=lookup) == Verified(KEY_ID, OWNER, "rfc9421")
    assert lookup.calls == [(KEY_ID, False)]


async def test_when_none_verifies_the_first_candidates_error_is_raised() -> None:
    lookup = KeysById({OLD_KEY_ID: ED_OTHER.public_key(), KEY_ID: RSA_KEY.public_key()})
    unbound = rfc9421(["@method", "@request-target", "content-digest"], RFC_PARAMS, CD_HEADERS)
    await rejects(combine(old_signature(), unbound), "signature does not verify", lookup=lookup)
    await rejects(combine(unbound, old_signature()), "must cover @authority or @target-uri", lookup=lookup)
    unknown = rfc9421(COMPS, f';created={NOW};keyid="https://peer.example/unknown"', CD_HEADERS, label="u")
    await rejects(combine(unknown, old_signature()), "unknown key https://peer.example/unknown", lookup=lookup)


async def test_parse_signatures_returns_the_key_id_that_verify_uses() -> None:
    lookup = KeysById({OLD_KEY_ID: ED_OTHER.public_key(), KEY_ID: RSA_KEY.public_key()})
    headers = combine(old_signature(), rfc9421(COMPS, RFC_PARAMS, CD_HEADERS))
    candidates = parse_signatures("POST", headers)
    assert [(c.scheme, c.key_id, c.label) for c in candidates] == [
        ("rfc9421", OLD_KEY_ID, "old"),
        ("rfc9421", KEY_ID, "sig1"),
    ]
    assert candidates[1].covered == tuple(COMPS) and candidates[1].created == NOW and candidates[1].key_type is None
    # The policy refuses OLD_KEY_ID's host: verification then never fetches that key.
    verified = await verify(headers, lookup=lookup, candidates=candidates[1:])
    assert verified.key_id == candidates[1].key_id == KEY_ID
    assert lookup.calls == [(KEY_ID, False)]
    await rejects(headers, "no signature left to verify", candidates=[])
    # One parser for cavage too: the keyId the policy saw is the one verified.
    signed = cavage(MASTODON)
    (candidate,) = parse_signatures("POST", signed)
    assert (candidate.scheme, candidate.key_id, candidate.key_type) == ("cavage", KEY_ID, "rsa")
    assert (await verify(signed, candidates=[candidate])).key_id == candidate.key_id


async def test_rfc9421_only_unsupported_falls_back_to_authorization_cavage() -> None:
    unsupported = rfc9421(COMPS, RFC_PARAMS + ';alg="hmac-sha256"', {**CD_HEADERS, **BASE_HEADERS})
    headers = {**unsupported, "Authorization": "Signature " + cavage(MASTODON)["Signature"]}
    assert await verify(headers) == Verified(KEY_ID, OWNER, "cavage")


async def test_not_signed_and_no_supported_signature() -> None:
    with pytest.raises(SignatureError, match="request is not signed"):
        parse_signatures("POST", CD_HEADERS)
    await rejects(rfc9421(COMPS, RFC_PARAMS + ';alg="hmac-sha256"', CD_HEADERS), "no supported signature")


def test_parse_signatures_caps_the_number_of_candidates() -> None:
    many = [rfc9421(COMPS, RFC_PARAMS, CD_HEADERS, label=f"s{i}") for i in range(MAX_CANDIDATES + 2)]
    labels = [c.label for c in parse_signatures("POST", combine(*many))]
    assert labels == [f"s{i}" for i in range(MAX_CANDIDATES)]


async def test_one_key_is_fetched_and_refetched_once_per_request() -> None:
    lookup = KeysById({OLD_KEY_ID: ED_OTHER.public_key()})
    again = rfc9421(COMPS, f';created={NOW};keyid="{OLD_KEY_ID}"', CD_HEADERS, key=ED_KEY, label="again")
    await rejects(combine(old_signature(), again), "signature does not verify", lookup=lookup)
    assert lookup.calls == [(OLD_KEY_ID, False), (OLD_KEY_ID, True)]


# --- key rotation


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_rotated_key_is_refetched_once(scheme: str) -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme=scheme, now=NOW)
    stale = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    lookup = FakeKeys(stale, RSA_KEY.public_key())
    assert await verify(signed, lookup=lookup) == Verified(KEY_ID, OWNER, scheme)
    assert lookup.calls == [False, True]

    lookup = FakeKeys(stale, stale)
    await rejects(signed, "signature does not verify", lookup=lookup)
    assert lookup.calls == [False, True]

    lookup = FakeKeys(RSA_KEY.public_key())
    assert await verify(signed, lookup=lookup)
    assert lookup.calls == [False]


async def test_policy_failures_do_not_look_the_key_up() -> None:
    lookup = FakeKeys(RSA_KEY.public_key())
    await rejects(cavage(MASTODON[:3]), "must cover digest", lookup=lookup)
    await rejects(cavage(MASTODON), "Date is too far", lookup=lookup, now=NOW + 7200)
    assert lookup.calls == []


async def test_lookup_errors_propagate() -> None:
    async def unknown(key_id: str, refresh: bool) -> PublicKey:
        raise SignatureError(f"unknown key {key_id}")

    with pytest.raises(SignatureError, match="unknown key"):
        await verify_request("POST", URL, cavage(MASTODON), BODY, unknown, now=NOW)


# --- round trips


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
@pytest.mark.parametrize(("method", "body"), [("POST", BODY), ("GET", None)])
async def test_round_trip(scheme: str, kind: str, method: str, body: bytes | None) -> None:
    key = RSA_KEY if kind == "rsa" else ED_KEY
    url = "https://a2.example:8443/users/alice?page=1" if body is None else URL
    signed = sign_headers(method, url, body, KEY_ID, key, scheme=scheme)
    headers = Headers(signed)  # starlette's case-insensitive Headers, as the server sees them
    lookup = FakeKeys(key.public_key())
    assert await verify_request(method, url, headers, body, lookup) == Verified(KEY_ID, OWNER, scheme)
    assert ("Digest" in signed or "Content-Digest" in signed) == (body is not None)
    if scheme == "cavage":
        assert f'algorithm="{"rsa-sha256" if kind == "rsa" else "hs2019"}"' in signed["Signature"]
    else:
        assert signed["Signature-Input"].endswith(f'alg="{"rsa-v1_5-sha256" if kind == "rsa" else "ed25519"}"')
    if body is None:
        assert signed["Host"] == "a2.example:8443"
        with pytest.raises(SignatureError):
            await verify_request(method, url.replace("page=1", "page=2"), headers, body, FakeKeys(key.public_key()))


async def test_sign_headers_extra_headers_are_signed() -> None:
    extra = {"Content-Type": "application/activity+json"}
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, now=NOW, extra_headers=extra)
    assert 'headers="(request-target) host date digest content-type"' in signed["Signature"]
    assert await verify(signed)
    await rejects({**signed, "Content-Type": "text/html"}, "does not verify")
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme="rfc9421", now=NOW, extra_headers=extra)
    assert '"content-digest" "content-type")' in signed["Signature-Input"]
    await rejects({**signed, "Content-Type": "text/html"}, "does not verify")
    with pytest.raises(ValueError):
        sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, extra_headers={"host": "x"})
    with pytest.raises(ValueError):
        sign_headers("POST", URL, BODY, 'bad"id', RSA_KEY)
    with pytest.raises(ValueError):
        sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY, scheme="other")


# --- independent check with httpsig (draft-cavage, PyCryptodome-based)


def test_httpsig_verifies_our_signature() -> None:
    signed = sign_headers("POST", URL, BODY, KEY_ID, RSA_KEY)
    verifier = httpsig.HeaderVerifier(
        headers=signed,
        secret=RSA_PUBLIC_PEM,
        required_headers=MASTODON,
        method="POST",
        path="/users/alice/inbox",
        sign_header="signature",
    )
    assert verifier.verify() is True
    tampered = httpsig.HeaderVerifier(
        headers=signed, secret=RSA_PUBLIC_PEM, method="POST", path="/users/bob/inbox", sign_header="signature"
    )
    assert tampered.verify() is False


@pytest.mark.parametrize("sign_header", ["signature", "authorization"])
async def test_we_verify_httpsig_signatures(sign_header: str) -> None:
    signer = httpsig.HeaderSigner(KEY_ID, RSA_PEM, algorithm="rsa-sha256", headers=MASTODON, sign_header=sign_header)
    headers = {
        "Host": "a2.example",
        "Date": email.utils.formatdate(usegmt=True),
        "Digest": "SHA-256=" + b64(hashlib.sha256(BODY).digest()),
    }
    signed = dict(signer.sign(headers, method="POST", path="/users/alice/inbox"))
    assert await verify_request("POST", URL, signed, BODY, FakeKeys(RSA_KEY.public_key())) == Verified(
        KEY_ID, OWNER, "cavage"
    )
    with pytest.raises(SignatureError):
        await verify_request("POST", URL, signed, BODY + b"!", FakeKeys(RSA_KEY.public_key()))


# --- keys


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    """A tiny independent base58btc encoder for building Multikey values."""
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def test_b58encode_matches_a_published_vector() -> None:
    assert b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert b58encode(b"\0\0\x28\x7f\xb4\xcd") == "11233QC4"


def test_decode_multikey_ed25519() -> None:
    raw = B26_PUBLIC_RAW
    multibase = "z" + b58encode(b"\xed\x01" + raw)
    assert multibase.startswith("z6Mk")  # every ed25519 Multikey does
    key = decode_multikey(multibase)
    assert isinstance(key, Ed25519PublicKey)
    assert key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw


def test_decode_multikey_rsa() -> None:
    der = RSA_KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    key = decode_multikey("z" + b58encode(b"\x85\x24" + der))
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.public_numbers() == RSA_KEY.public_key().public_numbers()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "u7QE",  # base64url multibase: not supported
        "z0OIl",  # not base58
        "z" + b58encode(b"\xed\x01" + bytes(31)),  # too short
        "z" + b58encode(b"\xe7\x01" + bytes(33)),  # secp256k1-pub
        "z" + b58encode(b"\x85\x24" + b"not der"),
        "z" + "2" * 3000,
        "z1" + b58encode(b"\xed\x01" + bytes(32)),  # a leading zero byte before the codec
    ],
)
def test_decode_multikey_rejects(value: str) -> None:
    with pytest.raises(SignatureError):
        decode_multikey(value)


def test_load_public_key_pem() -> None:
    key = load_public_key_pem(RSA_PUBLIC_PEM)
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.public_numbers() == RSA_KEY.public_key().public_numbers()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    ed_pem = ED_KEY.public_key().public_bytes(serialization.Encoding.PEM, spki).decode()
    assert isinstance(load_public_key_pem(ed_pem), Ed25519PublicKey)
    pkcs1 = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert isinstance(load_public_key_pem(pkcs1.decode()), rsa.RSAPublicKey)  # "BEGIN RSA PUBLIC KEY"
    for garbage in ("", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "ünïcode"):
        with pytest.raises(SignatureError):
            load_public_key_pem(garbage)


# --- httpx integration


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_signature_auth_signs_what_is_sent(scheme: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202)

    auth = SignatureAuth(KEY_ID, RSA_KEY, scheme)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await client.post(URL, content=BODY, headers={"Content-Type": "application/activity+json"}, auth=auth)
        await client.get("https://a2.example/users/alice?page=true", auth=auth)
    post, get = sent
    lookup = FakeKeys(RSA_KEY.public_key())
    assert await verify_request(post.method, str(post.url), post.headers, post.content, lookup) == Verified(
        KEY_ID, OWNER, scheme
    )
    assert await verify_request(get.method, str(get.url), get.headers, None, lookup)
    assert "digest" not in get.headers and "content-digest" not in get.headers
    assert post.headers["host"] == "a2.example"
