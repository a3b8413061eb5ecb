"""The Starlette application: routes, and a lifespan that runs the background workers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.resources import files

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .federation.authorized_fetch import make_fetch_guard
from .federation.inbox import InboxEndpoint
from .federation.jsonld_worker import JsonLdWorker
from .federation.workers import Workers
from .runtime import Runtime
from .web.discovery import Discovery
from .web.feed import atom_feed
from .web.objects import Objects
from .web.pages import Pages
from .web.render import Renderer

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(rt: Runtime, *, run_workers: bool = True) -> Starlette:
    """Build the app around an opened Runtime; the caller owns (and closes) the Runtime."""
    workers = Workers(rt)
    jsonld = JsonLdWorker()
    renderer = Renderer(rt)
    pages = Pages(rt, renderer)
    objects = Objects(rt, pages, make_fetch_guard(rt, workers.directory.lookup_key))
    discovery = Discovery(rt)
    inbox = InboxEndpoint(rt, workers.directory, jsonld, workers.notify_inbox, workers.domain_seen)

    async def home(request: Request) -> Response:
        return await pages.home(request)

    async def feed(request: Request) -> Response:
        return await atom_feed(rt, request)

    async def not_found(request: Request, exc: Exception) -> Response:
        return pages.error(request, 404)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The JSON-LD process starts with the server, not on the first expensive document.
        await jsonld.start()
        if run_workers:
            await workers.start()
        try:
            yield
        finally:
            await workers.stop()
            workers.deliverer.close()
            jsonld.close()

    static = StaticFiles(directory=str(files("fediverse_a2.web") / "static"))
    routes = [
        Route("/", home),
        Route("/feed.atom", feed),
        Route("/actor", objects.instance_actor),
        Route("/inbox", inbox.shared, methods=["POST"]),
        Route("/users/{username}", objects.actor),
        Route("/users/{username}/inbox", inbox.personal, methods=["POST"]),
        Route("/users/{username}/{collection:str}", objects.collection),
        Route("/notes/{token:str}", objects.note),
        Route("/posts/{post_id:int}", objects.post),
        Route("/posts/{post_id:int}/replies", objects.replies),
        Route("/comments/{comment_id:int}", objects.comment),
        Route("/.well-known/webfinger", discovery.webfinger),
        Route("/.well-known/nodeinfo", discovery.nodeinfo_links),
        Route("/.well-known/host-meta", discovery.host_meta),
        Route("/nodeinfo/2.1", discovery.nodeinfo),
        Mount("/static", static, name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
    # Starlette's slash redirect builds its Location from the request's Host header; every
    # absolute URL we send must come from base_url instead.
    app.router.redirect_slashes = False
    app.state.rt = rt
    app.state.workers = workers
    return app
