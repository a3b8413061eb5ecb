"""The one signing path for deliveries: `Signer.headers`, here or in signing processes.

With `delivery.signing_processes > 0`, a batch's signatures are computed in other processes
(each loads a key file once) while this one sends; they run the very same `Signer.headers`,
which is `signatures.sign_headers`. A request whose URL differs from what was presigned, or
a broken pool, falls back to signing here: never a signature for another URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ...keys import KeyStore
from ...signatures import AnyPrivateKey, sign_headers

__all__ = ["SIGN_CHUNK", "DeliveryAuth", "Presigned", "Signer", "init_signing_process", "sign_chunk"]

log = logging.getLogger(__name__)

SIGN_CHUNK = 32


@dataclass(frozen=True)
class Signer:
    """Who signs: the key's id (for keyId), its KeyStore name and the private key itself."""

    key_id: str
    key_name: str
    key: AnyPrivateKey

    def headers(self, method: str, url: str, body: bytes, scheme: str, now: float | None = None) -> dict[str, str]:
        """The signature headers of one request."""
        return sign_headers(method, url, body, self.key_id, self.key, scheme=scheme, now=now)


@dataclass(frozen=True)
class Presigned:
    """Signature headers being computed in the pool for one delivery."""

    future: asyncio.Future[list[dict[str, str]]]
    index: int
    url: str
    scheme: str


class DeliveryAuth(httpx.Auth):
    """Signs a delivery POST: with the pool's presigned headers when they fit, else here."""

    requires_request_body = True

    def __init__(self, signer: Signer, scheme: str, presigned: Presigned | None = None) -> None:
        self.signer, self.scheme = signer, scheme
        self.presigned = presigned if presigned is not None and presigned.scheme == scheme else None

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        headers: dict[str, str] | None = None
        if self.presigned is not None:
            try:
                headers = (await self.presigned.future)[self.presigned.index]
            except Exception:  # a broken pool must not stop deliveries: sign here instead
                log.warning("signing process failed; signing in the server process", exc_info=True)
            if str(request.url) != self.presigned.url:
                headers = None
        if headers is None:
            headers = self.signer.headers(request.method, str(request.url), request.content, self.scheme)
        request.headers.update(headers)
        yield request


# -- inside a signing process --------------------------------------------------------------

_process_keys: KeyStore | None = None


def init_signing_process(keys_dir: str) -> None:
    """Pool initializer: where this process reads key files from."""
    global _process_keys
    _process_keys = KeyStore(Path(keys_dir))


def sign_chunk(jobs: list[tuple[str, str, str, bytes, str, float]]) -> list[dict[str, str]]:
    """Runs in a pool process: the signature headers of a chunk of POSTs (each key read once)."""
    assert _process_keys is not None
    out = []
    for key_name, key_id, url, body, scheme, now in jobs:
        signer = Signer(key_id, key_name, _process_keys.load(key_name))
        out.append(signer.headers("POST", url, body, scheme, now))
    return out


def retrieve(future: asyncio.Future[Any]) -> None:
    """Done-callback: mark a future's exception retrieved (an unused failed chunk must not warn)."""
    if not future.cancelled():
        future.exception()
