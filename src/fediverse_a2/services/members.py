"""Adding members: validate the name, create the key pair, store the actor; keys made on first need."""

from __future__ import annotations

import asyncio
import re
import unicodedata

from ..content import inert_text
from ..errors import UserError
from ..keys import public_pem
from ..models import Member
from ..runtime import Runtime
from ..store import members

__all__ = ["RESERVED", "USERNAME_RE", "add_member", "ensure_key", "require_member", "suggest_username"]

USERNAME_RE = re.compile(r"[a-z0-9_]{1,30}")
RESERVED = frozenset({"actor", "admin", "inbox", "instance", "netwerk", "root", "support", "www"})


def _check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise UserError(f"invalid username {username!r}: use 1-30 characters a-z, 0-9 or _", key="username_invalid")
    if username in RESERVED:
        raise UserError(f"username {username!r} is reserved", key="username_reserved")


async def add_member(
    rt: Runtime, username: str, name: str, summary: str = "", *, email: str | None = None, role: str = "member"
) -> Member:
    """Create a member and its RSA-2048 key pair; UserError when the name is invalid or taken."""
    _check_username(username)
    name = inert_text(name, 100)
    if not name:
        raise UserError("--name must not be empty", key="name_empty")
    if await members.by_username(rt.db, username) is not None:
        raise UserError(f"username {username!r} is already taken", key="username_taken")
    if rt.keys.exists(username):
        raise UserError(f"a key file for {username!r} already exists in {rt.keys.keys_dir}; remove it first")
    key = rt.keys.create(username)
    try:
        return await members.create(
            rt.db, username, name, inert_text(summary, 500), public_pem(key), email=email, role=role
        )
    except Exception:
        # Don't leave an orphan key behind that would block a retry.
        rt.keys.path(username).unlink(missing_ok=True)
        raise


async def require_member(rt: Runtime, username: str) -> Member:
    """The member named username, or a UserError saying it does not exist (or was erased)."""
    member = await members.by_username(rt.db, username)
    if member is None:
        raise UserError(f"no member named {username!r}", key="no_such_member")
    if member.is_deleted:
        raise UserError(f"the account {username!r} was deleted", key="member_deleted")
    return member


async def ensure_key(rt: Runtime, member: Member) -> Member:
    """The member with a key pair: made now if it has none yet (archive members get theirs late)."""
    if member.public_key_pem:
        return member
    # Generating an RSA key takes tens of milliseconds: off the event loop.
    key = await asyncio.to_thread(rt.keys.ensure, member.username)
    await members.set_key(rt.db, member.id, public_pem(key))
    fresh = await members.by_id(rt.db, member.id)
    assert fresh is not None
    return fresh


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:24]


async def suggest_username(rt: Runtime, name: str, email: str = "") -> str:
    """A free, valid username from a name (or the e-mail's local part): `an_de_vries`, `an_de_vries2`…"""
    base = _slug(name) or _slug(email.split("@", 1)[0]) or "lid"
    if base in RESERVED:
        base = f"{base}_lid"
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base}{n}"
        if await members.by_username(rt.db, candidate) is None and not rt.keys.exists(candidate):
            return candidate
    raise UserError(f"no free username for {name!r}; give one", key="username_none_free")
