"""A member's own settings: the profile (name, summary, avatar, fields, other accounts) and the password."""

from __future__ import annotations

import re

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Member
from ..runtime import Runtime
from ..services import accounts
from ..services.moving import resolve_aliases
from ..services.profile import MAX_FIELDS, update_profile
from ..services.uploads import store_image
from .forms import text_field
from .gate import member_of
from .render import Renderer
from .security import FORM_LIMIT, WebSecurity

__all__ = ["SettingsPages"]

AVATAR_LIMIT = 10_000_000 + FORM_LIMIT


class SettingsPages:
    """/settings/profile and /settings/password."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, directory: ActorDirectory) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.directory = directory  # resolves the member's other accounts (alsoKnownAs)

    async def profile(self, request: Request) -> Response:
        """GET: the profile form; POST: save it (sends Update{Person})."""
        member = member_of(request)
        if request.method == "GET":
            return await self.render.page(
                request,
                "settings_profile.html",
                fields=_slots(member),
                aliases=_aliases(member),
                saved=False,
                typed=_typed(member),
            )
        form = await self.security.form(request, limit=AVATAR_LIMIT, max_files=1)
        try:
            return await self._save_profile(request, member, form)
        finally:
            await form.close()  # the upload is spooled to a temporary file

    async def _save_profile(self, request: Request, member: Member, form: FormData) -> Response:
        fields = [
            (text_field(form, f"field_name_{i}", 300), text_field(form, f"field_value_{i}", 300))
            for i in range(MAX_FIELDS)
        ]
        avatar_id = None
        aliases = text_field(form, "also_known_as", 2600)
        typed = {
            "name": text_field(form, "name", 200), "summary": text_field(form, "summary", 600),
            "locked": form.get("locked") == "1",
        }  # fmt: skip
        try:
            # Looked up first (through the guarded client): an unknown account changes nothing.
            also_known_as = await resolve_aliases(self.rt, self.directory, member, re.split(r"[\s,]+", aliases))
            upload = form.get("avatar")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read()
                if data:
                    avatar_id = (await store_image(self.rt, member, data, member.name, avatar=True)).id
            updated = await update_profile(
                self.rt, member, name=str(typed["name"]), summary=str(typed["summary"]), fields=fields,
                avatar_id=avatar_id, locked=bool(typed["locked"]), also_known_as=also_known_as,
            )  # fmt: skip
        except UserError as exc:  # everything typed comes back with why
            return await self.render.page(
                request, "settings_profile.html", status=400, fields=fields, aliases=aliases, saved=False, typed=typed,
                error=self.render.error_text(request, exc),
            )  # fmt: skip
        request.state.member = updated
        return await self.render.page(
            request,
            "settings_profile.html",
            fields=_slots(updated),
            aliases=_aliases(updated),
            saved=True,
            typed=_typed(updated),
        )

    async def password(self, request: Request) -> Response:
        """GET: the form; POST: check the current password, set the new one, end the other sessions."""
        member = member_of(request)
        if request.method == "GET":
            return await self.render.page(request, "settings_password.html")
        form = await self.security.form(request)
        current, new, again = (text_field(form, n, 1100) for n in ("current", "password", "password_again"))
        address = request.client.host if request.client else "unknown"
        try:
            await accounts.authenticate(self.rt, member.username, current, address)  # same checks and throttle
        except UserError:
            return await self.render.page(request, "settings_password.html", status=400, error_key="wrong_password")
        if new != again:
            return await self.render.page(request, "settings_password.html", status=400, error_key="passwords_differ")
        try:
            await accounts.set_password(self.rt, member, new, keep_session=self.security.session_id(request))
        except UserError as exc:
            return await self.render.page(
                request, "settings_password.html", status=400, error=self.render.error_text(request, exc)
            )
        return await self.render.page(request, "settings_password.html", saved=True)


def _typed(member: Member) -> dict[str, str | bool]:
    """The profile form's own fields as stored."""
    return {"name": member.name, "summary": member.summary, "locked": member.locked}


def _slots(member: Member) -> list[tuple[str, str]]:
    fields = list(member.fields)[:MAX_FIELDS]
    return fields + [("", "")] * (MAX_FIELDS - len(fields))


def _aliases(member: Member) -> str:
    return "\n".join(member.also_known_as)
