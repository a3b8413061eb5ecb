"""PURE: the bundled JSON-LD context documents and the pyld document loader that serves them.

Nothing here touches the network: a context URL is either answered from the bundle
(``contexts/*.json``, read lazily with importlib.resources) or, by `document_loader`,
with an empty context, so that pyld drops the terms it would have defined.

Bundled documents, by URL -> file: provenance.

* https://www.w3.org/ns/activitystreams -> activitystreams.json: verbatim copy of the
  frozen copy PyLD 3.3.0 ships (BSD-3 package; the document is W3C's, as served).
* https://w3id.org/security/v1 -> security-v1.json: verbatim from PyLD 3.3.0's bundle.
* https://www.w3.org/ns/did/v1 -> did-v1.json: verbatim from PyLD 3.3.0's bundle
  (Fedify and Mitra actors list it).
* https://w3id.org/identity/v1 -> identity-v1.json: web-payments.org's
  ``contexts/identity-v1.jsonld`` (where w3id redirects) plus the ``Group`` term the live
  document has (as in json-ld-preloaded's generated copy and Misskey's preloaded one).
  It redefines ``name``, ``url``, ``image``, ``Person``, ``Organization``: after the AS2
  context it is never a fast-path context.
* https://w3id.org/security/data-integrity/v1 -> data-integrity-v1.json: w3c/vc-data-integrity
  ``contexts/data-integrity/v1``, with the published version's ``digestMultibase`` and
  multibase-typed ``proofValue``.
* https://w3id.org/security/data-integrity/v2 -> data-integrity-v2.json: verbatim
  w3c/vc-data-integrity ``contexts/data-integrity/v2`` (commit 570d764, 2026-04-08; file last
  changed 9c62804, 2023-09-25). Mitra lists it in every activity.
* https://w3id.org/security/multikey/v1 -> multikey-v1.json: digitalbazaar/multikey-context
  ``contexts/multikey-v1.jsonld`` (main branch; identical to w3c/vc-data-integrity
  ``contexts/multikey/v1``).
* https://w3id.org/security/suites/ed25519-2020/v1 -> ed25519-2020-v1.json: verbatim
  digitalbazaar/ed25519-signature-2020-context ``contexts/ed25519-signature-2020-v1.jsonld``
  (commit e19889b, 2021-04-22).
* https://www.w3.org/ns/cid/v1 -> cid-v1.json: verbatim w3c/cid ``context/v1.jsonld``
  (commit 2b962ac, 2026-07-13). Mitra actors list it.
* https://www.w3.org/ns/credentials/v2 -> credentials-v2.json: verbatim w3c/vc-data-model
  ``contexts/credentials/v2`` (commit 979c4af, 2026-08-22). It redefines ``name`` and
  ``mediaType`` (protected): never a fast-path context.
* https://join-lemmy.org/context.json -> lemmy-context.json: verbatim LemmyNet/joinlemmy-site
  ``src/assets/lemmy_federation_context.json`` (commit 9e735bb, 2026-04-27; file last changed
  c0c8c5f, 2026-01-17), which that site serves at ``/context.json``. Lemmy sends
  ``[this, activitystreams]`` with every activity (lemmy ``crates/utils/src/lib.rs``).
* https://funkwhale.audio/ns -> funkwhale-ns.json: the ``FW`` document Funkwhale preloads
  for that URL (``api/funkwhale_api/federation/contexts.py``, unchanged since 2020; read from
  the mx2913/funkwhale mirror, commit c24b6ee), the same terms as a JSON file.
* https://gotosocial.org/ns -> gotosocial-ns.json: the GoToSocial namespace document
  (v0.20+ terms: interaction policies, requests and authorizations).
* https://purl.archive.org/socialweb/webfinger -> webfinger.json: the SocialCG WebFinger
  context that Mastodon 4.4+ actors list.
* https://<any host>/schemas/litepub-0.1.jsonld -> litepub-0.1.json: Akkoma's
  ``priv/static/schemas/litepub-0.1.jsonld``. Pleroma and Akkoma serve it from each
  instance, so every host's copy is answered with this one (versions differ only in
  extension terms; none touches a core term).

``http://`` spellings of the ActivityStreams, identity and WebFinger URLs are served too.
Not bundled, so answered as empty contexts: ``https://litepub.social/...`` (no faithful copy
could be found), ``http://joinmastodon.org/ns`` (never a real document), Mbin's per-instance
``https://<host>/contexts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import orjson

from .jsonld_errors import ContextNotBundled

__all__ = [
    "AS_URL",
    "CONTEXT_URLS",
    "LITEPUB_FILE",
    "LITEPUB_PATH",
    "SECURITY_V1_URL",
    "bundled_bytes",
    "bundled_context",
    "bundled_file",
    "bundled_files",
    "document_loader",
    "url_for_file",
]

AS_URL = "https://www.w3.org/ns/activitystreams"
SECURITY_V1_URL = "https://w3id.org/security/v1"
LITEPUB_PATH = "/schemas/litepub-0.1.jsonld"
LITEPUB_FILE = "litepub-0.1.json"

_BUNDLE: dict[str, str] = {
    AS_URL: "activitystreams.json",
    "http://www.w3.org/ns/activitystreams": "activitystreams.json",
    SECURITY_V1_URL: "security-v1.json",
    "https://w3id.org/identity/v1": "identity-v1.json",
    "http://w3id.org/identity/v1": "identity-v1.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.json",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-2020-v1.json",
    "https://www.w3.org/ns/did/v1": "did-v1.json",
    "https://www.w3.org/ns/cid/v1": "cid-v1.json",
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.json",
    "https://join-lemmy.org/context.json": "lemmy-context.json",
    "https://funkwhale.audio/ns": "funkwhale-ns.json",
    "https://gotosocial.org/ns": "gotosocial-ns.json",
    "https://purl.archive.org/socialweb/webfinger": "webfinger.json",
    "http://purl.archive.org/socialweb/webfinger": "webfinger.json",
}

#: The context URLs served from the bundle (besides any host's ``/schemas/litepub-0.1.jsonld``).
CONTEXT_URLS: frozenset[str] = frozenset(_BUNDLE)

_FIRST_URL: dict[str, str] = {}
for _url, _name in _BUNDLE.items():
    _FIRST_URL.setdefault(_name, _url)
_FIRST_URL[LITEPUB_FILE] = "https://litepub.example" + LITEPUB_PATH

_raw: dict[str, bytes] = {}


def bundled_file(url: Any) -> str | None:
    """The bundle's file name for a context URL, or None when it is not bundled."""
    if not isinstance(url, str):
        return None
    name = _BUNDLE.get(url)
    if name is None and url.endswith(LITEPUB_PATH) and len(url) < 300:
        parts = urlsplit(url)
        if (
            parts.scheme in ("https", "http")
            and parts.netloc
            and "@" not in parts.netloc
            and parts.path == LITEPUB_PATH
            and not parts.query
            and not parts.fragment
        ):
            name = LITEPUB_FILE
    return name


def url_for_file(name: str) -> str:
    """A URL the bundle serves with file name (used to detect self-inclusion)."""
    return _FIRST_URL.get(name, name)


def bundled_files() -> frozenset[str]:
    """Every file name of the bundle."""
    return frozenset(_FIRST_URL)


def bundled_bytes(name: str) -> bytes:
    """The raw JSON of a bundled file, read once."""
    data = _raw.get(name)
    if data is None:
        data = resources.files(__package__).joinpath("contexts", name).read_bytes()
        _raw[name] = data
    return data


def bundled_context(url: str) -> dict[str, Any]:
    """A fresh copy of the bundled context document for url; ContextNotBundled otherwise."""
    name = bundled_file(url)
    if name is None:
        raise ContextNotBundled(str(url))
    document: dict[str, Any] = orjson.loads(bundled_bytes(name))
    return document


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld ``documentLoader``: the bundled document, or an empty context for any other URL.

    Nothing is fetched. Pass it in the options of each pyld call (``{"documentLoader":
    document_loader}``); it is never installed globally.
    """
    name = bundled_file(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": orjson.loads(bundled_bytes(name)) if name is not None else {"@context": {}},
        "tag": "static",
    }
