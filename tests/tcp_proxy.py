"""A TCP proxy on 127.0.0.1 that can play a server restart: cut every connection and refuse new
ones (`down`), then let them through again (`up`).

What a client sees of a PostgreSQL restart is exactly that: its connections end, connecting
is refused for a while, then works again. Putting the proxy between an instance and the
shared test server plays it without stopping the server other tests use.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["TcpProxy", "tcp_proxy"]


class TcpProxy:
    """Forwards 127.0.0.1:port to target_host:target_port while up."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.is_up = True
        self.links: set[asyncio.StreamWriter] = set()
        self.accepted = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.is_up:  # a server that is down: the connection ends at once
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.accepted += 1
        self.links.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.links.discard(writer)
            writer.close()

    def down(self) -> None:
        """Cut every open connection (a reset, as a server killed or restarting leaves them) and refuse new ones."""
        self.is_up = False
        for writer in list(self.links):
            transport = writer.transport
            transport.abort()
        self.links.clear()

    def up(self) -> None:
        """Let connections through again."""
        self.is_up = True

    async def close(self) -> None:
        self.down()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@contextlib.asynccontextmanager
async def tcp_proxy(target_host: str, target_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
