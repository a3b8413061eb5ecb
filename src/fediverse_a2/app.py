"""The Starlette application: routes, security headers, and a lifespan that runs the background workers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.resources import files

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .api.routes import api_routes
from .background.workers import Workers
from .federation.authorized_fetch import make_fetch_guard
from .federation.inbox import InboxEndpoint
from .federation.jsonld_worker import JsonLdWorker
from .runtime import Runtime
from .services.groups import ensure_network_group
from .services.oauth import OAuthService
from .store import search as search_index
from .store.db import DatabaseUnavailable
from .web.admin import AdminPages
from .web.apps import AppPages
from .web.archive_pages import ArchivePages
from .web.auth import AuthPages
from .web.comments import CommentPages
from .web.discovery import Discovery
from .web.editor import Editor
from .web.feed import atom_feed, member_feed, tag_feed
from .web.followers import FollowPages
from .web.groups import GroupPages
from .web.inbox_route import InboxRoute
from .web.interact import InteractPages
from .web.legacy import LegacyLinks, legacy_routes
from .web.media_files import MediaFiles
from .web.moderation import ModerationPages
from .web.moderation_lists import ModerationLists
from .web.notifications import NotificationPages
from .web.objects import Objects
from .web.pages import Pages
from .web.proxies import ClientAddress
from .web.render import Renderer
from .web.search import SearchPage
from .web.security import SecurityHeaders, WebSecurity, content_security_policy
from .web.settings import SettingsPages
from .web.timeline import TimelinePages

__all__ = ["create_app"]

log = logging.getLogger(__name__)
GET_POST = ["GET", "POST"]
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a PostgreSQL restart takes a few


def create_app(rt: Runtime, *, run_workers: bool = True) -> Starlette:
    """Build the app around an opened Runtime; the caller owns (and closes) the Runtime."""
    workers = Workers(rt)
    jsonld = JsonLdWorker()
    security = WebSecurity(rt, rt.web_secret)
    renderer = Renderer(rt, security)
    pages = Pages(rt, renderer)
    objects = Objects(rt, pages, make_fetch_guard(rt, workers.directory.lookup_key))
    discovery = Discovery(rt)
    inbox = InboxEndpoint(rt, workers.directory, jsonld, workers.notify_inbox, workers.domain_seen)
    auth = AuthPages(rt, renderer, security)
    editor = Editor(rt, renderer, security, pages)
    commenting = CommentPages(rt, renderer, security, pages, workers.directory)
    timeline = TimelinePages(rt, renderer, security, pages, workers.directory)
    settings = SettingsPages(rt, renderer, security)
    notification_pages = NotificationPages(rt, renderer, security)
    admin = AdminPages(rt, renderer, security, pages)
    moderation = ModerationPages(rt, renderer, security, pages, workers.directory)
    moderation_lists = ModerationLists(rt, renderer, security, pages, workers.directory)
    interact = InteractPages(rt, renderer, security, pages)
    follow_pages = FollowPages(rt, renderer, security, workers.directory)
    media_files = MediaFiles(rt)
    search_page = SearchPage(rt, renderer)
    archive = ArchivePages(rt, renderer, pages)
    group_pages = GroupPages(rt, renderer, security, pages)
    oauth = OAuthService(rt)
    app_pages = AppPages(rt, renderer, security, oauth)

    async def home(request: Request) -> Response:
        return await pages.home(request)

    async def feed(request: Request) -> Response:
        return await atom_feed(rt, request)

    async def feed_of_member(request: Request) -> Response:
        return await member_feed(rt, request)

    async def feed_of_tag(request: Request) -> Response:
        return await tag_feed(rt, request)

    async def unavailable(request: Request, exc: Exception) -> Response:
        # The database server is restarting: answer at once (never hang), and say when to come back.
        text = renderer.text(request, "unavailable_text")
        return PlainTextResponse(text, status_code=503, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})

    async def refused(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return await pages.error(request, 404)
        detail = str(exc.detail) if isinstance(exc, HTTPException) else "error"
        if "text/html" in request.headers.get("accept", ""):
            return await pages.error(request, status, detail=detail)
        return PlainTextResponse(detail, status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The JSON-LD process starts with the server, not on the first expensive document.
        await jsonld.start()
        # Rows stored before search existed (schema 5 and older) are indexed once.
        await search_index.reindex_if_pending(rt.db)
        await ensure_network_group(rt)  # @netwerk@HOST exists from the first start
        if run_workers:
            await workers.start()
        else:
            await workers.start_beside()
        try:
            yield
        finally:
            await workers.stop()
            jsonld.close()

    static = StaticFiles(directory=str(files("fediverse_a2.web") / "static"))
    routes = [
        Route("/", home),
        Route("/feed.atom", feed),
        Route("/actor", objects.instance_actor),
        Route("/users/{username}", objects.actor),
        Route("/users/{username}/feed.atom", feed_of_member),
        Route("/users/{username}/{collection:str}", objects.collection),
        Route("/notes/{token:str}", objects.note),
        Route("/posts/new", editor.new, methods=GET_POST),
        Route("/posts/{post_id:int}", objects.post),
        Route("/posts/{post_id:int}/replies", objects.replies),
        Route("/posts/{post_id:int}/edit", editor.edit, methods=GET_POST),
        Route("/posts/{post_id:int}/delete", editor.delete, methods=["POST"]),
        Route("/posts/{post_id:int}/comments", commenting.on_post, methods=["POST"]),
        Route("/comments/{comment_id:int}", objects.comment),
        Route("/reply", commenting.reply, methods=GET_POST),
        Route("/timeline", timeline.timeline),
        Route("/network", timeline.network),
        Route("/timeline/react", timeline.react, methods=["POST"]),
        Route("/timeline/reply", timeline.reply, methods=GET_POST),
        Route("/login", auth.login, methods=GET_POST),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/invite/{token:str}", auth.invite, methods=GET_POST),
        Route("/join", auth.join, methods=GET_POST),
        Route("/settings/profile", settings.profile, methods=GET_POST),
        Route("/settings/password", settings.password, methods=GET_POST),
        Route("/settings/notifications", notification_pages.settings, methods=GET_POST),
        Route("/settings/apps", app_pages.settings, methods=GET_POST),
        Route("/oauth/authorize", app_pages.authorize, methods=GET_POST),
        Route("/notifications", notification_pages.list),
        Route("/notifications/read", notification_pages.mark_read, methods=["POST"]),
        Route("/admin/requests", admin.requests, methods=GET_POST),
        Route("/admin/members", admin.members, methods=GET_POST),
        Route("/admin/federation", admin.federation, methods=GET_POST),
        Route("/admin/queue", admin.queue),
        Route("/moderation", moderation.queue),
        Route("/moderation/comments/{comment_id:int}", moderation.comment, methods=GET_POST),
        Route("/moderation/blocks", moderation_lists.blocks, methods=GET_POST),
        Route("/moderation/reports", moderation_lists.reports, methods=GET_POST),
        Route("/moderation/log", moderation_lists.log),
        Route("/settings/moderation", moderation.settings, methods=GET_POST),
        Route("/interact", interact.interact, methods=GET_POST),
        Route("/followers", follow_pages.followers, methods=GET_POST),
        Route("/following", follow_pages.following, methods=GET_POST),
        Route("/groups/{username:str}", group_pages.page),
        Route("/groups/{username:str}/remove", group_pages.remove, methods=["POST"]),
        Route("/tags/{tag:str}", pages.tag),
        Route("/tags/{tag:str}/feed.atom", feed_of_tag),
        Route("/search", search_page.search),
        Route("/archive", archive.index),
        Route("/archive/{year:int}/{month:int}", archive.month),
        Route("/media/{name:str}", media_files.get),
        Route("/.well-known/webfinger", discovery.webfinger),
        Route("/.well-known/nodeinfo", discovery.nodeinfo_links),
        Route("/.well-known/host-meta", discovery.host_meta),
        Route("/nodeinfo/2.1", discovery.nodeinfo),
        *legacy_routes(LegacyLinks(rt)),
        *api_routes(rt, workers.directory, oauth),  # the client API: /api/…, /oauth/token, /oauth/revoke
        Mount("/static", static, name="static"),
    ]
    csp = content_security_policy(allow_http=rt.config.federation.allow_private_network)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: refused, DatabaseUnavailable: unavailable},
        middleware=[
            Middleware(ClientAddress, trusted=rt.config.server.trusted_proxies),
            Middleware(SecurityHeaders, csp=csp),
            # POST /inbox and /users/{username}/inbox: below Starlette's routing (web/inbox_route.py).
            Middleware(InboxRoute, endpoint=inbox),
        ],
    )
    # Starlette's slash redirect builds its Location from the request's Host header; every
    # absolute URL we send must come from base_url instead.
    app.router.redirect_slashes = False
    app.state.rt = rt
    app.state.workers = workers
    return app
