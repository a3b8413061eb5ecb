"""Who may open a page: signed-in members, moderators, admins (others: to the login page, or 403)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..models import Member
from ..runtime import Runtime
from .pages import Pages
from .security import WebSecurity

__all__ = ["Guard"]


class Guard:
    """Checks the signed-in member of a request; each check returns the member or the refusal."""

    def __init__(self, rt: Runtime, security: WebSecurity, pages: Pages) -> None:
        self.rt = rt
        self.security = security
        self.pages = pages

    async def member(self, request: Request) -> Member | Response:
        """Any signed-in member; a visitor goes to the login page (and comes back after)."""
        return await self.security.member_or_login(request)

    async def moderator(self, request: Request) -> Member | Response:
        """A moderator or admin; other members get 403."""
        member = await self.member(request)
        if isinstance(member, Member) and not member.is_moderator:
            return await self.pages.error(request, 403)
        return member

    async def admin(self, request: Request) -> Member | Response:
        """An admin; other members get 403."""
        member = await self.member(request)
        if isinstance(member, Member) and not member.is_admin:
            return await self.pages.error(request, 403)
        return member
