"""Admin changes to members (role, disabled) made on the web, written to the audit log; the delivery queue."""

from __future__ import annotations

from ..errors import UserError
from ..models import Member
from ..runtime import Runtime
from ..store import audit, deliveries
from ..store import members as member_store
from . import accounts

__all__ = ["all_members", "change_role", "delivery_failures", "delivery_summary", "set_disabled"]


async def all_members(rt: Runtime) -> list[Member]:
    """Every member, as `member list` shows them."""
    return await member_store.list_all(rt.db)


async def change_role(rt: Runtime, by: Member, username: str, role: str) -> Member:
    """Set a member's role (as `member role`); an admin cannot take away their own admin role."""
    if username == by.username and role != "admin":
        raise UserError("you cannot take away your own admin role", key="admin_self")
    member = await accounts.set_role(rt, username, role)
    await audit.record(rt.db, by.username, "member_role", member.username, role)
    return member


async def set_disabled(rt: Runtime, by: Member, username: str, disabled: bool) -> Member:
    """Disable or enable a member (as `member disable|enable`); never oneself."""
    if username == by.username:
        raise UserError("you cannot disable yourself", key="admin_self")
    member = await accounts.set_disabled(rt, username, disabled)
    await audit.record(rt.db, by.username, "member_disable" if disabled else "member_enable", member.username)
    return member


async def delivery_summary(rt: Runtime) -> dict[str, int]:
    """Deliveries by state, as `queue` shows them."""
    return await deliveries.summary(rt.db)


async def delivery_failures(rt: Runtime, limit: int = 50) -> list[deliveries.FailedDelivery]:
    """The recent failed or retrying deliveries with their last error."""
    return await deliveries.failures(rt.db, limit)
