"""RFC 9421 HTTP Message Signatures through the inbox route: RSA and FEP-521a Ed25519 keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fake_mastodon import FakeMastodon, running
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.signatures import sign_headers
from helpers import LiveServer, live_server

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    """Plain base58 (Bitcoin alphabet), written here independently of the code under test."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


class FedifyLike(FakeMastodon):
    """A remote whose actor also publishes an Ed25519 Multikey in assertionMethod (FEP-521a)."""

    def __init__(self) -> None:
        super().__init__()
        self.ed_key = ed25519.Ed25519PrivateKey.generate()

    def actor_doc(self, name: str) -> dict[str, Any]:
        doc = super().actor_doc(name)
        raw = self.ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        doc["@context"] = [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            "https://w3id.org/security/multikey/v1",
        ]
        doc["assertionMethod"] = [
            {
                "id": f"{self.uri(name)}#ed25519-key",
                "type": "Multikey",
                "controller": self.uri(name),
                "publicKeyMultibase": "z" + base58btc(b"\xed\x01" + raw),
            }
        ]
        return doc


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FedifyLike, str]]:
    async with live_server(tmp_path) as a2:
        await add_member(a2.rt, "alice", "Alice")
        post = await publish_post(a2.rt, "alice", "Post", "Tekst")
        fake = FedifyLike()
        fake.add_user("dana", "Dana")
        async with running(fake):
            yield a2, fake, post


async def _post(a2: LiveServer, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with a2.client() as client:
        return await client.post(
            "/inbox", content=body, headers={"Content-Type": "application/activity+json", **headers}
        )


def _reply(fake: FedifyLike, post: str) -> tuple[dict[str, Any], bytes]:
    activity = fake.create("dana", fake.note("dana", "<p>Via RFC 9421</p>", post))
    return activity, orjson.dumps(activity)


async def test_rsa_rfc9421_signature_is_accepted(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake, post = world
    activity, body = _reply(fake, post)
    url = f"{a2.base_url}/inbox"
    headers = sign_headers("POST", url, body, f"{fake.uri('dana')}#main-key", fake.users["dana"].key, scheme="rfc9421")
    assert "Signature-Input" in headers and "Content-Digest" in headers
    r = await _post(a2, headers, body)
    assert r.status_code == 202, r.text
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items WHERE activity_id = ?", (activity["id"],)) == 1
    await a2.workers.inbox.run_once()
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM comments") == 1


async def test_ed25519_multikey_rfc9421_signature_is_accepted(world) -> None:  # type: ignore[no-untyped-def]
    a2, fake, post = world
    _activity, body = _reply(fake, post)
    url = f"{a2.base_url}/inbox"
    headers = sign_headers("POST", url, body, f"{fake.uri('dana')}#ed25519-key", fake.ed_key, scheme="rfc9421")
    assert 'alg="ed25519"' in headers["Signature-Input"]
    r = await _post(a2, headers, body)
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("tamper", ["body", "signature", "digest-coverage", "unknown-key"])
async def test_unverifiable_rfc9421_is_401_never_2xx(world, tamper: str) -> None:  # type: ignore[no-untyped-def]
    a2, fake, post = world
    _activity, body = _reply(fake, post)
    url = f"{a2.base_url}/inbox"
    key_id = f"{fake.uri('dana')}#main-key"
    headers = sign_headers("POST", url, body, key_id, fake.users["dana"].key, scheme="rfc9421")
    if tamper == "body":
        body = body.replace(b"Via RFC", b"Via XYZ")
    elif tamper == "signature":
        headers["Signature"] = (
            headers["Signature"][:10] + ("A" if headers["Signature"][10] != "A" else "B") + headers["Signature"][11:]
        )
    elif tamper == "digest-coverage":
        headers["Signature-Input"] = headers["Signature-Input"].replace(' "content-digest"', "")
    else:
        headers = sign_headers(
            "POST", url, body, f"{fake.uri('dana')}#other-key", fake.users["dana"].key, scheme="rfc9421"
        )
    r = await _post(a2, headers, body)
    assert r.status_code == 401, (tamper, r.status_code, r.text)
    assert await a2.rt.db.fetchval("SELECT COUNT(*) FROM inbox_items") == 0
