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
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from .api.routes import api_routes
from .background.workers import Workers
from .federation.authorized_fetch import make_fetch_guard
from .federation.inbox import InboxEndpoint
from .federation.jsonld_worker import JsonLdWorker
from .runtime import Runtime
from .services.apps import token_grant
from .services.groups import ensure_network_group
from .services.oauth import OAuthService
from .store import search as search_index
from .store.db import DatabaseUnavailable
from .web.admin import AdminPages
from .web.apps import AppPages
from .web.archive_pages import ArchivePages
from .web.auth import AuthPages
from .web.comments import CommentPages
from .web.directory import DirectoryPages
from .web.discovery import Discovery
from .web.editor import Editor
from .web.events import EventPages
from .web.feed import atom_feed, member_feed, tag_feed
from .web.followers import FollowPages
from .web.gate import Access, Gate
from .web.groups import GroupPages
from .web.health import HealthPages, RequestTiming
from .web.home import HomePage
from .web.image_descriptions import ImageDescriptionPages
from .web.inbox_route import InboxEndpoints, InboxRoute
from .web.interact import InteractPages
from .web.legacy import LegacyLinks, legacy_routes
from .web.links import Links
from .web.media_files import MediaFiles
from .web.media_proxy import MediaProxyRoute
from .web.moderation import ModerationPages
from .web.moderation_lists import ModerationLists
from .web.notifications import NotificationPages
from .web.objects import Objects
from .web.pages import Pages
from .web.privacy import PrivacyPages
from .web.proxies import ClientAddress
from .web.render import Renderer
from .web.robots import Robots
from .web.search import SearchPage
from .web.security import RefuseNul, SecurityHeaders, WebSecurity, content_security_policy
from .web.settings import SettingsPages
from .web.site_files import SiteFiles
from .web.site_pages import SitePages
from .web.timeline import TimelinePages

__all__ = ["create_app"]

log = logging.getLogger(__name__)
GET_POST = ("GET", "POST")
POST = ("POST",)
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a PostgreSQL restart takes a few


def create_app(rt: Runtime, *, run_workers: bool = True) -> Starlette:
    """Build the app around an opened Runtime; the caller owns (and closes) the Runtime."""
    workers = Workers(rt)
    jsonld = JsonLdWorker()
    security = WebSecurity(rt, rt.web_secret)
    links = Links(rt.urls)
    renderer = Renderer(rt, security, links)
    pages = Pages(rt, renderer)
    gate = Gate(
        security,
        links,
        forbidden=lambda request: pages.error(request, 403),
        tokens=lambda bearer: token_grant(rt, bearer),
    )
    robots = Robots(gate)
    objects = Objects(rt, pages, make_fetch_guard(rt, workers.directory.lookup_key))
    discovery = Discovery(rt)
    inbox = InboxEndpoint(rt, workers.directory, jsonld, workers.notify_inbox, workers.domain_seen)
    inboxes = InboxEndpoints(inbox)
    auth = AuthPages(rt, renderer, security)
    editor = Editor(rt, renderer, security, pages)
    commenting = CommentPages(rt, renderer, security, pages, workers.directory)
    timeline = TimelinePages(rt, renderer, security, pages, workers.directory)
    settings = SettingsPages(rt, renderer, security, workers.directory)
    privacy = PrivacyPages(rt, renderer, security)
    notification_pages = NotificationPages(rt, renderer, security)
    admin = AdminPages(rt, renderer, security, pages)
    moderation = ModerationPages(rt, renderer, security, pages, workers.directory)
    moderation_lists = ModerationLists(rt, renderer, security, pages, workers.directory)
    interact = InteractPages(rt, renderer, security, pages)
    follow_pages = FollowPages(rt, renderer, security, workers.directory)
    media_files = MediaFiles(rt)
    media_proxy = MediaProxyRoute(rt)
    search_page = SearchPage(rt, renderer)
    archive = ArchivePages(rt, renderer, pages)
    group_pages = GroupPages(rt, renderer, security, pages)
    site_page_view = SitePages(rt, renderer, pages)
    event_pages = EventPages(rt, renderer, security, pages, objects.guard, workers.directory)
    oauth = OAuthService(rt)
    app_pages = AppPages(rt, renderer, security, oauth)
    home_page = HomePage(rt, renderer)
    directory = DirectoryPages(rt, renderer)
    site_files = SiteFiles(rt)
    image_pages = ImageDescriptionPages(rt, renderer, security)
    health = HealthPages(rt, renderer)

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
        headers = exc.headers if isinstance(exc, HTTPException) else None  # Allow: POST on a 405
        if status == 404:
            response = await pages.error(request, 404)
        elif "text/html" in request.headers.get("accept", ""):
            detail = str(exc.detail) if isinstance(exc, HTTPException) else "error"
            response = await pages.error(request, status, detail=detail)
        else:
            response = PlainTextResponse(str(exc.detail) if isinstance(exc, HTTPException) else "error", status)
        response.headers.update(headers or {})
        return response

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
    V, M, MOD, ADMIN, SIGNED = Access.VISITOR, Access.MEMBER, Access.MODERATOR, Access.ADMIN, Access.SIGNED
    r = gate.route
    # The route table: every route with who may use it (web/gate.py). The inboxes answer GET with
    # 405 (Allow: POST); a member's collections are named so that /users/NAME/inbox is not one.
    routes: list[BaseRoute] = [
        r("/", home_page.page, V),
        r("/favicon.ico", site_files.favicon, V),
        r("/manifest.webmanifest", site_files.manifest, V),
        r("/members", directory.members, V),
        r("/groups", directory.groups, V),
        r("/robots.txt", robots.get, V),
        r("/feed.atom", feed, V),
        r("/actor", objects.instance_actor, V),
        r("/inbox", inboxes.shared, SIGNED, methods=POST),
        r("/users/{username}", objects.actor, V),
        r("/users/{username}/inbox", inboxes.personal, SIGNED, methods=POST),
        r("/users/{username}/feed.atom", feed_of_member, V),
        r("/users/{username}/outbox", objects.collection, V),
        r("/users/{username}/followers", objects.collection, V),
        r("/users/{username}/following", objects.collection, V),
        r("/notes/{token:str}", objects.note, V),
        r("/posts/new", editor.new, M, methods=GET_POST),
        r("/posts/{post_id:id}", objects.post, V),
        r("/posts/{post_id:id}/replies", objects.replies, V),
        r("/posts/{post_id:id}/edit", editor.edit, M, methods=GET_POST),
        r("/posts/{post_id:id}/delete", editor.delete, M, methods=GET_POST),
        r("/posts/{post_id:id}/comments", commenting.on_post, M, methods=POST),
        r("/comments/{comment_id:id}", objects.comment, V),
        r("/comments/{comment_id:id}/delete", commenting.delete, M, methods=GET_POST),
        r("/events", event_pages.index, V),
        r("/events.ics", event_pages.calendar_all, V),
        r("/events/new", event_pages.new, M, methods=GET_POST),
        r("/events/{event_id:id}", event_pages.show, V),
        r("/events/{event_id:id}.ics", event_pages.calendar_one, V),
        r("/events/{post_id:id}/replies", objects.replies, V),
        r("/events/{event_id:id}/rsvp", event_pages.rsvp, M, methods=POST),
        r("/events/{event_id:id}/comments", event_pages.comment, M, methods=POST),
        r("/events/{event_id:id}/edit", event_pages.edit, M, methods=GET_POST),
        r("/events/{event_id:id}/cancel", event_pages.cancel, M, methods=GET_POST),
        r("/reply", commenting.reply, M, methods=GET_POST),
        r("/timeline", timeline.timeline, M),
        r("/network", timeline.network, M),
        r("/timeline/react", timeline.react, M, methods=POST),
        r("/timeline/reply", timeline.reply, M, methods=GET_POST),
        r("/login", auth.login, V, methods=GET_POST),
        r("/logout", auth.logout, V, methods=POST),
        r("/invite/{token:str}", auth.invite, V, methods=GET_POST),
        r("/password/forgot", auth.forgot, V, methods=GET_POST),
        r("/password/reset/{token:str}", auth.reset, V, methods=GET_POST),
        r("/join", auth.join, V, methods=GET_POST),
        r("/settings/profile", settings.profile, M, methods=GET_POST),
        r("/settings/profile/fields", settings.hidden_field, M, methods=POST),
        r("/settings/password", settings.password, M, methods=GET_POST),
        r("/settings/export", privacy.export, M, methods=GET_POST),
        r("/settings/delete", privacy.delete, M, methods=GET_POST),
        r("/privacy", privacy.statement, V),
        r("/settings/notifications", notification_pages.settings, M, methods=GET_POST),
        r("/settings/moderation", moderation.settings, M, methods=GET_POST),
        r("/settings/apps", app_pages.settings, M),
        r("/settings/apps/revoke", app_pages.revoke, M, methods=GET_POST),
        r("/settings/images", image_pages.page, M, methods=GET_POST),
        # The app's request is checked before signing in (a bad one is never redirected): the page sends
        # a visitor on to sign in itself.
        r("/oauth/authorize", app_pages.authorize, V, methods=GET_POST),
        r("/oauth/authorize/", app_pages.authorize, V, methods=GET_POST),  # as toot asks for it
        r("/notifications", notification_pages.list, M),
        r("/notifications/read", notification_pages.mark_read, M, methods=POST),
        r("/admin/requests", admin.requests, ADMIN, methods=GET_POST),
        r("/admin/requests/reject", admin.reject, ADMIN, methods=GET_POST),
        r("/admin/members", admin.members, ADMIN, methods=GET_POST),
        r("/admin/federation", admin.federation, ADMIN, methods=GET_POST),
        r("/admin/queue", admin.queue, ADMIN),
        r("/admin/health", health.admin, ADMIN),
        r("/healthz", health.healthz, V),
        # Declared open: the handler admits only a scraper (a direct loopback peer, or the bearer of
        # metrics.token: web/health.py) and refuses everyone else.
        r("/metrics", health.metrics, V),
        r("/moderation", moderation.queue, M),
        r("/moderation/comments/{comment_id:id}", moderation.comment, M, methods=GET_POST),
        r("/moderation/comments/{comment_id:id}/delete", moderation.delete, M, methods=GET_POST),
        r("/moderation/block", moderation_lists.block, MOD, methods=GET_POST),
        r("/moderation/blocks", moderation_lists.blocks, MOD, methods=GET_POST),
        r("/moderation/reports", moderation_lists.reports, MOD, methods=GET_POST),
        r("/moderation/log", moderation_lists.log, MOD),
        r("/interact", interact.interact, V, methods=GET_POST),
        r("/followers", follow_pages.followers, M, methods=GET_POST),
        r("/following", follow_pages.following, M, methods=GET_POST),
        r("/followers/remove", follow_pages.remove_follower, M, methods=GET_POST),
        r("/following/remove", follow_pages.unfollow, M, methods=GET_POST),
        r("/groups/{username:str}", group_pages.page, V),
        r("/groups/{username:str}/remove", group_pages.remove, M, methods=GET_POST),
        # A members-only group's page decides itself (its members; a visitor is asked to sign in).
        r("/groups/{username:str}/join", group_pages.join, M, methods=POST),
        r("/groups/{username:str}/requests", group_pages.requests, M, methods=GET_POST),
        r("/pages/{slug:str}", site_page_view.page, V),
        r("/tags/{tag:str}", pages.tag, V),
        r("/tags/{tag:str}/feed.atom", feed_of_tag, V),
        r("/search", search_page.search, V),
        r("/archive", archive.index, V),
        r("/archive/{year:int}/{month:int}", archive.month, V),
        r("/media/{name:str}", media_files.get, V),
        r("/media/proxy/{kind:str}/{signature:str}/{encoded:str}", media_proxy.get, V),
        r("/.well-known/webfinger", discovery.webfinger, V),
        r("/.well-known/nodeinfo", discovery.nodeinfo_links, V),
        r("/.well-known/host-meta", discovery.host_meta, V),
        r("/nodeinfo/2.1", discovery.nodeinfo, V),
        *(r(path, endpoint, V) for path, endpoint in legacy_routes(LegacyLinks(rt))),
        # The client API: /api/…, /oauth/token, /oauth/revoke; each endpoint declared in api/routes.py.
        *api_routes(rt, workers.directory, oauth, gate),
        Mount("/static", static, name="static"),
    ]
    Gate.check(routes)  # an undeclared route cannot ship: the app is not built
    csp = content_security_policy(allow_http=rt.config.federation.allow_private_network)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: refused, DatabaseUnavailable: unavailable},
        # Timing outermost: a request's duration includes every middleware's work.
        middleware=[
            Middleware(RequestTiming, metrics=rt.metrics),
            Middleware(ClientAddress, trusted=rt.config.server.trusted_proxies),
            Middleware(SecurityHeaders, csp=csp),
            Middleware(RefuseNul),
            # POSTs to /inbox and /users/{username}/inbox: below Starlette's routing (web/inbox_route.py).
            Middleware(InboxRoute, endpoint=inbox),
        ],
    )
    # Starlette's slash redirect builds its Location from the request's Host header; every
    # absolute URL we send must come from base_url instead.
    app.router.redirect_slashes = False
    app.state.rt = rt
    app.state.workers = workers
    app.state.jsonld = jsonld  # tests pause its process to see others served meanwhile
    app.state.gate = gate  # every route it made, with its access (tests enumerate them)
    return app
