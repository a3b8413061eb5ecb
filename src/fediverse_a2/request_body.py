"""Reading a request's body within a size limit: the inbox and every form (uploads too) read it here.

A declared Content-Length over the limit is refused before anything is read; a body that grows
past it while streaming is refused at that point (never held whole); a Content-Length that is not
a plain number, or a client that goes away mid-body, is a 400. The caller turns the BodyError
into its own kind of answer (JSON for the inbox, the error page for forms).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request

__all__ = ["BodyError", "read_body", "read_stream"]

_MAX_LENGTH_DIGITS = 18  # a longer Content-Length is over every limit (and int() of it is costly)


class BodyError(Exception):
    """A body that is refused: its HTTP status (400, 413) and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes; BodyError otherwise."""
    return await read_stream(request.headers.get("content-length"), request.stream(), limit)


async def read_stream(declared: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body from its chunks (which raise ClientDisconnect when the client goes away) and
    its declared Content-Length, at most `limit` bytes; BodyError otherwise. For a route below
    Starlette's Request (web/inbox_route.py)."""
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise BodyError(400, "invalid Content-Length")
        if len(declared) > _MAX_LENGTH_DIGITS or int(declared) > limit:
            raise BodyError(413, f"body larger than {limit} bytes")
    body = bytearray()
    try:
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise BodyError(413, f"body larger than {limit} bytes")
    except ClientDisconnect:
        raise BodyError(400, "the body was not sent completely") from None
    return bytes(body)
