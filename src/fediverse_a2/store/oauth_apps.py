"""Apps (OAuth 2 clients) registered through the client API; the database keeps only a hash of each secret."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .db import Executor

__all__ = ["OAuthApp", "by_client_id", "by_id", "create"]


@dataclass(frozen=True, slots=True)
class OAuthApp:
    id: int
    client_id: str
    secret_hash: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: float


_COLUMNS = "id, client_id, secret_hash, name, website, redirect_uris, scopes, created_at"


def _app(row: Any) -> OAuthApp:
    row_id, client_id, secret_hash, name, website, redirect_uris, scopes, created_at = row
    return OAuthApp(
        int(row_id), client_id, secret_hash, name, website,
        tuple(redirect_uris.split("\n")) if redirect_uris else (), tuple(scopes.split()), float(created_at),
    )  # fmt: skip


async def create(
    db: Executor,
    *,
    client_id: str,
    secret_hash: str,
    name: str,
    website: str | None,
    redirect_uris: tuple[str, ...],
    scopes: tuple[str, ...],
) -> OAuthApp:
    """Store a new app and return it."""
    row = await db.fetchone(
        "INSERT INTO oauth_apps (client_id, secret_hash, name, website, redirect_uris, scopes, created_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (client_id, secret_hash, name, website, "\n".join(redirect_uris), " ".join(scopes), time.time()),
    )
    assert row is not None
    return _app(row)


async def by_client_id(db: Executor, client_id: str) -> OAuthApp | None:
    """The app with this client id, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM oauth_apps WHERE client_id = ?", (client_id,))
    return _app(row) if row else None


async def by_id(db: Executor, app_id: int) -> OAuthApp | None:
    """The app with this row id, or None."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM oauth_apps WHERE id = ?", (app_id,))
    return _app(row) if row else None
