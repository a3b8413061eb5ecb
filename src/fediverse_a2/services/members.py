"""Adding members: validate the name, create the key pair, store the actor."""

from __future__ import annotations

import re

from ..content import inert_text
from ..errors import UserError
from ..keys import public_pem
from ..models import Member
from ..runtime import Runtime
from ..store import members

__all__ = ["USERNAME_RE", "add_member", "require_member"]

USERNAME_RE = re.compile(r"[a-z0-9_]{1,30}")
RESERVED = frozenset({"actor", "admin", "inbox", "instance", "root", "support", "www"})


async def add_member(rt: Runtime, username: str, name: str, summary: str = "") -> Member:
    """Create a member and its RSA-2048 key pair; UserError when the name is invalid or taken."""
    if not USERNAME_RE.fullmatch(username):
        raise UserError(f"invalid username {username!r}: use 1-30 characters a-z, 0-9 or _")
    if username in RESERVED:
        raise UserError(f"username {username!r} is reserved")
    name = inert_text(name, 100)
    if not name:
        raise UserError("--name must not be empty")
    if await members.by_username(rt.db, username) is not None:
        raise UserError(f"username {username!r} is already taken")
    if rt.keys.exists(username):
        raise UserError(f"a key file for {username!r} already exists in {rt.keys.keys_dir}; remove it first")
    key = rt.keys.create(username)
    try:
        return await members.create(rt.db, username, name, inert_text(summary, 500), public_pem(key))
    except Exception:
        # Don't leave an orphan key behind that would block a retry.
        rt.keys.path(username).unlink(missing_ok=True)
        raise


async def require_member(rt: Runtime, username: str) -> Member:
    """The member named username, or a UserError saying it does not exist."""
    member = await members.by_username(rt.db, username)
    if member is None:
        raise UserError(f"no member named {username!r}")
    return member
