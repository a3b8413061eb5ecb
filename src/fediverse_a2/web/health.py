"""/healthz, /metrics and /admin/health, and the timing of every request.

/healthz: JSON for load balancers and uptime checks (200 while the database answers, else 503).
/metrics: Prometheus' text format. Without `metrics.token` only a loopback peer that came
directly (no forwarding header: behind a reverse proxy every peer is the proxy, on loopback)
gets it; with a token, only a request that sends it (`Authorization: Bearer TOKEN`), from
anywhere. The token is the real protection; loopback-only is for a scraper on the same host.
/admin/health: the same numbers for admins, with the remote domains that fail.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import CONTENT_TYPE, Metrics
from ..netguard import is_loopback
from ..runtime import Runtime
from ..services import health
from .render import Renderer

__all__ = ["FORWARDING_HEADERS", "HealthPages", "RequestTiming", "route_group"]

# Headers a reverse proxy adds: a request that carries one did not come from the peer itself.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
_NO_STORE = {"Cache-Control": "no-store"}


def route_group(method: str, path: str) -> str:
    """The group a request is counted in (a small fixed set, never the path itself)."""
    if method == "POST" and (path == "/inbox" or (path.startswith("/users/") and path.endswith("/inbox"))):
        return "inbox"
    if path in ("/healthz", "/metrics"):
        return "monitoring"
    first = path.split("/", 2)[1] if path.count("/") else ""
    if first in (".well-known", "nodeinfo"):
        return "discovery"
    if first in ("media", "files", "static") or path == "/robots.txt":
        return "files"
    if first in ("api", "oauth"):
        return "api"
    if first in ("admin", "moderation"):
        return "admin"
    if path.endswith(".atom"):
        return "feeds"
    if first in ("users", "posts", "comments", "notes", "actor", "groups"):
        return "objects"  # pages and ActivityPub documents of actors, posts and comments
    return "pages"


class RequestTiming:
    """ASGI middleware: each HTTP request's duration (until its last byte is sent) and status class."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            group = route_group(scope["method"], scope["path"])
            self.metrics.request(group, status, time.perf_counter() - started)


class HealthPages:
    """GET /healthz, GET /metrics, GET /admin/health."""

    def __init__(self, rt: Runtime, render: Renderer) -> None:
        self.rt, self.render = rt, render
        self.token = rt.config.metrics.token

    async def healthz(self, request: Request) -> Response:
        """The process answers; whether the database does; the queues' depths and ages."""
        report = await health.check(self.rt)
        body: dict[str, Any] = {
            "status": "ok" if report.ok else "error",
            "database": "ok" if report.database else "unavailable",
            "schema": report.schema,
            "queues": {
                q.queue: {
                    "depth": q.depth,
                    "oldest_age_seconds": round(q.oldest_age, 3),
                    "lag_seconds": round(q.lag, 3),
                }
                for q in report.queues
            },
        }
        return Response(
            orjson.dumps(body), status_code=200 if report.ok else 503, media_type="application/json", headers=_NO_STORE
        )

    def _may_scrape(self, request: Request) -> bool:
        if self.token:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())
        peer = request.client.host if request.client else None
        return is_loopback(peer) and not any(name in request.headers for name in FORWARDING_HEADERS)

    async def metrics(self, request: Request) -> Response:
        """Prometheus' text format, for a loopback scraper or the bearer of `metrics.token`."""
        if not self._may_scrape(request):
            if self.token:
                return PlainTextResponse(
                    "a valid bearer token is required", status_code=401,
                    headers={**_NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"'},
                )  # fmt: skip
            return PlainTextResponse("only answered to loopback; set metrics.token", status_code=403, headers=_NO_STORE)
        return Response(await health.metrics_text(self.rt), media_type=CONTENT_TYPE, headers=_NO_STORE)

    async def admin(self, request: Request) -> Response:
        """The same numbers as /metrics for admins (the gate lets only them in), with the failing domains."""
        report = await health.check(self.rt)
        failing = await health.failing_domains(self.rt) if report.database else []
        return await self.render.page(
            request, "admin_health.html", status=200 if report.ok else 503, report=report, failing=failing,
            counts=self.rt.metrics.totals(),
        )  # fmt: skip
