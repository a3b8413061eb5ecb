"""The delivery client (httpclient/poster.py) against real servers on 127.0.0.1.

Keep-alive reuse, the address guard, size and time bounds, servers that close, chunked and
Content-Length answers, interim responses, TLS with SNI and a private CA, uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import trustme
import uvloop

from fediverse_a2.hosts import Origin
from fediverse_a2.httpclient import FetchError, FetchSettings, Poster, StaticResolver, create_http_client, poster_of

LOCAL = FetchSettings(allow_private_network=True, connect_timeout=1.0, read_timeout=0.5, total_timeout=1.5)
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # False: close the connection


@dataclass
class Server:
    """A raw HTTP/1.1 server: reads whole requests (Content-Length bodies), answers with `answer`."""

    answer: Answer
    port: int = 0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def server(answer: Answer, tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    srv = Server(answer)
    tasks: set[asyncio.Task[None]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        writers.append(writer)
        await srv.handle(reader, writer)

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    srv.port = int(listener.sockets[0].getsockname()[1])
    try:
        yield srv
    finally:
        listener.close()
        for writer in writers:
            writer.transport.abort()  # the handlers see the end of their connection and return
        for task in list(tasks):
            if not task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), 0.1)
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await listener.wait_closed()


def reply(raw: bytes, keep: bool = True) -> Answer:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return answer


@contextlib.asynccontextmanager
async def poster(settings: FetchSettings = LOCAL, resolver: StaticResolver | None = None) -> AsyncIterator[Poster]:
    client = Poster(settings, resolver)
    try:
        yield client
    finally:
        client.close()
        await asyncio.sleep(0)  # let the aborted transports finish closing


def url(port: int, path: str = "/inbox", host: str = "127.0.0.1", scheme: str = "http") -> httpx.URL:
    return httpx.URL(f"{scheme}://{host}:{port}{path}")


HEADERS = {"Content-Type": "application/activity+json", "Signature": "sig1=:x:"}


# -- the request, and keep-alive -----------------------------------------------------------


async def test_request_bytes_and_keep_alive_reuse() -> None:
    async with server(reply(ACCEPTED)) as srv, poster() as client:
        for i in range(3):
            headers = {**HEADERS, "Host": f"127.0.0.1:{srv.port}"}
            response = await client.post(url(srv.port, f"/users/u{i}/inbox?x=1"), headers, b'{"n": %d}' % i)
            assert response.status == 202
        assert srv.connections == 1 and client.connections_made == 1 and client.idle == 1
        head, _, body = srv.requests[2].partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /users/u2/inbox?x=1 HTTP/1.1"
        assert lines[1] == f"Host: 127.0.0.1:{srv.port}".encode()  # the signed Host, once
        assert sum(line.lower().startswith(b"host:") for line in lines) == 1
        assert b"Content-Length: 8" in lines and b"Accept-Encoding: identity" in lines
        assert b"Signature: sig1=:x:" in lines and body == b'{"n": 2}'


async def test_host_header_from_the_url_when_not_signed() -> None:
    async with server(reply(ACCEPTED)) as srv, poster() as client:
        await client.post(url(srv.port), {"Content-Type": "application/activity+json"}, b"{}")
        assert f"\r\nHost: 127.0.0.1:{srv.port}\r\n".encode() in srv.requests[0]


async def test_header_injection_is_refused() -> None:
    async with server(reply(ACCEPTED)) as srv, poster() as client:
        for headers in ({"X-A": "a\r\nX-B: b"}, {"X-A\r\nX-B": "b"}, {"Bad Name": "x"}):
            with pytest.raises(FetchError, match="invalid request header"):
                await client.post(url(srv.port), headers, b"{}")
        assert srv.connections == 0


async def test_chunked_and_content_length_answers_keep_the_connection() -> None:
    answers = [
        b"HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nRetry-After: 120\r\nContent-Length: 2\r\n\r\nno",
    ]
    queue = list(answers)

    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(queue.pop(0))
        return True

    async with server(answer) as srv, poster() as client:
        statuses = [await client.post(url(srv.port), HEADERS, b"{}") for _ in answers]
        assert [r.status for r in statuses] == [202, 200, 204, 429]
        assert statuses[3].header("Retry-After") == "120"
        assert srv.connections == 1


async def test_connection_close_and_http_1_0_are_not_reused() -> None:
    for raw in (
        b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    ):
        async with server(reply(raw)) as srv, poster() as client:
            assert [(await client.post(url(srv.port), HEADERS, b"{}")).status for _ in range(2)] == [202, 202]
            assert srv.connections == 2 and client.idle == 0


async def test_a_server_closing_a_kept_alive_connection_gets_a_new_one() -> None:
    async with server(reply(ACCEPTED, keep=False)) as srv, poster() as client:
        for _ in range(3):
            assert (await client.post(url(srv.port), HEADERS, b"{}")).status == 202
            await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
        assert srv.connections == 3 and len(srv.requests) == 3


async def test_a_close_racing_the_next_request_is_retried_once() -> None:
    # The server reads the second request and closes without a word: once more, on a new connection.
    seen = 0

    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        nonlocal seen
        seen += 1
        if seen == 2:
            return False
        writer.write(ACCEPTED)
        return True

    async with server(answer) as srv, poster() as client:
        assert (await client.post(url(srv.port), HEADERS, b"{}")).status == 202
        assert (await client.post(url(srv.port), HEADERS, b"{}")).status == 202
        assert srv.connections == 2 and len(srv.requests) == 3


async def test_a_fresh_connection_closed_without_an_answer_is_an_error() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    async with server(silent) as srv, poster() as client:
        with pytest.raises(FetchError, match="disconnected without sending a response"):
            await client.post(url(srv.port), HEADERS, b"{}")
        assert srv.connections == 1


async def test_idle_connections_expire_and_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    async with server(reply(ACCEPTED)) as a, server(reply(ACCEPTED)) as b, server(reply(ACCEPTED)) as c:
        client = Poster(LOCAL, max_idle=2)
        try:
            for srv in (a, b, c):
                await client.post(url(srv.port), HEADERS, b"{}")
            assert client.idle == 2  # a's connection, the least recently used, was dropped
            await client.post(url(a.port), HEADERS, b"{}")
            assert a.connections == 2
            monkeypatch.setattr("fediverse_a2.httpclient.poster.KEEPALIVE", 0.0)
            await client.post(url(b.port), HEADERS, b"{}")
            assert b.connections == 2  # expired: not reused
        finally:
            client.close()
            await asyncio.sleep(0)


# -- the guard ---------------------------------------------------------------------------


async def test_private_addresses_are_refused_without_allow_private_network() -> None:
    strict = FetchSettings(connect_timeout=1.0, total_timeout=1.5)
    resolver = StaticResolver({"inbox.test": "127.0.0.1", "mixed.test": ["8.8.8.8", "10.0.0.1"]})
    async with server(reply(ACCEPTED)) as srv, poster(strict, resolver) as client:
        for target, why in (
            (url(srv.port), "loopback"),
            (url(srv.port, host="inbox.test"), "loopback"),
            (url(srv.port, host="mixed.test"), "private"),
            (url(srv.port, host="[::1]"), "loopback"),
            (url(srv.port, host="[::ffff:127.0.0.1]"), "loopback"),
            (url(80, host="169.254.169.254"), "link-local"),
        ):
            with pytest.raises(FetchError, match=rf"refused: .* is an? {why}"):
                await client.post(target, HEADERS, b"{}")
        assert srv.connections == 0


async def test_the_metadata_address_stays_refused_with_allow_private_network() -> None:
    async with poster() as client:
        with pytest.raises(FetchError, match="refused"):
            await client.post(url(80, host="169.254.169.254"), HEADERS, b"{}")


async def test_scheme_and_self_origin_are_refused() -> None:
    async with server(reply(ACCEPTED)) as srv:
        own = FetchSettings(allow_private_network=True, self_origins=frozenset({Origin("http", "127.0.0.1", srv.port)}))
        async with poster(own) as client:
            with pytest.raises(FetchError, match="this instance itself"):
                await client.post(url(srv.port), HEADERS, b"{}")
            with pytest.raises(FetchError, match="only http"):
                await client.post(httpx.URL(f"ftp://127.0.0.1:{srv.port}/inbox"), HEADERS, b"{}")
        assert srv.connections == 0


async def test_a_name_is_resolved_once_and_the_vetted_address_dialled() -> None:
    class Counting(StaticResolver):
        lookups = 0

        async def resolve(self, host: str, port: int) -> list[str]:
            Counting.lookups += 1
            return await super().resolve(host, port)

    async with server(reply(ACCEPTED)) as srv, poster(LOCAL, Counting({"inbox.test": "127.0.0.1"})) as client:
        for _ in range(2):
            assert (await client.post(url(srv.port, host="inbox.test"), HEADERS, b"{}")).status == 202
        assert Counting.lookups == 1  # the kept-alive connection needs no new lookup
        assert f"Host: inbox.test:{srv.port}".encode() in srv.requests[0]


async def test_the_shared_client_hands_out_its_poster(tmp_path: Path) -> None:
    client = create_http_client(LOCAL, StaticResolver({"inbox.test": "127.0.0.1"}))
    poster = poster_of(client)
    assert poster.settings is LOCAL and isinstance(poster.resolver, StaticResolver)
    await client.aclose()
    with pytest.raises(TypeError):
        poster_of(httpx.AsyncClient())


# -- bounds ------------------------------------------------------------------------------


async def test_an_oversized_content_length_is_refused_before_the_body() -> None:
    raw = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2000000\r\n\r\n"
    async with server(reply(raw)) as srv, poster() as client:
        with pytest.raises(FetchError, match="larger than 1000000 bytes"):
            await client.post(url(srv.port), HEADERS, b"{}")
        assert client.idle == 0


async def test_a_long_body_keeps_the_status_but_not_the_connection() -> None:
    async def huge_chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(40):
            writer.write(b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
            await writer.drain()
        return True

    async with server(huge_chunked) as srv, poster() as client:
        assert (await client.post(url(srv.port), HEADERS, b"{}")).status == 202
        assert client.idle == 0


async def test_a_huge_head_is_refused() -> None:
    raw = b"HTTP/1.1 202 Accepted\r\n" + b"X-Filler: " + b"y" * 70_000 + b"\r\n\r\n"
    async with server(reply(raw)) as srv, poster() as client:
        with pytest.raises(FetchError, match="RemoteProtocolError"):
            await client.post(url(srv.port), HEADERS, b"{}")


async def test_a_malformed_answer_is_a_protocol_error() -> None:
    for raw in (
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
    ):
        async with server(reply(raw)) as srv, poster() as client:
            with pytest.raises(FetchError, match="RemoteProtocolError"):
                await client.post(url(srv.port), HEADERS, b"{}")


async def test_a_dripping_head_times_out() -> None:
    sent: list[int] = []

    async def drip(request: bytes, writer: asyncio.StreamWriter) -> bool:
        for byte in ACCEPTED:
            writer.write(bytes([byte]))
            await writer.drain()
            sent.append(byte)
            await asyncio.sleep(0.2)  # under the read timeout each time; the deadline ends it
        return True

    async with server(drip) as srv, poster() as client:
        with pytest.raises(FetchError, match="timed out"):
            await client.post(url(srv.port), HEADERS, b"{}")
        assert 0 < len(sent) < len(ACCEPTED)  # ended by the deadline, in the middle of the head


async def test_a_silent_server_hits_the_read_timeout() -> None:
    woke: list[bool] = []

    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        woke.append(True)
        return False

    async with server(silent) as srv, poster() as client:
        with pytest.raises(FetchError, match="ReadTimeout"):
            await client.post(url(srv.port), HEADERS, b"{}")
        assert woke == []  # given up while the server was still silent


async def test_a_slow_body_after_the_head_keeps_the_status() -> None:
    woke: list[bool] = []

    async def slow_body(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 100\r\n\r\nab")
        await asyncio.sleep(5)
        woke.append(True)
        return False

    async with server(slow_body) as srv, poster() as client:
        response = await client.post(url(srv.port), HEADERS, b"{}")
        assert (response.status, response.header("retry-after")) == (503, "30")
        assert woke == [] and client.idle == 0  # answered while the body was still missing


async def test_connecting_nowhere_is_a_connect_error() -> None:
    async with server(reply(ACCEPTED)) as srv:
        port = srv.port
    async with poster() as client:
        with pytest.raises(FetchError, match="ConnectError"):
            await client.post(url(port), HEADERS, b"{}")


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, str]:
    authority = trustme.CA()
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


def tls_server_context(authority: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    return context


async def test_tls_with_sni_and_the_configured_ca(ca: tuple[trustme.CA, str]) -> None:
    authority, ca_file = ca
    names: list[str | None] = []
    context = tls_server_context(authority, "inbox.test")
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc]
    settings = FetchSettings(allow_private_network=True, ca_file=ca_file, connect_timeout=2.0, total_timeout=3.0)
    resolver = StaticResolver({"inbox.test": "127.0.0.1", "other.test": "127.0.0.1"})
    async with server(reply(ACCEPTED), tls=context) as srv, poster(settings, resolver) as client:
        for _ in range(2):
            response = await client.post(url(srv.port, host="inbox.test", scheme="https"), HEADERS, b"{}")
            assert response.status == 202
        assert names == ["inbox.test"] and srv.connections == 1  # one handshake, then kept alive
        with pytest.raises(FetchError, match=r"ConnectError: .*(CERTIFICATE_VERIFY_FAILED|hostname)"):
            await client.post(url(srv.port, host="other.test", scheme="https"), HEADERS, b"{}")


async def test_tls_without_the_ca_is_refused(ca: tuple[trustme.CA, str]) -> None:
    authority, _ = ca
    settings = FetchSettings(allow_private_network=True, connect_timeout=2.0, total_timeout=3.0)
    tls = tls_server_context(authority, "inbox.test")
    async with server(reply(ACCEPTED), tls=tls) as srv:
        async with poster(settings, StaticResolver({"inbox.test": "127.0.0.1"})) as client:
            with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.post(url(srv.port, host="inbox.test", scheme="https"), HEADERS, b"{}")
        assert len(srv.requests) == 0


# -- uvloop (what serve and worker run on) -------------------------------------------------


def test_under_uvloop() -> None:
    async def main() -> None:
        await test_chunked_and_content_length_answers_keep_the_connection()
        await test_a_close_racing_the_next_request_is_retried_once()
        await test_a_slow_body_after_the_head_keeps_the_status()
        await test_private_addresses_are_refused_without_allow_private_network()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
