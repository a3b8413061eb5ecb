"""Accounts on the web: passwords, sign-in with throttling, sessions, invitations, roles.

Sessions live server-side: the browser holds a random id, the database only its hash. A
sign-in rotates the session (a fresh id every time); signing out deletes it; a new password
ends the member's other sessions, every app's token and every mailed reset link. Failed sign-ins are counted per
account and per address in the database (several processes may serve) with the limits of
`accounts/throttle.py`: an address's limit is far above an account's, so others' failures
behind a shared address never lock a member out. An unknown user is answered exactly like a
wrong password, in the same time (a dummy hash is verified).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..accounts import throttle
from ..accounts.passwords import check_password_rules, hash_password, needs_rehash, verify_password
from ..accounts.tokens import new_token, token_hash
from ..errors import UserError
from ..models import ROLES, Member
from ..runtime import Runtime
from ..store import invites, login_failures, members, oauth_tokens, password_resets, sessions
from . import notifications
from .members import require_member

__all__ = [
    "INVITE_DAYS",
    "SESSION_DAYS",
    "SignIn",
    "Throttled",
    "authenticate",
    "check_throttle",
    "create_invite",
    "end_session",
    "invite_member",
    "member_for_session",
    "set_disabled",
    "set_password",
    "set_role",
    "sign_in",
    "use_invite",
]

SESSION_DAYS = 30
INVITE_DAYS = 7


class Throttled(UserError):
    """Too many failed sign-ins; `retry_after` is when to try again (seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins; try again later")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the member and the new session's id (for the cookie only)."""

    member: Member
    session_id: str


async def check_throttle(rt: Runtime, account: str, address: str, now: float) -> None:
    """Throttled when the account or the address has had too many failures in the window."""
    since = now - throttle.WINDOW
    await login_failures.prune(rt.db, since)  # no address is kept longer than the window
    by_account, by_address = await login_failures.count_since(rt.db, account, address, since)
    if by_account >= throttle.ACCOUNT_LIMIT:
        oldest = await login_failures.oldest_since(rt.db, since, account=account)
        raise Throttled(throttle.retry_after(oldest or now, now))
    if by_address >= throttle.ADDRESS_LIMIT:
        oldest = await login_failures.oldest_since(rt.db, since, address=address)
        raise Throttled(throttle.retry_after(oldest or now, now))


async def new_session(rt: Runtime, member: Member, now: float | None = None) -> str:
    """Start a session for a member; returns its id (shown to the browser, never stored)."""
    now = time.time() if now is None else now
    session_id = new_token()
    await sessions.create(rt.db, token_hash(session_id), member.id, now, now + SESSION_DAYS * 86400)
    return session_id


async def authenticate(rt: Runtime, username: str, password: str, address: str) -> Member:
    """The member whose username and password these are; Throttled after too many failures, UserError when wrong."""
    now = time.time()
    account = username.strip().lower()[:64]
    await check_throttle(rt, account, address, now)
    member = await members.by_username(rt.db, account) if account else None
    stored = await members.password_hash(rt.db, member.id) if member else None
    ok = await verify_password(stored, password)
    if not ok or member is None or stored is None or not member.can_sign_in:
        await login_failures.record(rt.db, account, address, now)
        raise UserError("wrong username or password", key="login_wrong")
    if needs_rehash(stored):
        await members.set_password_hash(rt.db, member.id, await hash_password(password))
    await login_failures.clear_account(rt.db, account)
    return member


async def sign_in(rt: Runtime, username: str, password: str, address: str, old_session: str | None = None) -> SignIn:
    """Check a username and password and start a fresh session (the old one, if any, is ended)."""
    member = await authenticate(rt, username, password, address)
    if old_session:
        await sessions.delete(rt.db, token_hash(old_session))  # rotation: never reuse an id across sign-in
    return SignIn(member, await new_session(rt, member))


async def member_for_session(rt: Runtime, session_id: str) -> Member | None:
    """The signed-in member of a session cookie, or None (unknown, expired, disabled)."""
    if not session_id or len(session_id) > 128:
        return None
    member_id = await sessions.member_id(rt.db, token_hash(session_id), time.time())
    member = await members.by_id(rt.db, member_id) if member_id is not None else None
    return member if member is not None and member.can_sign_in else None


async def end_session(rt: Runtime, session_id: str) -> None:
    """Sign out: the session is deleted."""
    await sessions.delete(rt.db, token_hash(session_id))


async def set_password(rt: Runtime, member: Member, password: str, keep_session: str | None = None) -> None:
    """Set a new password; every other session of the member ends, and so do the apps' tokens."""
    if (problem := check_password_rules(password)) is not None:
        raise UserError(problem[0], key=problem[1])
    hashed = await hash_password(password)
    async with rt.db.transaction() as tx:
        await members.set_password_hash(tx, member.id, hashed)
        await sessions.delete_for_member(tx, member.id, keep=token_hash(keep_session) if keep_session else None)
        await oauth_tokens.delete_for_member(tx, member.id)  # apps must be let in again
        await password_resets.delete_for_member(tx, member.id)  # a mailed link must not undo the change


async def create_invite(rt: Runtime, member: Member) -> str:
    """A link, valid for 7 days and usable once, where the member chooses a password."""
    token = new_token()
    now = time.time()
    await invites.create(rt.db, token_hash(token), member.id, now, now + INVITE_DAYS * 86400)
    link = f"{rt.urls.base}/invite/{token}"
    await notifications.mail_invitation(rt, member, link, now + INVITE_DAYS * 86400)  # when [mail] is set
    return link


async def invite_member(rt: Runtime, username: str) -> str:
    """`member invite USERNAME`: the invitation link."""
    member = await require_member(rt, username)
    if member.state in ("left", "suspended"):
        raise UserError(f"{username} cannot sign in (the archive marks them {member.state})")
    return await create_invite(rt, member)


async def invited_member(rt: Runtime, token: str) -> Member | None:
    """The member a still-valid invitation is for, or None."""
    if not token or len(token) > 128:
        return None
    member_id = await invites.valid_member(rt.db, token_hash(token), time.time())
    return await members.by_id(rt.db, member_id) if member_id is not None else None


async def use_invite(rt: Runtime, token: str, password: str) -> SignIn:
    """Choose a password through an invitation (once); signs the member in."""
    if (problem := check_password_rules(password)) is not None:
        raise UserError(problem[0], key=problem[1])
    hashed = await hash_password(password)
    now = time.time()
    async with rt.db.transaction() as tx:
        member_id = await invites.take(tx, token_hash(token), now) if token and len(token) <= 128 else None
        if member_id is None:
            raise UserError("this invitation is not valid (used, expired or unknown)", key="invite_invalid")
        await members.set_password_hash(tx, member_id, hashed)
        await sessions.delete_for_member(tx, member_id)
        await oauth_tokens.delete_for_member(tx, member_id)
        await password_resets.delete_for_member(tx, member_id)
    member = await members.by_id(rt.db, member_id)
    assert member is not None
    if not member.can_sign_in:
        raise UserError("this account cannot sign in", key="cannot_sign_in")
    return SignIn(member, await new_session(rt, member, now))


async def set_role(rt: Runtime, username: str, role: str) -> Member:
    """member role USERNAME member|moderator|admin."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use member, moderator or admin")
    member = await require_member(rt, username)
    await members.set_role(rt.db, member.id, role)
    return member


async def set_disabled(rt: Runtime, username: str, disabled: bool) -> Member:
    """member disable|enable USERNAME: a disabled member cannot sign in; their sessions and app tokens end."""
    member = await require_member(rt, username)
    async with rt.db.transaction() as tx:
        await members.set_disabled(tx, member.id, disabled)
        if disabled:
            await sessions.delete_for_member(tx, member.id)
            await oauth_tokens.delete_for_member(tx, member.id)
    return member
