"""The guarded clients never reach this instance under any name: an address that reaches one of
its listening sockets is refused, whatever name resolved to it (`hosts.reaches_listener`).

Both clients are tried against a real socket on 127.0.0.1 that counts connections: the httpx
client (ActivityPub GETs) and the delivery poster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from fediverse_a2.hosts import reaches_listener
from fediverse_a2.httpclient import FetchError, FetchSettings, StaticResolver, create_http_client, own_sockets
from helpers import raw_server

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize(
    ("ip", "port", "listeners", "local", "expected"),
    [
        ("127.0.0.1", 8000, [("127.0.0.1", 8000)], [], True),
        ("::ffff:127.0.0.1", 8000, [("127.0.0.1", 8000)], [], True),  # the same address, mapped
        ("0.0.0.0", 8000, [("127.0.0.1", 8000)], [], True),  # connecting to "any" reaches this machine
        ("127.0.0.2", 8000, [("127.0.0.1", 8000)], [], False),
        ("127.0.0.1", 8001, [("127.0.0.1", 8000)], [], False),
        ("::1", 8000, [("127.0.0.1", 8000)], [], False),
        ("127.0.0.9", 8000, [("0.0.0.0", 8000)], [], True),  # every address: loopback reaches it
        ("::1", 8000, [("::", 8000)], [], True),
        ("192.0.2.2", 8000, [("0.0.0.0", 8000)], ["192.0.2.2", "fe80::1%eth0"], True),
        ("192.0.2.3", 8000, [("0.0.0.0", 8000)], ["192.0.2.2"], False),
        ("192.0.2.2", 8000, [("10.0.0.1", 8000)], ["192.0.2.2"], False),  # bound elsewhere
        ("not an ip", 8000, [("127.0.0.1", 8000)], [], False),
    ],
)
def test_reaches_listener(
    ip: str, port: int, listeners: list[tuple[str, int]], local: list[str], expected: bool
) -> None:
    assert reaches_listener(ip, port, listeners, local) is expected


async def test_own_sockets_resolve_a_listening_name_once() -> None:
    listeners, local = await own_sockets("localhost", 8123)
    assert ("127.0.0.1", 8123) in listeners and local == frozenset()
    assert await own_sockets("127.0.0.1", 8123) == (frozenset({("127.0.0.1", 8123)}), frozenset())
    every, local = await own_sockets("0.0.0.0", 8123)
    assert every == frozenset({("0.0.0.0", 8123)}) and "127.0.0.1" in local


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[int]]]:
    """A socket on 127.0.0.1 that answers `{}` and counts connections: (port, counter)."""
    connections: list[int] = []

    async def answer(writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.write(ANSWER)
        await writer.drain()

    async with raw_server(answer) as port:
        yield port, connections


def settings_for(port: int) -> FetchSettings:
    return FetchSettings(allow_private_network=True, listeners=frozenset({("127.0.0.1", port)}), total_timeout=5)


async def test_a_name_resolving_to_our_listener_is_never_fetched(listener: tuple[int, list[int]]) -> None:
    port, connections = listener
    resolver = StaticResolver({"ons.test": "127.0.0.1", "localhost": ["::1", "127.0.0.1"], "elders.test": "127.0.0.2"})
    client = create_http_client(settings_for(port), resolver)
    try:
        for name in ("ons.test", "localhost", "127.0.0.1"):
            with pytest.raises(FetchError, match="this instance itself"):
                await client.get(f"http://{name}:{port}/users/alice")
        with pytest.raises(FetchError, match="this instance itself"):
            await client.post(f"http://ons.test:{port}/inbox", content=b"{}")
        assert connections == []
        # The same client reaches the same address on another listener's terms: not us.
        other = create_http_client(settings_for(port + 1), resolver)
        try:
            assert (await other.get(f"http://ons.test:{port}/users/alice")).status_code == 200
        finally:
            await other.aclose()
        assert connections == [1]
    finally:
        await client.aclose()


async def test_the_delivery_poster_refuses_our_listener_too(listener: tuple[int, list[int]]) -> None:
    port, connections = listener
    client = create_http_client(settings_for(port), StaticResolver({"ons.test": "127.0.0.1"}))
    try:
        poster = client.poster  # type: ignore[attr-defined]
        with pytest.raises(FetchError, match="this instance itself"):
            await poster.post(httpx.URL(f"http://ons.test:{port}/inbox"), {"Content-Type": "application/json"}, b"{}")
        assert connections == []
    finally:
        await client.aclose()
