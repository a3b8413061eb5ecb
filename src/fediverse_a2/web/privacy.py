"""The member's rights under the AVG, on the web: /privacy, /settings/export and /settings/delete.

/privacy says what this instance stores and why, from its configuration (controller and
contact from `[privacy]`, how long things are kept from the settings that decide it).
/settings/export hands a member their data as a zip (services/export.py), built in a
temporary file and streamed from there. /settings/delete erases the account once the member
has confirmed with their password (the sign-in's checks and throttle apply).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import IO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .. import retention
from ..errors import UserError
from ..models import Member
from ..runtime import Runtime
from ..services import accounts
from ..services.erasure import erase_account
from ..services.export import export_archive
from ..store import members
from .forms import text_field
from .gate import member_of
from .render import Renderer
from .security import WebSecurity

__all__ = ["PrivacyPages"]

CHUNK = 64 * 1024


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _stream(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The temporary file's bytes, a chunk at a time; the file is closed (and so removed) at the end."""
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        file.close()


class PrivacyPages:
    """/privacy, /settings/export and /settings/delete."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity) -> None:
        self.rt = rt
        self.render = render
        self.security = security

    async def statement(self, request: Request) -> Response:
        """The privacy statement, from the configuration."""
        config = self.rt.config
        return await self.render.page(
            request,
            "privacy.html",
            privacy=config.privacy,
            controller=config.privacy.controller or config.instance.name,
            mail_on=config.mail.enabled,
            access_log=config.server.access_log,
            keep_raw_days=str(config.inbox.keep_raw_days),
            session_days=str(accounts.SESSION_DAYS),
            invite_days=str(accounts.INVITE_DAYS),
            mail_days=str(retention.MAIL_DAYS),
            rejected_days=str(retention.REJECTED_REQUEST_DAYS),
        )

    async def export(self, request: Request) -> Response:
        """GET: what the download holds; POST: the zip of the member's data."""
        member = member_of(request)
        if request.method == "GET":
            return await self.render.page(request, "settings_export.html")
        await self.security.form(request)
        return await self._download(member)

    async def _download(self, member: Member) -> Response:
        file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stream once sent
        written = False
        try:
            await export_archive(self.rt, member, file)
            file.seek(0)
            written = True
        finally:
            if not written:
                file.close()
        day = datetime.fromtimestamp(time.time(), UTC).strftime("%Y%m%d")
        host = re.sub(r"[^A-Za-z0-9.-]+", "-", self.rt.config.instance.hostname)
        name = f"{host}-{member.username}-{day}.zip"
        return StreamingResponse(
            _stream(file),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
        )

    async def delete(self, request: Request) -> Response:
        """GET: what deleting means; POST: erase the account, confirmed with the field `password`."""
        member = member_of(request)
        if request.method == "GET":
            return await self.render.page(request, "settings_delete.html")
        form = await self.security.form(request)
        password = text_field(form, "password", 1100)
        try:
            await accounts.authenticate(self.rt, member.username, password, _address(request))
        except accounts.Throttled as exc:
            page = await self.render.page(request, "settings_delete.html", status=429, error_key="login_throttled")
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        except UserError:
            return await self.render.page(
                request, "settings_delete.html", status=400, error_key="delete_wrong_password"
            )
        if member.is_admin and await members.admins_left(self.rt.db, but=member.id) == 0:
            return await self.render.page(request, "settings_delete.html", status=400, error_key="delete_last_admin")
        await erase_account(self.rt, member, member.username)
        request.state.member = None  # signed out: the page below is a visitor's
        response = await self.render.page(request, "settings_deleted.html")
        self.security.clear_session(response)
        return response
