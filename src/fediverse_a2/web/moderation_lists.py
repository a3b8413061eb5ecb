"""Moderator pages that are lists: blocked actors (block from the web), reports received, the audit log."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..i18n import has_text, translate
from ..runtime import Runtime
from ..services import comment_moderation as cm
from ..services.moderation import (
    block_actor,
    checked_domain,
    list_actor_blocks,
    list_reports,
    set_domain,
    unblock_actor,
)
from ..store.audit import AuditEntry
from ..store.reports import Report
from .confirm import Ask, ask
from .forms import field
from .gate import member_of
from .ids import parse_id
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["ModerationLists"]

LOG_PAGE = 100
_BLOCK_ACTIONS = ("block_actor", "unblock_actor", "block_domain")
_BLOCK_KINDS = ("actor", "domain")
_DONE = frozenset({*_BLOCK_ACTIONS, "resolved", "dismissed"})


@dataclass(frozen=True, slots=True)
class ReportView:
    """A received report as its page shows it: what it names, as links only when they are web addresses."""

    row: Report
    objects: list[tuple[str, bool]]


@dataclass(frozen=True, slots=True)
class AuditView:
    """An audit log entry in the page's language: the stored codes and counts in words."""

    id: int
    at: float
    who: str
    what: str
    target: str
    detail: str


# The details the services write in English (the command line's log), read back as counts.
_REMOVED = re.compile(r"(?:removed )?(\d+) follower\(s\)|removed (\d+)")
_IMPORTED = re.compile(r"(\d+) added")
_IN_CSV = re.compile(r"(\d+) block\(s\) in the CSV")
_REPORT = re.compile(r"report #(\d+)")


def audit_view(lang: str, entry: AuditEntry) -> AuditView:
    """What the log page shows of an entry: who ("opdrachtregel" for the CLI), what, on what, details."""
    t = translate
    who = t(lang, "audit_cli") if entry.actor == "cli" else entry.actor
    key = f"audit_{entry.action}"
    what = t(lang, key) if has_text(key) else entry.action
    target, detail = entry.target, entry.detail
    if entry.action in ("domain_block", "actor_block") and (removed := _REMOVED.fullmatch(detail)):
        detail = t(lang, "audit_removed_followers", n=removed[1] or removed[2])
    elif entry.action == "domain_import":
        added, total = _IMPORTED.fullmatch(detail), _IN_CSV.fullmatch(target)
        if added and total:
            target, detail = t(lang, "audit_csv"), t(lang, "audit_imported", n=added[1], total=total[1])
    elif entry.action.startswith("report_") and (report := _REPORT.fullmatch(target)):
        target = t(lang, "audit_report", n=report[1])
    elif entry.action == "member_role" and has_text(f"role_{detail}"):
        detail = t(lang, "audit_role", role=t(lang, f"role_{detail}"))
    return AuditView(entry.id, entry.at, who, what, target, detail)


def _report_view(report: Report) -> ReportView:
    try:
        items = orjson.loads(report.objects)
    except orjson.JSONDecodeError:
        items = []
    names = [i for i in items if isinstance(i, str)] if isinstance(items, list) else []
    return ReportView(report, [(n, n.startswith(("https://", "http://"))) for n in names])


class ModerationLists:
    """/moderation/blocks (and /moderation/block), /moderation/reports and /moderation/log (moderators, admins)."""

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
        """GET: the blocked actors and the block form (it asks first, at /moderation/block); POST: unblock."""
        member = member_of(request)
        error = None
        target = ""
        if request.method == "POST":
            form = await self.security.form(request)
            action, target = field(form, "action", 40), field(form, "target", 1000)
            try:
                if not target:
                    raise UserError("give a handle, an address or a domain", key="block_target_missing")
                if action != "unblock_actor":
                    raise UserError("unknown action", key="moderation_not_allowed")
                await unblock_actor(self.rt, self.directory, target, by=member.username)
                return RedirectResponse(f"{self.rt.urls.base}/moderation/blocks?done={action}", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        return await self._blocks_page(request, error, "")

    async def _blocks_page(self, request: Request, error: str | None, target: str) -> Response:
        return await self.render.page(
            request, "moderation_blocks.html", status=400 if error else 200, blocks=await list_actor_blocks(self.rt),
            error=error, done=self._done(request), target=target,
        )  # fmt: skip

    async def block(self, request: Request) -> Response:
        """GET ?kind=actor|domain&target=…: asks first; POST: blocks the account or the server (as the CLI)."""
        member = member_of(request)
        if request.method == "POST":
            form = await self.security.form(request)
            kind, target = field(form, "kind", 10), field(form, "target", 1000)
        else:
            params = request.query_params
            kind = params.get("kind", "")[:10]
            target = (params.get("target") or params.get("domain") or "").strip()[:1000]
        try:
            if not target:
                raise UserError("give a handle, an address or a domain", key="block_target_missing")
            if kind not in _BLOCK_KINDS:
                raise UserError("unknown action", key="moderation_not_allowed")
            if kind == "domain":
                target = checked_domain(target)
            if request.method == "GET":
                return await ask(self.render, request, self._block_question(request, kind, target))
            if kind == "actor":
                await block_actor(self.rt, self.directory, target, by=member.username)
            else:
                await set_domain(self.rt, "block", target, by=member.username)
        except UserError as exc:  # also an actor that cannot be looked up
            return await self._blocks_page(request, self.render.error_text(request, exc), target)
        return RedirectResponse(f"{self.rt.urls.base}/moderation/blocks?done=block_{kind}", status_code=303)

    def _block_question(self, request: Request, kind: str, target: str) -> Ask:
        t = functools.partial(self.render.text, request)
        title = t("block_actor_title", name=target) if kind == "actor" else t("block_domain_title", domain=target)
        return Ask(
            title, t(f"block_{kind}_explain"), t("block_confirm"), "/moderation/blocks",
            fields=(("kind", kind), ("target", target)),
        )  # fmt: skip

    async def reports(self, request: Request) -> Response:
        """GET: reports received, newest first; POST: resolve or dismiss one, with a note."""
        member = member_of(request)
        error = None
        typed: tuple[int | None, str] = (None, "")  # the note written for a report, kept when refused
        if request.method == "POST":
            form = await self.security.form(request)
            raw_id, resolution = field(form, "report", 20), field(form, "resolution", 20)
            try:
                report_id = parse_id(raw_id)
                typed = (report_id, field(form, "note", 2000))
                if report_id is None:
                    raise UserError("no such report", key="report_unknown")
                await cm.resolve_report(self.rt, member, report_id, resolution, typed[1])
                return RedirectResponse(f"{self.rt.urls.base}/moderation/reports?done={resolution}", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        views = [_report_view(r) for r in await list_reports(self.rt)]
        return await self.render.page(
            request, "moderation_reports.html", status=400 if error else 200, reports=views, error=error,
            done=self._done(request), typed_for=typed[0], typed_note=typed[1],
        )  # fmt: skip

    async def log(self, request: Request) -> Response:
        """The audit log, newest first, a page at a time (?before=ID)."""
        before = parse_id(request.query_params.get("before"))
        entries = await cm.audit_entries(self.rt, LOG_PAGE + 1, before)
        more = entries[LOG_PAGE - 1].id if len(entries) > LOG_PAGE else None
        lang = self.render.language(request)
        views = [audit_view(lang, e) for e in entries[:LOG_PAGE]]
        return await self.render.page(request, "moderation_log.html", entries=views, more=more)
