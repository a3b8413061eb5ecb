"""One HTTP/1.1 client connection: send a request, read one response, bounded in size and time.

An `asyncio.Protocol` with httptools (llhttp, the parser uvicorn uses) reading the response:
strict about framing (a Content-Length beside Transfer-Encoding, duplicate lengths, folded
headers are errors). Limits: the head (status line and headers) up to `MAX_HEAD` bytes and
`MAX_HEADERS` lines, a Content-Length above the caller's `max_bytes` refused before reading
the body, and at most `drain` body bytes read to keep the connection (past that the
connection is dropped; the status stands). Every wait is bounded by the caller's deadline
and by `read_timeout` between two reads. The connection is reusable only when the response
was complete, framed, and neither side asked to close.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools

from .settings import FetchError

__all__ = ["MAX_HEAD", "MAX_HEADERS", "Connection", "Response", "ServerClosed"]

MAX_HEAD = 65536
MAX_HEADERS = 100


class ServerClosed(FetchError):
    """The server closed the connection before a byte of the response (a stale keep-alive?)."""


class _BodyTooLarge(Exception):
    pass


class Response:
    """A response's status and headers (names lower-cased); the body is not kept."""

    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.headers = headers

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        key = name.lower().encode("ascii")
        for k, v in self.headers:
            if k == key:
                return v.decode("latin-1")
        return None


class Connection(asyncio.Protocol):
    """A client connection; one request at a time (`exchange`), reusable while `reusable`."""

    def __init__(self, read_timeout: float, total_timeout: float) -> None:
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.transport: asyncio.Transport | None = None
        self.reusable = False
        self.idle_since = 0.0
        self._closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Response] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._status = 0
        self._head_bytes = 0
        self._head_size = 0
        self._head_done = False
        self._received = 0
        self._body = 0
        self._drain = 0
        self._max_bytes = 0
        self._last_read = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.close()  # bytes nobody asked for: the framing can no longer be trusted
            return
        self._received += len(data)
        self._last_read = asyncio.get_running_loop().time()
        if not self._head_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _BodyTooLarge):
                self._finish(keep=False)  # the status stands; the rest is not worth reading
            else:
                self._fail(cause if isinstance(cause, FetchError) else FetchError(f"RemoteProtocolError: {exc}"))
            return
        except httptools.HttpParserUpgrade:
            self._fail(FetchError("RemoteProtocolError: the server switched protocols"))
            return
        except httptools.HttpParserError as exc:
            self._fail(FetchError(f"RemoteProtocolError: {exc}"))
            return
        if not self._head_done and self._head_bytes > MAX_HEAD:
            self._fail(FetchError(f"RemoteProtocolError: response head larger than {MAX_HEAD} bytes"))

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.reusable = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head_done:
            self._finish(keep=False)  # a body read until the end, or cut short: the status stands
        elif self._received == 0:
            self._fail(ServerClosed("RemoteProtocolError: server disconnected without sending a response"))
        else:
            self._fail(FetchError("RemoteProtocolError: server disconnected in the middle of the response head"))

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        # The byte count in data_received catches a head that never ends; this one a head
        # that arrived whole in one read.
        self._head_size += len(name) + len(value) + 4
        if len(self._headers) >= MAX_HEADERS or self._head_size > MAX_HEAD:
            raise FetchError(f"RemoteProtocolError: response head over {MAX_HEADERS} lines or {MAX_HEAD} bytes")
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            return  # an interim response (100 Continue): the real one follows
        self._status = status
        self._head_done = True
        for name, value in self._headers:
            if name == b"content-length" and value.strip().isdigit() and int(value) > self._max_bytes:
                raise FetchError(f"response larger than {self._max_bytes} bytes (Content-Length {int(value)})")

    def on_body(self, body: bytes) -> None:
        self._body += len(body)
        if self._body > self._drain:
            raise _BodyTooLarge

    def on_message_complete(self) -> None:
        if not self._head_done:  # the end of an interim response
            self._headers = []
            self._head_bytes = self._head_size = 0
            return
        self._finish(keep=self._parser.should_keep_alive())

    # -- the caller's side ---------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Whether this idle connection may carry another request."""
        return self.reusable and not self._closed and self.transport is not None and not self.transport.is_closing()

    async def exchange(self, request: bytes, *, deadline: float, max_bytes: int, drain: int) -> Response:
        """Send one request and read its response by `deadline` (loop time).

        Past the head, running out of time only ends the wait for the body: the status stands.
        """
        assert self.transport is not None and self._waiter is None
        loop = asyncio.get_running_loop()
        self.reusable = False
        self._waiter = waiter = loop.create_future()
        self._headers, self._status, self._head_bytes, self._head_size, self._head_done = [], 0, 0, 0, False
        self._received, self._body, self._drain, self._max_bytes = 0, 0, drain, max_bytes
        self._last_read = loop.time()
        self._timer = loop.call_at(min(deadline, self._last_read + self.read_timeout), self._check_time, deadline)
        try:
            self.transport.write(request)
            return await waiter
        finally:
            self._timer.cancel()
            self._timer = None
            self._waiter = None
            if not self.reusable:
                self.close()

    def _check_time(self, deadline: float) -> None:
        """The deadline, and the read timeout (no byte for `read_timeout` s): one timer, moved on lazily."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = min(deadline, self._last_read + self.read_timeout)
        if now < due:
            self._timer = loop.call_at(due, self._check_time, deadline)
            return
        if self._head_done:
            self._finish(keep=False)
        elif now >= deadline:
            self._fail(FetchError(f"timed out: no response within {self.total_timeout:g} s"))
        else:
            self._fail(FetchError(f"ReadTimeout: no data for {self.read_timeout:g} s"))

    def _finish(self, *, keep: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self.reusable = keep and not self._closed
            waiter.set_result(Response(self._status, self._headers))

    def _fail(self, exc: FetchError) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        """Drop the connection (no graceful TLS shutdown: nothing more is owed to the server)."""
        self.reusable = False
        if self.transport is not None and not self._closed:
            self.transport.abort()
