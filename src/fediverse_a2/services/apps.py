"""Apps and their tokens: registering an app, what a bearer token allows, the apps a member let in.

Tokens do not expire, as on Mastodon; they end when the app revokes them (/oauth/revoke), the
member takes the app's access away in /settings/apps, changes their password or is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..accounts.tokens import new_token, token_hash
from ..errors import UserError
from ..models import Member
from ..oauth import scopes as scope_rules
from ..oauth.redirects import RedirectError, parse_registered
from ..runtime import Runtime
from ..store import members, oauth_apps, oauth_tokens
from ..store.oauth_apps import OAuthApp
from ..store.oauth_tokens import AccessToken, AuthorisedApp

__all__ = ["RegisteredApp", "TokenGrant", "authorised_apps", "register_app", "revoke_app", "token_grant"]


@dataclass(frozen=True)
class RegisteredApp:
    """A new app: its record and its secret (shown once, never stored)."""

    app: OAuthApp
    client_secret: str


@dataclass(frozen=True)
class TokenGrant:
    """What a valid bearer token allows: whose it is, for which app, with which scopes."""

    token: AccessToken
    member: Member | None  # None for an app's own token (client_credentials)
    app: OAuthApp

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the token holds (what the gate checks a route's scopes against)."""
        return self.token.scopes


async def register_app(
    rt: Runtime, *, name: str, redirect_uris: str | list[str] | None, scopes: str | None, website: str | None
) -> RegisteredApp:
    """POST /api/v1/apps: a new app with its client id and secret; UserError names what is wrong."""
    name = (name or "").strip()
    if not name:
        raise UserError("client_name can't be blank")
    if len(name) > 100:
        raise UserError("client_name is too long (at most 100 characters)")
    try:
        uris = parse_registered(redirect_uris)
    except RedirectError as exc:
        raise UserError(f"redirect_uris: {exc}") from None
    try:
        granted = scope_rules.parse(scopes)
    except scope_rules.ScopeError as exc:
        raise UserError(f"scopes: {exc}") from None
    website = (website or "").strip() or None
    if website is not None and (len(website) > 2000 or not website.startswith(("https://", "http://"))):
        raise UserError("website must be an http(s) URL")
    secret = new_token()
    app = await oauth_apps.create(
        rt.db, client_id=new_token(), secret_hash=token_hash(secret), name=name, website=website,
        redirect_uris=uris, scopes=granted,
    )  # fmt: skip
    return RegisteredApp(app, secret)


async def token_grant(rt: Runtime, bearer: str) -> TokenGrant | None:
    """What a bearer token allows, or None: unknown, revoked, or its member can no longer sign in."""
    if not bearer or len(bearer) > 200:
        return None
    token = await oauth_tokens.by_hash(rt.db, token_hash(bearer))
    if token is None:
        return None
    app = await oauth_apps.by_id(rt.db, token.app_id)
    if app is None:
        return None
    if token.member_id is None:
        return TokenGrant(token, None, app)
    member = await members.by_id(rt.db, token.member_id)
    if member is None or not member.can_sign_in:
        return None
    return TokenGrant(token, member, app)


async def authorised_apps(rt: Runtime, member: Member) -> list[AuthorisedApp]:
    """The apps a member let in (/settings/apps)."""
    return await oauth_tokens.authorised_apps(rt.db, member.id)


async def revoke_app(rt: Runtime, member: Member, app_id: int) -> bool:
    """The member takes an app's access away: every token it holds for them ends."""
    return await oauth_tokens.delete_for_member_app(rt.db, member.id, app_id) > 0
