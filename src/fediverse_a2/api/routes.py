"""Every endpoint of the client API, one line each: path, handler, who may call it, methods.

To add an endpoint: write `async def handler(call: ApiCall) -> Response` in the module of its
area and add a line here with its `Access` (`ANYONE`, `any_token(...)`, `member(scope, ...)`:
the gate's declarations, web/gate.py; tests/web/test_gate.py lists every route with its access).
Paths are full paths; a trailing slash is accepted by the frame.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services.oauth import OAuthService
from ..web.gate import Gate
from .accounts import AVATAR_LIMIT, AccountPages
from .finder import StatusFinder
from .frame import ANYONE, NO_TOKEN, ApiApp, Endpoint, any_token, member
from .instance import InstancePages
from .media import UPLOAD_LIMIT, MediaPages
from .notifications import NotificationPages
from .oauth import OAuthEndpoints
from .present import Presenter
from .search import SearchPages
from .status_actions import StatusActions
from .status_views import StatusViews
from .statuses import StatusPages
from .timelines import TimelinePages

__all__ = ["api_routes", "endpoints"]

GET, POST, PUT, DELETE = ("GET",), ("POST",), ("PUT",), ("DELETE",)
PATCH = ("PATCH", "PUT", "POST")  # clients differ in how they send update_credentials


def endpoints(rt: Runtime, directory: ActorDirectory, oauth: OAuthService) -> list[Endpoint]:
    """The API's endpoints."""
    present = Presenter(rt)
    views = StatusViews(rt, present)
    apps = OAuthEndpoints(oauth)
    instance = InstancePages(rt)
    accounts = AccountPages(rt, directory, present, views)
    finder = StatusFinder(rt)
    statuses = StatusPages(rt, directory, finder, views)
    around = StatusActions(rt, directory, finder, views, present)
    timelines = TimelinePages(rt, views)
    notices = NotificationPages(rt, present, views, finder)
    uploads = MediaPages(rt, views)
    finding = SearchPages(rt, directory, accounts, present, views, finder)
    e = Endpoint
    return [
        # OAuth and apps (the authorisation page itself is web/apps.py)
        e("/api/v1/apps", apps.register, NO_TOKEN, POST),
        e("/api/v1/apps/verify_credentials", apps.verify_app, any_token()),
        e("/oauth/token", apps.token, NO_TOKEN, POST),
        e("/oauth/revoke", apps.revoke, NO_TOKEN, POST),
        e("/.well-known/oauth-authorization-server", apps.metadata, NO_TOKEN),
        # the instance
        e("/api/v1/instance", instance.v1, ANYONE),
        e("/api/v2/instance", instance.v2, ANYONE),
        e("/api/v1/preferences", instance.preferences, member("read:accounts")),
        e("/api/v1/markers", instance.get_markers, member("read:statuses")),
        e("/api/v1/markers", instance.save_markers, member("write:statuses"), POST),
        e("/api/v1/custom_emojis", instance.empty, ANYONE),
        e("/api/v1/announcements", instance.empty, member("read")),
        e("/api/v1/lists", instance.empty, member("read:lists")),
        e("/api/v1/filters", instance.empty, member("read:filters")),
        e("/api/v2/filters", instance.empty, member("read:filters")),
        e("/api/v1/followed_tags", instance.empty, member("read:follows")),
        e("/api/v1/conversations", instance.empty, member("read:statuses")),
        # accounts
        e("/api/v1/accounts/verify_credentials", accounts.verify_credentials, member("read:accounts", "profile")),
        e(
            "/api/v1/accounts/update_credentials",
            accounts.update_credentials,
            member("write:accounts"),
            PATCH,
            body_limit=AVATAR_LIMIT,
            max_files=2,
        ),
        e("/api/v1/accounts/lookup", accounts.lookup, ANYONE),
        e("/api/v1/accounts/relationships", accounts.relationships, member("read:follows")),
        e("/api/v1/accounts/search", accounts.search, member("read:accounts")),
        e("/api/v1/accounts/{id}", accounts.account, ANYONE),
        e("/api/v1/accounts/{id}/statuses", accounts.statuses, ANYONE),
        e("/api/v1/accounts/{id}/followers", accounts.followers, ANYONE),
        e("/api/v1/accounts/{id}/following", accounts.following, ANYONE),
        e("/api/v1/accounts/{id}/follow", accounts.follow, member("write:follows"), POST),
        e("/api/v1/accounts/{id}/unfollow", accounts.unfollow, member("write:follows"), POST),
        e("/api/v1/follow_requests", accounts.follow_requests, member("read:follows")),
        e("/api/v1/follow_requests/{id}/authorize", accounts.authorize_request, member("write:follows"), POST),
        e("/api/v1/follow_requests/{id}/reject", accounts.reject_request, member("write:follows"), POST),
        # statuses
        e("/api/v1/statuses", statuses.create, member("write:statuses"), POST),
        e("/api/v1/statuses/{id}", statuses.show, ANYONE),
        e("/api/v1/statuses/{id}", statuses.edit, member("write:statuses"), PUT),
        e("/api/v1/statuses/{id}", statuses.delete, member("write:statuses"), DELETE),
        e("/api/v1/statuses/{id}/history", statuses.history, ANYONE),
        e("/api/v1/statuses/{id}/source", statuses.source, member("read:statuses")),
        e("/api/v1/statuses/{id}/context", around.context, ANYONE),
        e("/api/v1/statuses/{id}/favourite", around.favourite, member("write:favourites"), POST),
        e("/api/v1/statuses/{id}/unfavourite", around.unfavourite, member("write:favourites"), POST),
        e("/api/v1/statuses/{id}/reblog", around.reblog, member("write:statuses"), POST),
        e("/api/v1/statuses/{id}/unreblog", around.unreblog, member("write:statuses"), POST),
        e("/api/v1/statuses/{id}/favourited_by", around.favourited_by, ANYONE),
        e("/api/v1/statuses/{id}/reblogged_by", around.reblogged_by, ANYONE),
        # timelines
        e("/api/v1/timelines/home", timelines.home, member("read:statuses")),
        e("/api/v1/timelines/public", timelines.public, ANYONE),
        e("/api/v1/timelines/tag/{hashtag}", timelines.tag, ANYONE),
        # notifications
        e("/api/v1/notifications", notices.index, member("read:notifications")),
        e("/api/v1/notifications/clear", notices.clear, member("write:notifications"), POST),
        e("/api/v1/notifications/unread_count", notices.unread_count, member("read:notifications")),
        e("/api/v2/notifications", notices.grouped, member("read:notifications")),
        e("/api/v1/notifications/{id}", notices.show, member("read:notifications")),
        e("/api/v1/notifications/{id}/dismiss", notices.dismiss, member("write:notifications"), POST),
        # media
        e("/api/v1/media", uploads.upload, member("write:media"), POST, body_limit=UPLOAD_LIMIT, max_files=2),
        e("/api/v2/media", uploads.upload, member("write:media"), POST, body_limit=UPLOAD_LIMIT, max_files=2),
        e("/api/v1/media/{id}", uploads.show, member("write:media")),
        e("/api/v1/media/{id}", uploads.update, member("write:media"), PUT),
        # search
        e("/api/v2/search", finding.search, ANYONE),
    ]


def api_routes(rt: Runtime, directory: ActorDirectory, oauth: OAuthService, gate: Gate) -> list[BaseRoute]:
    """What app.py adds to its routes: every API path goes to the one ApiApp (CORS, tokens, JSON errors).

    Its endpoints are the gate's routes (the gate checks their tokens); `Gate.check` finds them
    through the ApiApp these routes hand over to.
    """
    api = ApiApp(rt, endpoints(rt, directory, oauth), gate)
    prefixes = ["/api/{rest:path}", "/oauth/token", "/oauth/token/", "/oauth/revoke", "/oauth/revoke/"]
    prefixes += ["/.well-known/oauth-authorization-server"]
    return [Route(path, api) for path in prefixes]
