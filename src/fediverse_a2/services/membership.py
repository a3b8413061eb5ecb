"""Asking to join ("Word lid van Ambtenaar 2.0"), and the admins' decisions on such requests."""

from __future__ import annotations

import re

from ..content import inert_text
from ..errors import UserError
from ..models import Member
from ..runtime import Runtime
from ..store import membership_requests
from ..store.membership_requests import MembershipRequest
from .accounts import create_invite
from .members import add_member, suggest_username

__all__ = ["approve", "pending_requests", "reject", "request_membership"]

# Enough to catch typos; whether the address works shows when the invitation is mailed.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")


async def request_membership(rt: Runtime, name: str, email: str, organisation: str, motivation: str) -> int:
    """Store a request to join; UserError when a field is missing or wrong."""
    name = inert_text(name, 100)
    email = email.strip()
    if not name:
        raise UserError("a name is required", key="join_need_name")
    if not _EMAIL.fullmatch(email):
        raise UserError("that is not an e-mail address", key="join_need_email")
    return await membership_requests.add(rt.db, name, email, inert_text(organisation, 200), motivation.strip()[:5000])


async def pending_requests(rt: Runtime) -> list[MembershipRequest]:
    """Requests waiting for an admin, oldest first."""
    return await membership_requests.pending(rt.db)


async def approve(rt: Runtime, request_id: int, by: Member | None, username: str | None = None) -> tuple[Member, str]:
    """Create the member of a pending request; returns it and its invitation link."""
    request = await membership_requests.by_id(rt.db, request_id)
    if request is None or request.state != "pending":
        raise UserError(f"no pending membership request #{request_id}", key="request_not_pending")
    chosen = username or await suggest_username(rt, request.name, request.email)
    member = await add_member(rt, chosen, request.name, "", email=request.email)
    if not await membership_requests.decide(rt.db, request_id, "approved", by.id if by else None, member.id):
        raise UserError(f"membership request #{request_id} was decided meanwhile", key="request_not_pending")
    return member, await create_invite(rt, member)


async def reject(rt: Runtime, request_id: int, by: Member | None) -> None:
    """Turn a pending request down."""
    if not await membership_requests.decide(rt.db, request_id, "rejected", by.id if by else None, None):
        raise UserError(f"no pending membership request #{request_id}", key="request_not_pending")
