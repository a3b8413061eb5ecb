"""Authorisation codes and access tokens of apps; the database keeps only hashes of both.

A code is taken (read and deleted in one statement) when it is exchanged, so it can be used
once, even by two requests at the same moment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .db import Executor

__all__ = [
    "AccessToken",
    "AuthorisedApp",
    "AuthorizationCode",
    "add_code",
    "add_token",
    "authorised_apps",
    "by_hash",
    "delete_for_member",
    "delete_for_member_app",
    "delete_token",
    "take_code",
]


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    app_id: int
    member_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    challenge_method: str | None
    expires_at: float


@dataclass(frozen=True, slots=True)
class AccessToken:
    id: int
    app_id: int
    member_id: int | None  # None: the app's own token (client_credentials)
    scopes: tuple[str, ...]
    created_at: float


@dataclass(frozen=True, slots=True)
class AuthorisedApp:
    """An app a member let in, as /settings/apps lists it."""

    app_id: int
    name: str
    website: str | None
    scopes: tuple[str, ...]  # every scope any of its tokens holds
    authorised_at: float  # the first token's time


async def add_code(
    db: Executor,
    code_hash: str,
    *,
    app_id: int,
    member_id: int,
    redirect_uri: str,
    scopes: tuple[str, ...],
    challenge: str | None,
    challenge_method: str | None,
    lifetime: float,
) -> None:
    """Store a new authorisation code (and forget the ones that expired unused)."""
    now = time.time()
    await db.execute("DELETE FROM oauth_codes WHERE expires_at <= ?", (now,))
    await db.execute(
        "INSERT INTO oauth_codes (code_hash, app_id, member_id, redirect_uri, scopes, challenge, challenge_method, "
        "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code_hash,
            app_id,
            member_id,
            redirect_uri,
            " ".join(scopes),
            challenge,
            challenge_method,
            now,
            now + lifetime,
        ),
    )


async def take_code(db: Executor, code_hash: str, app_id: int) -> AuthorizationCode | None:
    """The code of this app, deleted as it is read; None when unknown, used, expired or another app's."""
    row = await db.fetchone(
        "DELETE FROM oauth_codes WHERE code_hash = ? AND app_id = ? "
        "RETURNING app_id, member_id, redirect_uri, scopes, challenge, challenge_method, expires_at",
        (code_hash, app_id),
    )
    if row is None:
        return None
    app, member, redirect_uri, scopes, challenge, method, expires_at = row
    if expires_at <= time.time():
        return None
    return AuthorizationCode(int(app), int(member), redirect_uri, tuple(scopes.split()), challenge, method, expires_at)


async def add_token(
    db: Executor, token_hash: str, *, app_id: int, member_id: int | None, scopes: tuple[str, ...]
) -> int:
    """Store a new access token; returns its row id."""
    return int(
        await db.fetchval(
            "INSERT INTO oauth_tokens (token_hash, app_id, member_id, scopes, created_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            (token_hash, app_id, member_id, " ".join(scopes), time.time()),
        )
    )


def _token(row: Any) -> AccessToken:
    row_id, app_id, member_id, scopes, created_at = row
    return AccessToken(int(row_id), int(app_id), None if member_id is None else int(member_id), tuple(scopes.split()),
                       float(created_at))  # fmt: skip


async def by_hash(db: Executor, token_hash: str) -> AccessToken | None:
    """The live token with this hash, or None."""
    row = await db.fetchone(
        "SELECT id, app_id, member_id, scopes, created_at FROM oauth_tokens WHERE token_hash = ?", (token_hash,)
    )
    return _token(row) if row else None


async def delete_token(db: Executor, token_hash: str, app_id: int) -> int:
    """Revoke one token of an app (RFC 7009); returns rows removed (0: unknown or another app's)."""
    return await db.execute("DELETE FROM oauth_tokens WHERE token_hash = ? AND app_id = ?", (token_hash, app_id))


async def delete_for_member(db: Executor, member_id: int) -> int:
    """End every token and code of a member (password changed, account disabled)."""
    await db.execute("DELETE FROM oauth_codes WHERE member_id = ?", (member_id,))
    return await db.execute("DELETE FROM oauth_tokens WHERE member_id = ?", (member_id,))


async def delete_for_member_app(db: Executor, member_id: int, app_id: int) -> int:
    """A member revokes one app: its tokens and codes for that member end."""
    await db.execute("DELETE FROM oauth_codes WHERE member_id = ? AND app_id = ?", (member_id, app_id))
    return await db.execute("DELETE FROM oauth_tokens WHERE member_id = ? AND app_id = ?", (member_id, app_id))


async def authorised_apps(db: Executor, member_id: int) -> list[AuthorisedApp]:
    """The apps holding a token of the member, the most recently authorised first."""
    rows = await db.fetchall(
        """SELECT a.id, a.name, a.website, t.scopes, t.created_at FROM oauth_tokens t
           JOIN oauth_apps a ON a.id = t.app_id WHERE t.member_id = ? ORDER BY t.created_at""",
        (member_id,),
    )
    apps: dict[int, AuthorisedApp] = {}
    for app_id, name, website, scopes, created_at in rows:
        known = apps.get(app_id)
        merged = tuple(dict.fromkeys((*known.scopes, *scopes.split()))) if known else tuple(scopes.split())
        apps[app_id] = AuthorisedApp(app_id, name, website, merged, known.authorised_at if known else created_at)
    return sorted(apps.values(), key=lambda a: a.authorised_at, reverse=True)
