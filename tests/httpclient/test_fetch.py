"""The guarded outbound client and fetch_object: SSRF guard, limits, redirects, origin rules.

Every server here listens on 127.0.0.1; names like peer.test resolve through a StaticResolver.
Forbidden addresses are refused by the guard before any connection is attempted: a
recording network backend under the guard proves that nothing was dialled.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fediverse_a2.federation.fetch import fetch_object, same_url
from fediverse_a2.httpclient import FetchError, FetchSettings, StaticResolver, create_http_client, read_limited
from fediverse_a2.jsondoc import parse_json_document
from fediverse_a2.netguard import address_refusal, is_forbidden_address
from helpers import raw_server
from helpers import serving as serve

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
PUBLIC_IP = "93.184.216.34"  # looks public; the pinning backend sends it to 127.0.0.1
NAMES = {"peer.test": "127.0.0.1", "other.test": "127.0.0.1", "blocked.test": "127.0.0.1", "evil.test": "10.0.0.1"}

Handler = Callable[[Request], Awaitable[Response]]


# -- test doubles ------------------------------------------------------------------------


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """The real connector for 127.0.0.1 only, recording every (host, port) it is asked to dial.

    `pin` maps an IP the guard approved to a local port, so a "public" address can be
    exercised without leaving 127.0.0.1. Anything else is never dialled, even if the guard
    under test were broken: the test then fails instead of reaching another network.
    """

    def __init__(self, pin: dict[str, int] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.pin = pin or {}
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.calls.append((host, port))
        if host in self.pin:
            host, port = "127.0.0.1", self.pin[host]
        if host != "127.0.0.1":
            raise AssertionError(f"the guard let a connection to {host} through")
        return await self.real.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SequenceResolver:
    """Answers each lookup with the next list (DNS rebinding); counts lookups."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Peer:
    """A scripted ActivityPub server (uvicorn on 127.0.0.1); pages are set per test."""

    def __init__(self) -> None:
        self.pages: dict[str, Handler] = {}
        self.seen: list[Request] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        self.seen.append(request)
        handler = self.pages.get(request.url.path)
        return await handler(request) if handler else Response("not found", 404)

    def url(self, path: str, host: str = "peer.test") -> str:
        return f"http://{host}:{self.port}{path}"

    def doc(self, path: str, doc_id: str | None = "self", content_type: str = AP, **extra: Any) -> None:
        """Serve a JSON document at `path` whose id is its own URL unless told otherwise."""
        body: dict[str, Any] = {"type": "Note", **extra}
        if doc_id is not None:
            body["id"] = self.url(path) if doc_id == "self" else doc_id
        self.raw(path, 200, content_type, httpx.Response(200, json=body).content)

    def raw(
        self, path: str, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        async def handler(request: Request) -> Response:
            return Response(body, status, headers=headers, media_type=content_type)

        self.pages[path] = handler

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.raw(path, status, "text/plain", b"", {"Location": location})


def head(status: str = "200 OK", content_type: str = AP, **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with serve(Peer()) as p:
        yield p


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """A factory for guarded clients (names from NAMES unless a resolver is given), all closed after."""
    made: list[httpx.AsyncClient] = []

    def make(
        resolver: Any = None, backend: httpcore.AsyncNetworkBackend | None = None, **settings: Any
    ) -> httpx.AsyncClient:
        settings.setdefault("allow_private_network", True)
        backend = backend or RecordingBackend()  # never dials beyond 127.0.0.1
        client = create_http_client(
            FetchSettings(**settings), resolver or StaticResolver(NAMES), network_backend=backend
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def client(clients: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client allowed to reach 127.0.0.1 (test servers), with short timeouts."""
    return clients(total_timeout=3.0, read_timeout=2.0, connect_timeout=2.0)


# -- address rules -----------------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.0.1",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.19.255.254",
    "198.51.100.7",
    "203.0.113.9",
    "192.88.99.1",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::10.0.0.1",
    "2002:7f00:1::1",
    "2002:a00:1::",
    "64:ff9b::10.0.0.1",
    "64:ff9b::127.0.0.1",
    "64:ff9b:1::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "febf::1",
    "fec0::1",
    "ff00::1",
    "ff02::1",
    "2001:db8::1",
    "3fff::1",
    "2001::1",
    "100::1",
    "5f00::1",
    "[::1]",
    "not-an-ip",
    "",
]
PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    PUBLIC_IP,
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "2a00:1450:4001::1",
    "::ffff:1.1.1.1",
    "2002:101:101::1",
    "64:ff9b::1.1.1.1",
]


@pytest.mark.parametrize("ip", FORBIDDEN)
def test_forbidden_address(ip: str) -> None:
    assert is_forbidden_address(ip)


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_address_allowed(ip: str) -> None:
    assert not is_forbidden_address(ip)


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("192.168.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("::ffff:0.0.0.0", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
    ],
)
def test_allow_private_network_still_refuses_never_routable(ip: str, allowed: bool) -> None:
    assert (address_refusal(ip, allow_private_network=True) is None) is allowed


def test_refusal_names_the_kind_of_address() -> None:
    assert address_refusal("10.0.0.1") == "a private address"
    assert address_refusal("::ffff:127.0.0.1") == "a loopback address (embedded in IPv6)"


# -- the connection guard ----------------------------------------------------------------


@pytest.mark.parametrize("ip", ["10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "fe80::1", "0.0.0.0", "127.0.0.1"])
async def test_forbidden_resolution_refused_before_connecting(clients: Any, ip: str) -> None:
    backend = RecordingBackend()
    client = clients(StaticResolver({"evil.test": [ip]}), backend, allow_private_network=False)
    with pytest.raises(FetchError) as err:
        await fetch_object(client, "http://evil.test/actor")
    assert err.value.reason == f"refused: {ip} is {address_refusal(ip)}"
    # The delivery engine's POSTs go through the same guard.
    with pytest.raises(FetchError, match="refused"):
        await client.post("https://evil.test/inbox", content=b"{}")
    assert backend.calls == []


async def test_one_forbidden_address_among_public_ones_refuses(clients: Any) -> None:
    backend = RecordingBackend()
    client = clients(StaticResolver({"mixed.test": [PUBLIC_IP, "10.0.0.1"]}), backend, allow_private_network=False)
    with pytest.raises(FetchError, match=r"refused: 10\.0\.0\.1 is a private address"):
        await client.get("http://mixed.test/")
    assert backend.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "http://[::1]:8080/x",
        "http://127.0.0.1:9/x",
        "https://[::ffff:192.168.0.1]/x",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_ip_literal_urls_are_checked(clients: Any, url: str) -> None:
    backend = RecordingBackend()
    client = clients(StaticResolver({}), backend, allow_private_network=False)
    with pytest.raises(FetchError, match="refused"):
        await fetch_object(client, url)
    assert backend.calls == []


async def test_loopback_only_with_allow_private_network(clients: Any, peer: Peer) -> None:
    peer.doc("/actor")
    allowed = clients(allow_private_network=True)
    assert (await fetch_object(allowed, peer.url("/actor")))["id"] == peer.url("/actor")
    refused = clients(allow_private_network=False)
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        await fetch_object(refused, peer.url("/actor"))


async def test_dns_rebinding_checked_on_every_connection(clients: Any, peer: Peer) -> None:
    # First lookup: a public address (pinned to the local peer); later lookups: a private one.
    resolver = SequenceResolver([PUBLIC_IP], ["10.0.0.1"])
    backend = RecordingBackend(pin={PUBLIC_IP: peer.port})
    client = clients(resolver, backend, allow_private_network=False)
    peer.doc("/actor")
    peer.pages["/actor"] = _closing(peer.pages["/actor"])  # forces a new connection next time
    doc = await fetch_object(client, peer.url("/actor"))
    assert doc["id"] == peer.url("/actor")
    # The guard dialled the checked IP itself, never the name (no second resolution).
    assert backend.calls == [(PUBLIC_IP, peer.port)]
    with pytest.raises(FetchError, match=r"refused: 10\.0\.0\.1"):
        await client.post(peer.url("/inbox"), content=b"{}")
    assert resolver.lookups == 2
    assert backend.calls == [(PUBLIC_IP, peer.port)]


def _closing(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        response = await handler(request)
        response.headers["Connection"] = "close"
        return response

    return wrapped


async def test_pooled_connection_is_reused_without_new_lookup(clients: Any, peer: Peer) -> None:
    resolver = SequenceResolver(["127.0.0.1"])
    client = clients(resolver)
    peer.doc("/a")
    peer.doc("/b")
    await fetch_object(client, peer.url("/a"))
    await fetch_object(client, peer.url("/b"))
    assert resolver.lookups == 1


class _TLSProbe(httpcore.AsyncNetworkStream):
    """A fake stream that records the TLS server name it is asked for, then fails."""

    def __init__(self) -> None:
        self.server_hostname: str | None = None

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        self.server_hostname = server_hostname
        raise httpcore.ConnectError("probe: stop before any I/O")

    async def aclose(self) -> None:
        pass


async def test_tls_uses_hostname_while_connecting_to_checked_ip(clients: Any) -> None:
    probe = _TLSProbe()
    calls: list[str] = []

    class ProbeBackend(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, **kwargs: Any) -> httpcore.AsyncNetworkStream:
            calls.append(host)
            return probe

    client = clients(StaticResolver({"peer.test": PUBLIC_IP}), ProbeBackend(), allow_private_network=False)
    with pytest.raises(FetchError, match="connection failed"):
        await fetch_object(client, "https://peer.test/actor")
    assert calls == [PUBLIC_IP]
    assert probe.server_hostname == "peer.test"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://peer.test/actor",
        "file:///etc/passwd",
        "gopher://peer.test:70/x",
        "data:application/json,{}",
        "//peer.test/x",
    ],
)
async def test_other_schemes_refused(clients: Any, url: str) -> None:
    resolver = SequenceResolver(["127.0.0.1"])
    backend = RecordingBackend()
    client = clients(resolver, backend)
    with pytest.raises(FetchError, match="only http"):
        await fetch_object(client, url)
    if "://" in url and not url.startswith("//"):
        with pytest.raises(FetchError, match="only http"):
            await client.get(url)
    assert resolver.lookups == 0 and backend.calls == []


# -- content types -----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/html", "application/json", "image/png", "text/plain", ""])
async def test_non_activitypub_content_type_refused(client: httpx.AsyncClient, peer: Peer, content_type: str) -> None:
    peer.doc("/upload", content_type=content_type)
    with pytest.raises(FetchError, match="not an ActivityPub document"):
        await fetch_object(client, peer.url("/upload"))


@pytest.mark.parametrize(
    "content_type", [AP, AP + "; charset=utf-8", LD, "application/ld+json", "Application/Activity+JSON"]
)
async def test_activitypub_content_types_accepted(client: httpx.AsyncClient, peer: Peer, content_type: str) -> None:
    peer.doc("/note", content_type=content_type)
    assert (await fetch_object(client, peer.url("/note")))["type"] == "Note"


async def test_sends_accept_user_agent_and_signature(client: httpx.AsyncClient, peer: Peer) -> None:
    class Signer(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["Signature"] = "signed-by-instance-actor"
            yield request

    peer.doc("/actor")
    await fetch_object(client, peer.url("/actor"), auth=Signer())
    sent = peer.seen[-1].headers
    assert sent["accept"].startswith("application/activity+json, application/ld+json")
    assert sent["signature"] == "signed-by-instance-actor"
    assert sent["user-agent"] == "fediverse-a2/0.1"


# -- size and time limits ----------------------------------------------------------------


async def test_body_over_limit_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    async def huge(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"id": "x", "pad": "'
            for _ in range(40):
                yield b"a" * 50_000  # 2 MB, chunked, no Content-Length
            yield b'"}'

        return StreamingResponse(chunks(), media_type=AP)

    peer.pages["/huge"] = huge
    with pytest.raises(FetchError, match="larger than 1000000 bytes"):
        await fetch_object(client, peer.url("/huge"))


async def test_body_just_under_limit_accepted(clients: Any, peer: Peer) -> None:
    client = clients(max_bytes=50_000)
    peer.doc("/big", pad="a" * 40_000)
    assert len((await fetch_object(client, peer.url("/big")))["pad"]) == 40_000


async def test_content_length_over_limit_refused_before_reading(client: httpx.AsyncClient) -> None:
    waited: list[str] = []

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Length="2000000"))
        await writer.drain()
        await asyncio.sleep(10)  # never sends the body: reading it would hang until the timeout
        waited.append("the body was waited for")

    async with raw_server(reply) as port:
        with pytest.raises(FetchError, match=r"Content-Length 2000000"):
            await fetch_object(client, f"http://peer.test:{port}/x")
        # Plain client requests (delivery) are refused by the transport the same way.
        with pytest.raises(FetchError, match=r"Content-Length 2000000"):
            await client.post(f"http://peer.test:{port}/inbox", content=b"{}")
        assert waited == []  # refused from the head, while the server still held back the body


async def test_content_length_smaller_than_body_is_cut_short(client: httpx.AsyncClient) -> None:
    body = b'{"id": "http://x/", "pad": "' + b"a" * 2_000_000 + b'"}'

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Length="30") + body)
        await writer.drain()

    async with raw_server(reply) as port:
        with pytest.raises(FetchError, match="invalid JSON"):
            await fetch_object(client, f"http://peer.test:{port}/x")


async def test_close_delimited_body_over_limit_refused(client: httpx.AsyncClient) -> None:
    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(head(Connection="close") + b'{"pad": "' + b"a" * 2_000_000)
        await writer.drain()

    async with raw_server(reply) as port:
        with pytest.raises(FetchError, match="larger than"):
            await fetch_object(client, f"http://peer.test:{port}/x")


async def test_content_length_larger_than_body_is_an_error(client: httpx.AsyncClient) -> None:
    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Length="1000") + b'{"id": 1}')
        await writer.drain()

    async with raw_server(reply) as port:
        with pytest.raises(FetchError, match="protocol error"):
            await fetch_object(client, f"http://peer.test:{port}/x")


class Drip:
    """A server answer that sends its 100-byte body one byte every 0.2 s (each well within the
    read timeout); `done` says whether it got to the end (20 s) before the client gave up."""

    def __init__(self) -> None:
        self.sent = 0
        self.done = False

    async def __call__(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Length="100"))
        for _ in range(100):
            writer.write(b" ")
            await writer.drain()
            self.sent += 1
            await asyncio.sleep(0.2)
        self.done = True


async def test_drip_aborted_by_total_timeout(clients: Any) -> None:
    client = clients(total_timeout=1.0, read_timeout=2.0)
    drip = Drip()
    async with raw_server(drip) as port:
        with pytest.raises(FetchError, match="timed out"):
            await fetch_object(client, f"http://peer.test:{port}/x")
        # The deadline ended it, in the middle of the body: no read waited out the read timeout.
        assert 0 < drip.sent < 100 and not drip.done


async def test_drip_aborted_for_plain_client_requests_too(clients: Any) -> None:
    # The delivery engine uses the client directly; the transport holds the same deadline.
    client = clients(total_timeout=1.0, read_timeout=2.0)
    drip = Drip()
    async with raw_server(drip) as port:
        with pytest.raises(FetchError, match="timed out"):
            await client.post(f"http://peer.test:{port}/inbox", content=b"{}")
        assert 0 < drip.sent < 100 and not drip.done


async def test_slow_headers_aborted_by_total_timeout(clients: Any) -> None:
    async def reply(writer: asyncio.StreamWriter) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    client = clients(total_timeout=0.8, read_timeout=2.0)
    async with raw_server(reply) as port:
        with pytest.raises(FetchError, match="timed out"):
            await client.get(f"http://peer.test:{port}/x")


async def test_read_limited_for_post_responses(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.raw("/inbox", 202, "text/plain", b"x" * 5000)
    async with client.stream("POST", peer.url("/inbox"), content=b"{}") as response:
        with pytest.raises(FetchError, match="larger than 100 bytes"):
            await read_limited(response, 100)
    async with client.stream("POST", peer.url("/inbox"), content=b"{}") as response:
        assert await read_limited(response, 10_000) == b"x" * 5000


# -- redirects ---------------------------------------------------------------------------


async def test_same_site_redirect_followed(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.redirect("/old", "/new", 301)
    peer.doc("/new")
    assert (await fetch_object(client, peer.url("/old")))["id"] == peer.url("/new")


async def test_cross_site_redirect_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.redirect("/old", peer.url("/new", host="other.test"))
    peer.doc("/new")
    with pytest.raises(FetchError, match=r"cross-site redirect to other\.test"):
        await fetch_object(client, peer.url("/old"))


async def test_scheme_change_redirect_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.redirect("/old", f"https://peer.test:{peer.port}/new")
    with pytest.raises(FetchError, match="cross-site"):
        await fetch_object(client, peer.url("/old"))


async def test_three_redirects_followed_four_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    for n in range(4):
        peer.redirect(f"/r{n}", f"/r{n + 1}", 307)
    peer.doc("/r4")
    assert (await fetch_object(client, peer.url("/r1")))["id"] == peer.url("/r4")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetch_object(client, peer.url("/r0"))


async def test_redirect_to_blocked_host_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.redirect("/old", peer.url("/new", host="blocked.test"))
    peer.doc("/new")
    with pytest.raises(FetchError, match="blocked domain"):
        await fetch_object(client, peer.url("/old"), is_host_allowed=lambda h: h != "blocked.test")


async def test_blocked_host_refused_before_connecting(clients: Any) -> None:
    backend = RecordingBackend()
    client = clients(backend=backend)
    with pytest.raises(FetchError, match="blocked domain"):
        await fetch_object(client, "http://blocked.test/x", is_host_allowed=lambda h: h != "blocked.test")
    assert backend.calls == []


# -- status and origin rules ---------------------------------------------------------------


@pytest.mark.parametrize("status", [410, 404, 500])
async def test_error_status_carried(client: httpx.AsyncClient, peer: Peer, status: int) -> None:
    peer.raw("/gone", status, AP, b'{"type": "Tombstone"}')
    with pytest.raises(FetchError) as err:
        await fetch_object(client, peer.url("/gone"))
    assert err.value.status == status
    assert err.value.reason == f"HTTP {status}"


async def test_id_mismatch_refetched_by_own_id(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.doc("/a", doc_id=peer.url("/b"), via="a")
    peer.doc("/b", via="b")
    doc = await fetch_object(client, peer.url("/a"))
    assert doc == {"type": "Note", "via": "b", "id": peer.url("/b")}


async def test_id_mismatch_twice_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.doc("/a", doc_id=peer.url("/b"))
    peer.doc("/b", doc_id=peer.url("/c"))
    peer.doc("/c")
    with pytest.raises(FetchError, match="id does not match URL"):
        await fetch_object(client, peer.url("/a"))


async def test_id_elsewhere_comes_from_its_own_origin(client: httpx.AsyncClient, peer: Peer) -> None:
    # other.test cannot speak for peer.test: the document is taken from peer.test itself.
    peer.doc("/forged", doc_id=peer.url("/real"), content="forged")
    peer.doc("/real", content="real")
    doc = await fetch_object(client, peer.url("/forged", host="other.test"))
    assert doc["content"] == "real"


async def test_id_on_blocked_host_not_refetched(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.doc("/a", doc_id=peer.url("/b", host="blocked.test"))
    with pytest.raises(FetchError, match="blocked domain"):
        await fetch_object(client, peer.url("/a"), is_host_allowed=lambda h: h != "blocked.test")


@pytest.mark.parametrize("doc_id", [None, "", 42, "ftp://peer.test/a"])
async def test_missing_or_bad_id_refused(client: httpx.AsyncClient, peer: Peer, doc_id: Any) -> None:
    peer.raw(
        "/a", 200, AP, httpx.Response(200, json={"type": "Note"} | ({} if doc_id is None else {"id": doc_id})).content
    )
    with pytest.raises(FetchError, match=r"no id|only http"):
        await fetch_object(client, peer.url("/a"))


def test_id_with_default_port_matches() -> None:
    assert same_url("https://peer.test:443/a", "https://peer.test/a")
    assert same_url("http://Peer.Test:80/a", "http://peer.test/a")
    assert not same_url("https://peer.test:8443/a", "https://peer.test/a")
    assert not same_url("http://peer.test/a", "https://peer.test/a")
    assert not same_url("https://peer.test/a?x", "https://peer.test/a")


# -- JSON parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"a": 1} trailing',
        b'{"a": 1}{"b": 2}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[1, 2]",
        b'"text"',
        b"null",
        b"",
        b"\xff\xfe{}",
    ],
    ids=[
        "malformed",
        "trailing-garbage",
        "two-documents",
        "deep-array",
        "deep-object",
        "array",
        "string",
        "null",
        "empty",
        "bad-utf8",
    ],
)
def test_parse_json_document_rejects(body: bytes) -> None:
    with pytest.raises(ValueError) as err:
        parse_json_document(body)
    assert 0 < len(str(err.value)) <= 120


def test_parse_json_document_accepts_object() -> None:
    assert parse_json_document(b' {"id": "https://peer.test/a", "n": [1, {"b": null}]} \n') == {
        "id": "https://peer.test/a",
        "n": [1, {"b": None}],
    }


async def test_invalid_json_body_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    peer.raw("/bad", 200, AP, b'{"id": ')
    with pytest.raises(FetchError, match="invalid JSON"):
        await fetch_object(client, peer.url("/bad"))
