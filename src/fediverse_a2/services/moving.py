"""Moving house (FEP-7628, as Mastodon does it): a member's aliases, and moving an account away.

To move here, a member first lists their old account as an alias (`alsoKnownAs`, on
/settings/profile): the old server checks that before it sends its `Move`, and so does every
server whose accounts follow the old one. To move away, `member move` checks that the new
account lists this one among its aliases, records `movedTo` and sends `Move` to the followers;
their servers then follow the new account. Handles and URLs are resolved through the guarded
client (WebFinger, then the actor from its own origin); one of our own members is looked up here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from ..activitypub import build
from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.outbox import queue_activity
from ..federation.webfinger import parse_handle
from ..models import Member
from ..runtime import Runtime
from ..store import members
from .members import USERNAME_RE, ensure_key, require_member
from .profile import send_profile

__all__ = ["MAX_ALIASES", "move_account", "resolve_aliases"]

MAX_ALIASES = 5


def _local_username(rt: Runtime, value: str) -> str | None:
    """The username a URL or handle names on this instance, or None when it is elsewhere."""
    if value.startswith(("http://", "https://")):
        if not rt.urls.is_local(value):
            return None
        username = rt.urls.username(value)
        if username is None:
            raise UserError(f"{value} is not an account", key="alias_unknown")
        return username
    handle = parse_handle(value)
    if rt.urls.is_local(f"{rt.urls.origin.scheme}://{handle.authority}/"):
        return handle.user
    return None


async def _local_account(rt: Runtime, username: str) -> Member:
    found = await members.by_username(rt.db, username) if USERNAME_RE.fullmatch(username) else None
    if found is None or found.is_deleted:
        raise UserError(f"no member named {username!r}", key="no_such_member")
    return found


async def resolve_aliases(
    rt: Runtime, directory: ActorDirectory, member: Member, entries: Iterable[str]
) -> tuple[str, ...]:
    """The actor ids of the accounts a member says they also are (handles or URLs, one per entry).

    An id the member listed before is kept as it is; a new entry is looked up (UserError, naming
    it, when it cannot be).
    """
    wanted = list(dict.fromkeys(e.strip() for e in entries if e.strip()))
    if len(wanted) > MAX_ALIASES:
        raise UserError(f"at most {MAX_ALIASES} other accounts", key="too_many_aliases")
    me = rt.urls.actor(member.username)
    found: list[str] = []
    for entry in wanted:
        if len(entry) > 500:
            raise UserError("an account address is too long", key="alias_unknown")
        if entry in member.also_known_as:
            uri = entry
        elif (local := _local_username(rt, entry)) is not None:
            uri = rt.urls.actor((await _local_account(rt, local)).username)
        else:
            try:
                uri = (await directory.resolve(entry)).uri
            except UserError as exc:
                raise UserError(str(exc), key="alias_unknown") from None
        if uri == me:
            raise UserError("an account cannot be an alias of itself", key="alias_self")
        if uri not in found:
            found.append(uri)
    return tuple(found)


async def move_account(rt: Runtime, directory: ActorDirectory, username: str, target_text: str) -> str:
    """`member move USERNAME TARGET`: check the new account names this one, set movedTo, send Move.

    Returns the new account's id. Nothing changes when the target does not list this member
    in its `alsoKnownAs` (fetched fresh from its origin), has moved itself, or is this account.
    """
    member = await require_member(rt, username)
    me = rt.urls.actor(member.username)
    local = _local_username(rt, target_text.strip())
    if local is not None:
        target_member = await _local_account(rt, local)
        target, aliases, moved = rt.urls.actor(target_member.username), target_member.also_known_as, None
        if target_member.id == member.id:
            raise UserError("an account cannot move to itself", key="move_self")
    else:
        record, doc = await directory.resolve_fresh(target_text)
        target, aliases, moved = record.uri, doc.also_known_as, doc.moved_to
    if not any(rt.urls.username(alias) == member.username for alias in aliases):
        raise UserError(
            f"{target} does not list {rt.urls.handle(member.username)} as an alias (alsoKnownAs): "
            "add this account there first",
            key="move_no_alias",
        )
    if moved is not None:
        raise UserError(f"{target} has itself moved to {moved}", key="move_target_moved")
    member = await ensure_key(rt, member)
    async with rt.db.transaction() as tx:
        await members.set_moved_to(tx, member.id, target)
        await send_profile(rt, tx, member.id)  # movedTo on the profile
        move = build.move(f"{me}#moves/{uuid.uuid4().hex}", me, target, rt.urls.followers(member.username))
        await queue_activity(tx, move, member.id, followers_of=member.id)
    return target
