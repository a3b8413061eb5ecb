"""`fediverse-a2 serve`: uvicorn around the app, with the Runtime opened in its event loop."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from .app import create_app
from .config import Config
from .runtime import Runtime
from .store import members

__all__ = ["serve"]


async def _serve(config: Config, host: str, port: int) -> None:
    rt = await Runtime.open(config)
    try:
        if await members.count(rt.db) == 0:
            print(
                "No members yet. Add one with:\n"
                '  fediverse-a2 member add USERNAME --name "Display Name"\n'
                "then publish with:\n"
                '  fediverse-a2 post USERNAME --title "Title" --body "Text in Markdown"',
                file=sys.stderr,
                flush=True,
            )
        app = create_app(rt)
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=port, log_level="info", proxy_headers=False,
                server_header=False, timeout_graceful_shutdown=5,
            )
        )
        print(f"fediverse-a2 serving {config.instance.base_url} on http://{host}:{port}", file=sys.stderr, flush=True)
        await server.serve()
    finally:
        await rt.close()


def serve(config: Config, host: str | None, port: int | None) -> None:
    """Run the web server and the workers until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config, host or config.server.host, port or config.server.port))
