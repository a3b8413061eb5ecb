"""The world the hostile-input suites run in: an instance, a fake Mastodon, hand-made signatures.

Every refusal is checked twice: the HTTP status (a clear 4xx, never a 5xx) and that nothing
was stored (no inbox_items row, no comment, no follower...). Servers run in this process on
127.0.0.1 (127.0.0.2 for a second domain) with the workers stepped by hand, so each check is
deterministic. Where a test needs a name that resolves elsewhere (SSRF), the instance gets a
StaticResolver and a dialer that refuses to connect anywhere but 127.0.0.1: nothing here can
ever reach another network, even if the guard under test were broken.

Hand-made signatures are built here with `cryptography` directly (not with our signatures
module), so a test never agrees with the verifier just because it shares its code.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import functools
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_mastodon import FakeMastodon, FakeUser, running
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from helpers import LiveServer, live_server

AP = "application/activity+json"
HTML = "text/html"

# -- keys (generated once per run: RSA key generation is the slow part of a fake) ------------


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# -- a FakeMastodon that records requests and can serve hostile documents -------------------

Page = Callable[[Request], Awaitable[Response]]


class Fake(FakeMastodon):
    """FakeMastodon plus: a log of every request, per-user actor overrides, scripted pages under /x/."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.port = int(self.sock.getsockname()[1])
        self.requests: list[tuple[str, str]] = []
        self.pages: dict[str, Page] = {}
        self.actor_extra: dict[str, dict[str, Any]] = {}
        self.actor_media: dict[str, str] = {}
        self.app.router.routes.insert(0, Route("/x/{rest:path}", self._page, methods=["GET"]))
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.requests.append((scope["method"], scope["path"]))
            await inner(scope, receive, send)

        self.app = app  # type: ignore[assignment]

    def add_user(self, name: str, display_name: str) -> FakeUser:
        user = FakeUser(name, display_name, key=rsa_key(name))
        self.users[name] = user
        return user

    def actor_doc(self, name: str) -> dict[str, Any]:
        return {**super().actor_doc(name), **self.actor_extra.get(name, {})}

    async def actor(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name in self.actor_media and name in self.users:
            return Response(orjson.dumps(self.actor_doc(name)), media_type=self.actor_media[name])
        return await super().actor(request)

    async def _page(self, request: Request) -> Response:
        page = self.pages.get(request.url.path)
        return await page(request) if page else Response("not found", 404)

    def serve_json(self, path: str, doc: dict[str, Any], media_type: str = AP) -> None:
        async def page(request: Request) -> Response:
            return Response(orjson.dumps(doc), media_type=media_type)

        self.pages[path] = page

    def serve_redirect(self, path: str, location: str) -> None:
        async def page(request: Request) -> Response:
            return Response(b"", 302, headers={"Location": location})

        self.pages[path] = page

    def gets(self) -> list[str]:
        return [path for method, path in self.requests if method == "GET"]


# -- hand-made draft-cavage signatures -------------------------------------------------------


def http_date(offset: float = 0.0) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def sha256_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def cavage(
    key: rsa.RSAPrivateKey,
    key_id: str,
    url: str,
    body: bytes,
    *,
    covered: Iterable[str] = ("(request-target)", "host", "date", "digest"),
    date: str | None = None,
    digest: str | None = None,
    host: str | None = None,
    algorithm: str | None = "rsa-sha256",
    drop_params: Iterable[str] = (),
    drop_headers: Iterable[str] = (),
    content_type: str | None = AP,
) -> dict[str, str]:
    """Headers for a POST signed exactly as told (header values are signed as sent)."""
    parts = httpx.URL(url)
    headers = {
        "Host": host or parts.netloc.decode(),
        "Date": date if date is not None else http_date(),
        "Digest": digest if digest is not None else sha256_digest(body),
    }
    lower = {k.lower(): v for k, v in headers.items()}
    lines = []
    covered = list(covered)
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): post {parts.raw_path.decode()}")
        else:
            lines.append(f"{name}: {lower[name]}")
    signature = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    params = {
        "keyId": key_id,
        "algorithm": algorithm,
        "headers": " ".join(covered),
        "signature": base64.b64encode(signature).decode(),
    }
    headers["Signature"] = ",".join(
        f'{k}="{v}"' for k, v in params.items() if v is not None and k not in set(drop_params)
    )
    for name in drop_headers:
        headers.pop(name, None)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


# Built once: loading the CA bundle for every new client costs ~30 ms (all traffic here is http).
TLS = ssl.create_default_context()


async def post_raw(url: str, body: bytes | Any, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15, verify=TLS) as client:
        return await client.post(url, content=body, headers=headers)


def dumps(activity: dict[str, Any]) -> bytes:
    return orjson.dumps(activity)


# -- the world: one instance with a member and a post, one fake Mastodon -------------------


@dataclass
class World:
    a2: LiveServer
    fake: Fake
    post_url: str

    @property
    def inbox(self) -> str:
        return f"{self.a2.base_url}/inbox"

    @property
    def alice(self) -> str:
        return f"{self.a2.base_url}/users/alice"

    @property
    def post_id(self) -> int:
        return int(self.post_url.rsplit("/", 1)[1])

    async def count(self, table: str, where: str = "1 = 1", params: tuple[Any, ...] = ()) -> int:
        return int(await self.a2.rt.db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))

    async def drain(self) -> None:
        """Run the inbox worker until nothing is left."""
        while await self.a2.workers.inbox.run_once():
            pass

    async def nothing_stored(self) -> None:
        assert await self.count("inbox_items") == 0, await self.a2.rt.db.fetchall("SELECT * FROM inbox_items")
        assert await self.count("comments") == 0

    def reply(self, name: str, content: str = "<p>Eens</p>", **extra: Any) -> dict[str, Any]:
        return self.fake.create(name, self.fake.note(name, content, self.post_url, **extra))

    async def send(self, name: str, activity: dict[str, Any], inbox: str | None = None) -> httpx.Response:
        return await self.fake.send(name, inbox or self.inbox, activity)

    async def send_signed(
        self, key: rsa.RSAPrivateKey, key_id: str, activity: dict[str, Any], **kw: Any
    ) -> httpx.Response:
        body = dumps(activity)
        return await post_raw(self.inbox, body, cavage(key, key_id, self.inbox, body, **kw))

    async def page(self) -> str:
        async with httpx.AsyncClient(timeout=10, verify=TLS) as client:
            r = await client.get(self.post_url, headers={"Accept": HTML})
        assert r.status_code == 200
        return r.text


@contextlib.asynccontextmanager
async def make_world(folder: Path, database: str | None = None, **sections: dict[str, Any]) -> AsyncIterator[World]:
    async with live_server(folder, run_workers=False, database=database, **sections) as a2:
        await add_member(a2.rt, "alice", "Alice")
        post_url = await publish_post(a2.rt, "alice", "Post", "Tekst")
        fake = Fake("127.0.0.1")
        fake.add_user("carol", "Carol")
        fake.add_user("dave", "Dave")
        async with running(fake):
            yield World(a2, fake, post_url)


def like(fake: Fake, name: str, target: str) -> dict[str, Any]:
    return {"id": fake.new_id("likes"), "type": "Like", "actor": fake.uri(name), "object": target}


def key_id(fake: Fake, name: str) -> str:
    return f"{fake.uri(name)}#main-key"


def assert_4xx(r: httpx.Response, status: int, what: str) -> None:
    assert r.status_code == status, f"{what}: expected {status}, got {r.status_code} {r.text}"


def one_line_error(proc: Any) -> str:
    """The one line a failed command printed (and that it failed without a traceback)."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]
