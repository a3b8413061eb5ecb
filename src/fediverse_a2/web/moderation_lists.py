"""Moderator pages that are lists: blocked actors (block from the web), reports received, the audit log."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..runtime import Runtime
from ..services import comment_moderation as cm
from ..services.moderation import block_actor, list_actor_blocks, list_reports, set_domain, unblock_actor
from ..store.reports import Report
from .forms import field
from .gate import member_of
from .ids import parse_id
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["ModerationLists"]

LOG_PAGE = 100
_BLOCK_ACTIONS = ("block_actor", "unblock_actor", "block_domain")
_DONE = frozenset({*_BLOCK_ACTIONS, "resolved", "dismissed"})


@dataclass(frozen=True, slots=True)
class ReportView:
    """A received report as its page shows it: what it names, as links only when they are web addresses."""

    row: Report
    objects: list[tuple[str, bool]]


def _report_view(report: Report) -> ReportView:
    try:
        items = orjson.loads(report.objects)
    except orjson.JSONDecodeError:
        items = []
    names = [i for i in items if isinstance(i, str)] if isinstance(items, list) else []
    return ReportView(report, [(n, n.startswith(("https://", "http://"))) for n in names])


class ModerationLists:
    """/moderation/blocks, /moderation/reports and /moderation/log (moderators and admins)."""

    def __init__(
        self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages, directory: ActorDirectory
    ) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.directory = directory

    def _done(self, request: Request) -> str | None:
        value = request.query_params.get("done")
        return value if value in _DONE else None

    async def blocks(self, request: Request) -> Response:
        """GET: the blocked actors; POST: block or unblock an actor, or block a domain (as the CLI does)."""
        member = member_of(request)
        error = None
        if request.method == "POST":
            form = await self.security.form(request)
            action, target = field(form, "action", 40), field(form, "target", 1000)
            try:
                if not target:
                    raise UserError("give a handle, an address or a domain", key="block_target_missing")
                if action == "block_actor":
                    await block_actor(self.rt, self.directory, target, by=member.username)
                elif action == "unblock_actor":
                    await unblock_actor(self.rt, self.directory, target, by=member.username)
                elif action == "block_domain":
                    await set_domain(self.rt, "block", target, by=member.username)
                else:
                    raise UserError("unknown action", key="moderation_not_allowed")
                return RedirectResponse(f"{self.rt.urls.base}/moderation/blocks?done={action}", status_code=303)
            except UserError as exc:  # also an actor that cannot be looked up
                error = self.render.error_text(request, exc)
        return await self.render.page(
            request, "moderation_blocks.html", status=400 if error else 200, blocks=await list_actor_blocks(self.rt),
            error=error, done=self._done(request),
        )  # fmt: skip

    async def reports(self, request: Request) -> Response:
        """GET: reports received, newest first; POST: resolve or dismiss one, with a note."""
        member = member_of(request)
        error = None
        if request.method == "POST":
            form = await self.security.form(request)
            raw_id, resolution = field(form, "report", 20), field(form, "resolution", 20)
            try:
                report_id = parse_id(raw_id)
                if report_id is None:
                    raise UserError("no such report", key="report_unknown")
                await cm.resolve_report(self.rt, member, report_id, resolution, field(form, "note", 2000))
                return RedirectResponse(f"{self.rt.urls.base}/moderation/reports?done={resolution}", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        views = [_report_view(r) for r in await list_reports(self.rt)]
        return await self.render.page(
            request, "moderation_reports.html", status=400 if error else 200, reports=views, error=error,
            done=self._done(request),
        )  # fmt: skip

    async def log(self, request: Request) -> Response:
        """The audit log, newest first, a page at a time (?before=ID)."""
        before = parse_id(request.query_params.get("before"))
        entries = await cm.audit_entries(self.rt, LOG_PAGE + 1, before)
        more = entries[LOG_PAGE - 1].id if len(entries) > LOG_PAGE else None
        return await self.render.page(request, "moderation_log.html", entries=entries[:LOG_PAGE], more=more)
