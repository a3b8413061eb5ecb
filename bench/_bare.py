"""The reference server: a bare Starlette app under uvicorn, in its own process.

POST /inbox reads the body and answers 202; GET / answers 200. Uvicorn runs with the same
settings as `fediverse-a2 serve` (server.py), so the difference is the application alone.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def inbox(request: Request) -> Response:
    await request.body()
    return Response(status_code=202)


async def home(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/", home), Route("/inbox", inbox, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", default="auto", help="uvicorn's --http (auto, h11, httptools)")
    parser.add_argument("--loop", default="auto", help="uvicorn's --loop (auto, asyncio, uvloop)")
    args = parser.parse_args()
    # As uvicorn's own sockets are (TCP_NODELAY on every connection); server.py does the same.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    # The same options as `fediverse-a2 serve` (server.py), access log included.
    options = {
        "log_level": "info",
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
        "http": args.http,
        "loop": args.loop,
    }
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
