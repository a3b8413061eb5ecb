"""Admin pages: membership requests (approve creates the member and an invitation link), members
(role, disable), the federation policy (mode, rules, CSV import) and the delivery queue."""

from __future__ import annotations

import functools

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..models import ROLES
from ..runtime import Runtime
from ..services import member_admin
from ..services.membership import approve, pending_requests, reject
from ..services.moderation import ACTIONS as DOMAIN_ACTIONS
from ..services.moderation import import_domains, list_domains, set_domain
from .confirm import Ask, ask
from .forms import field
from .gate import member_of
from .ids import parse_id
from .pages import Pages
from .render import Renderer
from .security import WebSecurity

__all__ = ["AdminPages"]

CSV_LIMIT = 5_000_000  # a Mastodon export of thousands of blocks is a few hundred kB
_DONE = frozenset({"role", "disable", "enable", "import", *DOMAIN_ACTIONS})


def _done(request: Request) -> str | None:
    value = request.query_params.get("done")
    return value if value in _DONE else None


class AdminPages:
    """/admin/requests, /admin/members, /admin/federation and /admin/queue (admins only)."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages

    async def requests(self, request: Request) -> Response:
        """GET: the waiting requests; POST: approve (with a username) or reject one."""
        admin = member_of(request)
        approved = error = None
        request_id, typed = None, ""
        if request.method == "POST":
            form = await self.security.form(request)
            request_id, decision, username = parse_id(form.get("request")), form.get("decision"), form.get("username")
            typed = username[:100] if isinstance(username, str) else ""
            try:
                if request_id is None:
                    raise UserError("no such request", key="request_not_pending")
                if decision == "approve":
                    chosen = username.strip() if isinstance(username, str) and username.strip() else None
                    member, link = await approve(self.rt, request_id, admin, chosen)
                    approved = (member, link)
                else:  # rejecting is asked first: /admin/requests/reject
                    raise UserError("choose approve or reject", key="request_not_pending")
            except UserError as exc:
                error = self.render.error_text(request, exc)
        return await self.render.page(
            request, "admin_requests.html", status=400 if error else 200, requests=await pending_requests(self.rt),
            approved=approved, error=error, typed_for=request_id if error else None, typed_username=typed,
        )  # fmt: skip

    async def reject(self, request: Request) -> Response:
        """GET ?request=ID: asks first; POST: the membership request is turned down."""
        admin = member_of(request)
        if request.method == "POST":
            form = await self.security.form(request)
            request_id = parse_id(form.get("request"))
        else:
            request_id = parse_id(request.query_params.get("request"))
        waiting = await pending_requests(self.rt)
        found = next((r for r in waiting if r.id == request_id), None)
        if found is None:
            error = self.render.text(request, "request_not_pending")
            return await self.render.page(request, "admin_requests.html", status=404, requests=waiting, error=error)
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("request_reject_title", name=found.name), t("request_reject_explain"), t("request_reject_confirm"),
                "/admin/requests", fields=(("request", str(found.id)),), quote=found.motivation[:500],
            )  # fmt: skip
            return await ask(self.render, request, question)
        try:
            await reject(self.rt, found.id, admin)
        except UserError as exc:  # decided meanwhile
            return await self.render.page(
                request, "admin_requests.html", status=400, requests=await pending_requests(self.rt),
                error=self.render.error_text(request, exc),
            )  # fmt: skip
        return RedirectResponse(f"{self.rt.urls.base}/admin/requests", status_code=303)

    async def members(self, request: Request) -> Response:
        """GET: every member with role and state; POST: change a role, disable or enable (as `member ...`)."""
        admin = member_of(request)
        error = None
        if request.method == "POST":
            form = await self.security.form(request)
            username, action = field(form, "username", 100), field(form, "action", 20)
            try:
                if action == "role":
                    await member_admin.change_role(self.rt, admin, username, field(form, "role", 20))
                elif action in ("disable", "enable"):
                    await member_admin.set_disabled(self.rt, admin, username, action == "disable")
                else:
                    raise UserError("unknown action", key="moderation_not_allowed")
                return RedirectResponse(f"{self.rt.urls.base}/admin/members?done={action}", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        return await self.render.page(
            request, "admin_members.html", status=400 if error else 200,
            members=await member_admin.all_members(self.rt), roles=ROLES, error=error, done=_done(request),
        )  # fmt: skip

    async def federation(self, request: Request) -> Response:
        """GET: the mode and every rule in force with its source; POST: change a rule or import a CSV."""
        admin = member_of(request)
        error = imported = None
        domain = ""
        if request.method == "POST":
            form = await self.security.form(request, limit=CSV_LIMIT, max_files=1)
            try:
                action = field(form, "action", 20)
                if action == "import":
                    upload = form.get("csv")
                    if not isinstance(upload, UploadFile) or not upload.filename:
                        raise UserError("choose a CSV file", key="csv_missing")
                    raw = await upload.read()
                    try:
                        text = raw.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        raise UserError("the file is not UTF-8 text", key="csv_unreadable") from None
                    imported = await import_domains(self.rt, text, by=admin.username)
                elif action in DOMAIN_ACTIONS and action != "block":  # a block is asked first: /moderation/block
                    domain = field(form, "domain", 300)
                    await set_domain(self.rt, action, domain, by=admin.username)
                    return RedirectResponse(f"{self.rt.urls.base}/admin/federation?done={action}", status_code=303)
                else:
                    raise UserError("unknown action", key="moderation_not_allowed")
            except UserError as exc:
                error = self.render.error_text(request, exc)
            finally:
                await form.close()
        return await self.render.page(
            request, "admin_federation.html", status=400 if error else 200, mode=self.rt.config.federation.mode,
            rules=await list_domains(self.rt), error=error, imported=imported, done=_done(request), domain=domain,
        )  # fmt: skip

    async def queue(self, request: Request) -> Response:
        """The deliveries by state and the recent failures with their last error (as `queue`)."""
        return await self.render.page(
            request, "admin_queue.html", counts=await member_admin.delivery_summary(self.rt),
            failures=await member_admin.delivery_failures(self.rt),
        )  # fmt: skip
