"""/notifications (a member's own, marked read by a form) and /settings/notifications (mail choices)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..i18n import LANGUAGES
from ..models import Member
from ..notices import GROUPS, MODES, MailSettings, describe
from ..runtime import Runtime
from ..services import notifications
from .forms import text_field
from .gate import member_of
from .ids import parse_id
from .paging import Paging
from .render import Renderer
from .security import WebSecurity

__all__ = ["NotificationPages"]

PAGE_SIZE = 50


class NotificationPages:
    """The notifications page, its mark-read form, and the mail settings page."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity) -> None:
        self.rt = rt
        self.render = render
        self.security = security

    async def list(self, request: Request) -> Response:
        """GET: the signed-in member's notifications, newest first, unread ones marked."""
        member = member_of(request)
        paging = Paging.of(request, self.render.links, PAGE_SIZE)
        found = await notifications.page(self.rt, member, paging.limit, paging.offset)
        paged = paging.cut(found)
        lang = self.render.language(request)
        rows = [(n, describe(lang, n)) for n in paged.items]
        return await self.render.page(
            request, "notifications.html", rows=rows, paged=paged,
            newest=paged.items[0].id if paged.items and paging.number == 1 else None,
        )  # fmt: skip

    async def mark_read(self, request: Request) -> Response:
        """POST: mark read what the page showed (everything up to its newest notification)."""
        member = member_of(request)
        form = await self.security.form(request)
        raw = text_field(form, "up_to", 20)
        await notifications.mark_read(self.rt, member, parse_id(raw))
        return RedirectResponse(f"{self.rt.urls.base}/notifications", status_code=303)

    async def settings(self, request: Request) -> Response:
        """GET: the mail choices per kind (and the address when there is none); POST: save them."""
        member = member_of(request)
        current = await notifications.mail_settings(self.rt, member)
        if request.method == "GET":
            return await self._settings_page(request, member, current)
        form = await self.security.form(request)
        modes = {g: text_field(form, f"mode_{g}", 20) for g in GROUPS}
        language = text_field(form, "language", 5) or None
        email = text_field(form, "email", 400)
        try:
            saved = await notifications.save_mail_settings(self.rt, member, modes, language, email)
        except UserError as exc:
            chosen = MailSettings(modes={g: m for g, m in modes.items() if m in MODES}, language=current.language)
            return await self._settings_page(
                request, member, chosen, status=400, error=self.render.error_text(request, exc), email=email
            )
        request.state.member = saved[1]  # the page shows the address just set
        return await self._settings_page(request, saved[1], saved[0], saved=True)

    async def _settings_page(
        self, request: Request, member: Member, settings: MailSettings, status: int = 200, **context: object
    ) -> Response:
        choices = [(g, settings.group_mode(g)) for g in GROUPS]
        return await self.render.page(
            request, "settings_notifications.html", status=status, choices=choices, modes=MODES,
            languages=LANGUAGES, language=settings.language or self.render.language(request),
            mail_on=self.rt.config.mail.enabled, email=context.pop("email", ""), **context,
        )  # fmt: skip
