"""A forgotten password: a one-use link, valid for an hour, mailed to the member's address.

`/password/forgot` answers the same whether or not the address is known (and whether the
account may sign in): the mail is only queued (the mail worker sends it, never the request),
so a known address costs a request two inserts more, not an SMTP exchange. Requests are
throttled like sign-ins, per address asked for and per client address, with the limits of
`accounts/throttle.py`; every request counts, for a known address or not. They are counted in
the sign-in throttle's table under their own keys (`reset:`), which no username can take, so
the two never mix. Only the link's hash is stored. A used link ends every other link of the
member, sets the password and, as any new password does, ends the member's sessions and app
tokens.
"""

from __future__ import annotations

import time

from ..accounts.passwords import check_password_rules, hash_password
from ..accounts.tokens import new_token, token_hash
from ..errors import UserError
from ..mail.compose import password_reset_mail
from ..models import Member
from ..runtime import Runtime
from ..store import login_failures, members, oauth_tokens, outgoing_mail, password_resets, sessions
from ..store import notifications as notification_store
from .accounts import check_throttle
from .notifications import valid_email

__all__ = ["RESET_SECONDS", "request_reset", "reset_member", "use_reset"]

RESET_SECONDS = 3600
_KEY = "reset:"  # the throttle's keys for reset requests (a username has no colon)
_MAX_TOKEN = 128


def _usable(token: str) -> bool:
    return 0 < len(token) <= _MAX_TOKEN


async def request_reset(rt: Runtime, email: str, address: str) -> int:
    """Mail a reset link to each account with this address that may sign in; how many were queued.

    UserError for something that is not an address, Throttled after too many requests; otherwise
    the caller answers the same, whatever this returns."""
    email = valid_email(email)
    now = time.time()
    account, client = _KEY + email.lower(), _KEY + address
    await check_throttle(rt, account, client, now)
    await login_failures.record(rt.db, account, client, now)
    if not rt.config.mail.enabled:
        return 0
    queued = 0
    for member in await members.by_email(rt.db, email):
        if member.can_sign_in and member.email:  # disabled, suspended, erased: no mail
            await _mail_link(rt, member, member.email, now)
            queued += 1
    return queued


async def _mail_link(rt: Runtime, member: Member, to: str, now: float) -> None:
    token = new_token()
    expires = now + RESET_SECONDS
    settings = await notification_store.get_settings(rt.db, member.id)
    language = settings.language or rt.config.instance.language
    link = f"{rt.urls.base}/password/reset/{token}"
    handle = rt.urls.handle(member.username)
    composed = password_reset_mail(language, rt.config.instance.name, member.name, handle, link, expires, rt.tz)
    async with rt.db.transaction() as tx:
        await password_resets.create(tx, token_hash(token), member.id, now, expires)
        await outgoing_mail.queue(tx, member.id, to, composed.subject, composed.text, composed.html)


async def reset_member(rt: Runtime, token: str) -> Member | None:
    """The member a still-valid reset link is for (and who may sign in), or None."""
    if not _usable(token):
        return None
    member_id = await password_resets.valid_member(rt.db, token_hash(token), time.time())
    member = await members.by_id(rt.db, member_id) if member_id is not None else None
    return member if member is not None and member.can_sign_in else None


async def use_reset(rt: Runtime, token: str, password: str) -> Member:
    """Set a new password through a reset link (once); every link and session of the member ends."""
    if (problem := check_password_rules(password)) is not None:
        raise UserError(problem[0], key=problem[1])
    hashed = await hash_password(password)
    now = time.time()
    async with rt.db.transaction() as tx:
        member_id = await password_resets.take(tx, token_hash(token), now) if _usable(token) else None
        member = await members.by_id(tx, member_id) if member_id is not None else None
        if member is None or not member.can_sign_in:  # raising here rolls the take back
            raise UserError("this link is not valid (used, expired or unknown)", key="reset_invalid")
        await members.set_password_hash(tx, member.id, hashed)
        await sessions.delete_for_member(tx, member.id)
        await oauth_tokens.delete_for_member(tx, member.id)  # apps must be let in again
        await login_failures.clear_account(tx, member.username)  # the owner proved it: no lock-out
    return member
