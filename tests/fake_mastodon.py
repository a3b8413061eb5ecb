"""A small Mastodon-shaped remote server for tests, written on `httpsig` (not our signatures module).

It serves actors and notes as Mastodon does, verifies every inbox POST with httpsig
(draft-cavage only, like Mastodon before 4.5: an RFC 9421 request gets 401), records what
it received, and signs what it sends with httpsig.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpsig
import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpers import free_socket, serving, wait_for

AP = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {"toot": "http://joinmastodon.org/ns#", "sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
]


@dataclass
class FakeUser:
    name: str
    display_name: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    also_known_as: list[str] = field(default_factory=list)  # the account's aliases (moving house)
    moved_to: str | None = None

    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


class FakeMastodon:
    """One fake server with any number of users."""

    key_suffix = "#main-key"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = free_socket(host)
        self.base = f"http://{host}:{self.sock.getsockname()[1]}"
        self.users: dict[str, FakeUser] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.gone: set[str] = set()
        self.keys: dict[str, str] = {}  # key id -> PEM of the keys verified before (Mastodon keeps them)
        # Media files by path (/avatars/NAME.png, /media/NAME): (body, Content-Type); every GET logged.
        self.files: dict[str, tuple[bytes, str]] = {}
        self.file_requests: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/users/{name}", self.actor),
                Route("/users/{name}/inbox", self.inbox, methods=["POST"]),
                Route("/inbox", self.inbox, methods=["POST"]),
                Route("/statuses/{sid}", self.status),
                Route("/.well-known/webfinger", self.webfinger),
                Route("/avatars/{name}", self.file),
                Route("/media/{name}", self.file),
            ]
        )

    def add_user(self, name: str, display_name: str) -> FakeUser:
        user = FakeUser(name, display_name)
        self.users[name] = user
        return user

    def uri(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def actor_doc(self, name: str) -> dict[str, Any]:
        user = self.users[name]
        uri = self.uri(name)
        return {
            "@context": CONTEXT,
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "name": user.display_name,
            "summary": "<p>Ambtenaar</p>",
            "url": f"{self.base}/@{name}",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "icon": {"type": "Image", "mediaType": "image/png", "url": f"{self.base}/avatars/{name}.png"},
            "publicKey": {"id": f"{uri}{self.key_suffix}", "owner": uri, "publicKeyPem": user.public_pem()},
            **({"alsoKnownAs": user.also_known_as} if user.also_known_as else {}),
            **({"movedTo": user.moved_to} if user.moved_to else {}),
        }

    # -- routes ------------------------------------------------------------------------

    async def actor(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name in self.gone:
            return JSONResponse({"error": "gone"}, status_code=410)
        if name not in self.users:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(orjson.dumps(self.actor_doc(name)), media_type=AP)

    async def file(self, request: Request) -> Response:
        self.file_requests.append(request.url.path)
        found = self.files.get(request.url.path)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(found[0], media_type=found[1])

    async def status(self, request: Request) -> Response:
        note = self.notes.get(f"{self.base}/statuses/{request.path_params['sid']}")
        if note is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(orjson.dumps({"@context": CONTEXT, **note}), media_type=AP)

    async def webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        name = resource.removeprefix("acct:").split("@")[0]
        if name not in self.users:
            return JSONResponse({}, status_code=404)
        return JSONResponse(
            {
                "subject": resource,
                "links": [
                    {"rel": "self", "type": AP, "href": self.uri(name)},
                    # as Mastodon publishes it: where a visitor follows or answers from elsewhere
                    {
                        "rel": "http://ostatus.org/schema/1.0/subscribe",
                        "template": f"{self.base}/authorize_interaction?uri={{uri}}",
                    },
                ],
            },
            media_type="application/jrd+json",
        )

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if "signature" not in headers or headers["signature"].startswith("sig"):
            self.refused.append("not a draft-cavage signature")
            return JSONResponse({"error": "Verification failed"}, status_code=401)
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        if headers.get("digest") != digest:
            self.refused.append("digest mismatch")
            return JSONResponse({"error": "digest"}, status_code=401)
        params = dict(part.split("=", 1) for part in headers["signature"].split(","))
        key_id = params["keyId"].strip('"')

        def verified(pem: str) -> bool:
            return bool(
                httpsig.HeaderVerifier(
                    headers=headers,
                    secret=pem.encode(),
                    required_headers=["(request-target)", "host", "date", "digest"],
                    method="POST",
                    path=request.url.path,
                    sign_header="signature",
                ).verify()
            )

        # As Mastodon: the key it knows first (how a Delete of an actor that is gone, 410, is
        # still verified), fetched again when that fails or is unknown (a key that changed).
        cached = self.keys.get(key_id)
        if cached is None or not verified(cached):
            async with httpx.AsyncClient(timeout=5) as client:
                fetched = await client.get(key_id.split("#")[0], headers={"Accept": AP})
            if fetched.status_code != 200:
                self.refused.append(f"key not found ({fetched.status_code})")
                return JSONResponse({"error": "Verification failed"}, status_code=401)
            pem = fetched.json()["publicKey"]["publicKeyPem"]
            if not verified(pem):
                self.refused.append("bad signature")
                return JSONResponse({"error": "Verification failed"}, status_code=401)
            self.keys[key_id] = pem
        activity = orjson.loads(body)
        activity["_key_id"] = key_id
        self.received.append(activity)
        return Response(status_code=202)

    # -- sending -----------------------------------------------------------------------

    def signed_headers(self, name: str, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """Headers signed with httpsig the way Mastodon signs."""
        parts = httpx.URL(url)
        host = parts.netloc.decode()
        headers = {"Host": host, "Date": email.utils.formatdate(usegmt=True)}
        names = ["(request-target)", "host", "date"]
        if body is not None:
            headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            headers["Content-Type"] = AP
            names.append("digest")
        signer = httpsig.HeaderSigner(
            f"{self.uri(name)}{self.key_suffix}",
            self.users[name].private_pem(),
            algorithm="rsa-sha256",
            headers=names,
            sign_header="signature",
        )
        path = parts.raw_path.decode()
        signed = signer.sign(headers, host=host, method=method, path=path)
        return {**headers, "Signature": signed["signature"]}

    async def send(self, name: str, inbox: str, activity: dict[str, Any]) -> httpx.Response:
        body = orjson.dumps(activity)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(inbox, content=body, headers=self.signed_headers(name, "POST", inbox, body))

    def new_id(self, kind: str = "statuses") -> str:
        return f"{self.base}/{kind}/{uuid.uuid4().int % 10**15}"

    def note(
        self, name: str, content: str, in_reply_to: str | None, mention: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        note_id = self.new_id()
        tags: list[dict[str, Any]] = [{"type": "Hashtag", "href": f"{self.base}/tags/a2", "name": "#a2"}]
        if mention:
            tags.append({"type": "Mention", "href": mention, "name": "@someone"})
        note = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": in_reply_to,
            "published": "2026-11-28T10:00:00Z",
            "url": f"{self.base}/@{name}/{note_id.rsplit('/', 1)[1]}",
            "attributedTo": self.uri(name),
            "to": [PUBLIC],
            "cc": [f"{self.uri(name)}/followers"] + ([mention] if mention else []),
            "sensitive": False,
            "content": content,
            "contentMap": {"nl": content},
            "tag": tags,
            "attachment": [],
        }
        note.update(extra)
        self.notes[note_id] = note
        return note

    def create(self, name: str, note: dict[str, Any]) -> dict[str, Any]:
        return {
            "@context": CONTEXT,
            "id": f"{note['id']}/activity",
            "type": "Create",
            "actor": self.uri(name),
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }

    def received_of(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("type") == kind]


def running(fake: FakeMastodon) -> Any:
    """Serve the fake on its socket for the duration of the block."""
    return serving(fake)


async def received(fake: FakeMastodon, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until the fake received `count` activities of a kind; they are returned."""

    async def check() -> list[dict[str, Any]] | None:
        found = fake.received_of(kind)
        return found if len(found) >= count else None

    result: list[dict[str, Any]] = await wait_for(check, what=f"{count} {kind} at {fake.base}")
    return result


async def received_about(fake: FakeMastodon, kind: str, object_id: str) -> dict[str, Any]:
    """Wait for the first activity of a kind about an object (embedded, named, or inside an Undo)."""

    def named(value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) else value

    async def check() -> dict[str, Any] | None:
        for activity in fake.received_of(kind):
            obj = activity["object"]
            if object_id in (named(obj), named(obj.get("object")) if isinstance(obj, dict) else None):
                return activity
        return None

    result: dict[str, Any] = await wait_for(check, what=f"a {kind} of {object_id} at {fake.base}")
    return result
