"""The OAuth endpoints apps call: registering (`POST /api/v1/apps`), tokens, revocation, RFC 8414 metadata.

The protocol itself is Authlib's (services/oauth.py); these handlers only carry requests to it
and its answers back. The browser side (`/oauth/authorize`, the consent page) is in web/.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..services.apps import register_app
from ..services.oauth import OAuthAnswer, OAuthCall, OAuthService
from ..store.oauth_apps import OAuthApp
from .frame import ApiCall, json

__all__ = ["OAuthEndpoints", "application_entity"]


def application_entity(app: OAuthApp) -> dict[str, Any]:
    """An Application as Mastodon 4.3 shows an app to itself (never with its secret)."""
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
    }


def _response(answer: OAuthAnswer) -> Response:
    headers = {k: v for k, v in answer.headers if k.lower() != "content-type"}
    if isinstance(answer.body, dict):
        response = json(answer.body, answer.status, headers)
    else:
        response = Response(answer.body or b"", status_code=answer.status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


class OAuthEndpoints:
    """Handlers for /api/v1/apps, /api/v1/apps/verify_credentials, /oauth/token, /oauth/revoke and the metadata."""

    def __init__(self, service: OAuthService) -> None:
        self.service = service

    def _call(self, call: ApiCall) -> OAuthCall:
        request = call.request
        return OAuthCall(
            method=request.method,
            url=f"{call.rt.urls.base}{request.url.path}",
            headers=request.headers,  # Starlette's: case-insensitive, as Authlib reads "Authorization"
            params=tuple(call.params.pairs),
        )

    async def register(self, call: ApiCall) -> Response:
        """POST /api/v1/apps (JSON, a form, or a form without Content-Type): client id and secret."""
        params = call.params
        uris: str | list[str] | None = params.get("redirect_uris")
        if uris is None and params.strings("redirect_uris"):
            uris = params.strings("redirect_uris")
        registered = await register_app(
            call.rt, name=params.text("client_name", 1000) or "", redirect_uris=uris,
            scopes=params.text("scopes", 2000), website=params.text("website", 2000),
        )  # fmt: skip
        body = application_entity(registered.app)
        body.update(
            client_id=registered.app.client_id, client_secret=registered.client_secret, client_secret_expires_at=0
        )
        return json(body)

    async def verify_app(self, call: ApiCall) -> Response:
        """GET /api/v1/apps/verify_credentials: the token's app."""
        assert call.grant is not None
        return json(application_entity(call.grant.app))

    async def token(self, call: ApiCall) -> Response:
        """POST /oauth/token."""
        return _response(await self.service.token(self._call(call)))

    async def revoke(self, call: ApiCall) -> Response:
        """POST /oauth/revoke."""
        return _response(await self.service.revoke(self._call(call)))

    async def metadata(self, call: ApiCall) -> Response:
        """GET /.well-known/oauth-authorization-server (RFC 8414)."""
        return json(self.service.metadata())
