"""The one signing path for deliveries: `Signer.headers`, here or in signing processes.

With signing processes (signpool.py), a batch's signatures are computed in other processes
(each loads a key file once) while this one sends; they run the very same `Signer.headers`,
which is `signatures.sign_headers`. A request whose URL or scheme differs from what was
presigned, or a broken pool, falls back to signing here: never a signature for another URL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...keys import KeyStore
from ...parentdeath import die_with_parent
from ...signatures import AnyPrivateKey, sign_headers

__all__ = ["Presigned", "SignJob", "Signer", "init_signing_process", "sign_chunk", "signature_headers"]

log = logging.getLogger(__name__)

# key name, key id, URL, body, scheme, the signature's time
SignJob = tuple[str, str, str, bytes, str, float]


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


async def signature_headers(
    signer: Signer, url: str, body: bytes, scheme: str, presigned: Presigned | None = None
) -> dict[str, str]:
    """The signature headers of a delivery POST: the pool's when they fit, else signed here."""
    if presigned is not None and presigned.scheme == scheme and presigned.url == url:
        try:
            return (await presigned.future)[presigned.index]
        except Exception:  # a broken pool must not stop deliveries: sign here instead
            log.warning("signing process failed; signing in the delivering process", exc_info=True)
    return signer.headers("POST", url, body, scheme)


# -- inside a signing process --------------------------------------------------------------

_process_keys: KeyStore | None = None


def init_signing_process(keys_dir: str, parent: int) -> None:
    """Pool initializer: end with the delivering process `parent`; read key files from `keys_dir`."""
    global _process_keys
    die_with_parent(parent)
    _process_keys = KeyStore(Path(keys_dir))


def sign_chunk(jobs: list[SignJob]) -> list[dict[str, str]]:
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
