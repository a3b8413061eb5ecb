"""OAuth 2 for apps, on Authlib's framework-agnostic server (RFC 6749, 7636, 7009, 8414).

Authlib runs the protocol: client authentication, the authorization-code and client-credentials
grants, PKCE, revocation, the error answers. What it leaves to us is storage and the HTTP
framework, and this module gives it both, framework-free:

* An `OAuthCall` is one HTTP request as Authlib sees it (method, URL from base_url, headers,
  parameters); an `OAuthAnswer` is what to send back. The web and API layers turn Starlette
  requests into calls and answers into responses.
* Authlib's storage hooks are synchronous and our store is not, so each protocol step runs in
  a worker thread and the hooks run their store calls on the event loop, waiting for the
  result (`_on_loop`). Only the OAuth endpoints go this way; API requests check their token
  in `token_grant` without Authlib.

Codes and tokens are random (256 bits) and stored as hashes; a code lives 10 minutes and is
taken (deleted) by the one exchange that uses it; tokens do not expire, as on Mastodon (see
services/apps.py for registering apps and what a token allows).
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import time
from collections import defaultdict
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749 import grants as authlib_grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from ..accounts.tokens import new_token, token_hash
from ..models import Member
from ..oauth import scopes as scope_rules
from ..oauth.redirects import OOB
from ..runtime import Runtime
from ..store import members, oauth_apps, oauth_tokens
from ..store.oauth_apps import OAuthApp
from ..store.oauth_tokens import AccessToken, AuthorizationCode

__all__ = [
    "CODE_SECONDS",
    "Consent",
    "OAuthAnswer",
    "OAuthCall",
    "OAuthService",
    "code_of",
]

CODE_SECONDS = 600  # RFC 6749 4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"
MAX_PARAM = 4000  # no OAuth parameter is longer; a longer one is refused before Authlib sees it
_T = TypeVar("_T")
_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop] = contextvars.ContextVar("oauth_loop")


@dataclass(frozen=True)
class OAuthCall:
    """One HTTP request to an OAuth endpoint: `url` is built from base_url, never from the Host header."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: tuple[tuple[str, str], ...]  # query and body parameters, in order

    def get(self, name: str) -> str | None:
        """The first value of a parameter."""
        return next((v for k, v in self.params if k == name), None)


@dataclass(frozen=True)
class OAuthAnswer:
    """What an OAuth endpoint answers: a status, a JSON body (or ""), headers."""

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...]

    @property
    def location(self) -> str | None:
        """Where a redirect goes."""
        return next((v for k, v in self.headers if k.lower() == "location"), None)


@dataclass(frozen=True)
class Consent:
    """A valid authorisation request, to show on the consent page."""

    app: OAuthApp
    scopes: tuple[str, ...]
    redirect_uri: str
    params: tuple[tuple[str, str], ...]  # the request's parameters, carried through the consent form


def _on_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a store coroutine on the event loop from Authlib's worker thread, and wait for it."""
    return asyncio.run_coroutine_threadsafe(coro, _LOOP.get()).result(timeout=60)


def _secret_equal(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(secret), stored_hash)


# -- Authlib's models over our records ----------------------------------------------------


class _Client(ClientMixin):
    """An app as Authlib's client."""

    def __init__(self, app: OAuthApp) -> None:
        self.app = app

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Without redirect_uri in the request, an app with exactly one registered URI uses it.
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        try:
            wanted = scope_rules.parse(scope)
        except scope_rules.ScopeError:
            return None
        allowed = all(scope_rules.covers(self.app.scopes, (name,)) for name in wanted)
        return " ".join(wanted) if allowed else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris  # exactly as registered

    def check_client_secret(self, client_secret: str) -> bool:
        return _secret_equal(client_secret, self.app.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")  # every app has a secret

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "client_credentials")


class _Code:
    """An authorisation code as Authlib reads it."""

    def __init__(self, code: AuthorizationCode) -> None:
        self.code = code
        self.code_challenge = code.challenge
        self.code_challenge_method = code.challenge_method

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.code.scopes)


class _Token:
    """A stored token as the revocation endpoint sees it."""

    def __init__(self, token: AccessToken, hashed: str) -> None:
        self.token = token
        self.hashed = hashed

    def check_client(self, client: _Client) -> bool:
        return self.token.app_id == client.app.id


class _Payload(OAuth2Payload):
    def __init__(self, params: tuple[tuple[str, str], ...]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in params:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    """An OAuthCall as Authlib's request; parameters from the query and the body count alike."""

    def __init__(self, call: OAuthCall) -> None:
        super().__init__(method=call.method, uri=call.url, headers=call.headers)  # keys of any case
        self.payload = _Payload(call.params)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


# -- grants and endpoints -----------------------------------------------------------------


class _AuthorizationCodeGrant(authlib_grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def save_authorization_code(self, code: str, request: _Request) -> None:
        data = request.payload.data
        _on_loop(
            oauth_tokens.add_code(
                self.server.rt.db, token_hash(code), app_id=request.client.app.id, member_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or "", scopes=tuple(request.scope.split()),
                challenge=data.get("code_challenge"),
                challenge_method=data.get("code_challenge_method") if data.get("code_challenge") else None,
                lifetime=CODE_SECONDS,
            )
        )  # fmt: skip

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        # Taken, not just read: the code is gone even if a later check (PKCE) fails.
        found = _on_loop(oauth_tokens.take_code(self.server.rt.db, token_hash(code), client.app.id))
        return _Code(found) if found is not None else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        """Nothing left to do: query_authorization_code took the code."""

    def authenticate_user(self, authorization_code: _Code) -> Member | None:
        member = _on_loop(members.by_id(self.server.rt.db, authorization_code.code.member_id))
        return member if member is not None and member.can_sign_in else None


class _S256Only(CodeChallenge):
    """PKCE as Mastodon has it: S256 only, and checked whenever the app sent a challenge."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            raise InvalidRequestError("Missing 'code_challenge_method' (S256).")
        super().validate_code_challenge(grant, redirect_uri)


class _ClientCredentialsGrant(authlib_grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        hashed = token_hash(token_string)
        found = _on_loop(oauth_tokens.by_hash(self.server.rt.db, hashed))
        return _Token(found, hashed) if found is not None else None

    def revoke_token(self, token: _Token, request: _Request) -> None:
        _on_loop(oauth_tokens.delete_token(self.server.rt.db, token.hashed, token.token.app_id))


class _Server(AuthorizationServer):
    """Authlib's authorisation server over our store; requests and answers are OAuthCall/OAuthAnswer."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(scopes_supported=list(scope_rules.SUPPORTED))
        self.rt = rt
        self.register_token_generator("default", self._new_token)
        self.register_grant(_AuthorizationCodeGrant, [_S256Only(required=False)])
        self.register_grant(_ClientCredentialsGrant)
        self.register_endpoint(_Revocation)

    @staticmethod
    def _new_token(grant_type: str, client: _Client, user: Any = None, scope: str | None = None,
                   expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:  # fmt: skip
        # A code's scope was checked at the authorisation; client_credentials asks here, and
        # Authlib checks only that the scopes exist: the app's own registration limits them.
        allowed = client.get_allowed_scope(scope)
        if allowed is None:
            raise InvalidScopeError("The requested scope is not registered for this app.")
        return {"access_token": new_token(), "token_type": "Bearer", "scope": allowed, "created_at": int(time.time())}

    def query_client(self, client_id: str) -> _Client | None:
        if not client_id or len(client_id) > 200:
            return None
        app = _on_loop(oauth_apps.by_client_id(self.rt.db, client_id))
        return _Client(app) if app is not None else None

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        member = request.user
        _on_loop(
            oauth_tokens.add_token(
                self.rt.db, token_hash(token["access_token"]), app_id=request.client.app.id,
                member_id=member.id if member is not None else None, scopes=tuple(token["scope"].split()),
            )
        )  # fmt: skip

    def validate_requested_scope(self, scope: str | None) -> None:
        try:
            scope_rules.parse(scope)
        except scope_rules.ScopeError as exc:
            raise InvalidScopeError(str(exc).replace('"', "'")) from None

    def create_oauth2_request(self, request: Any) -> _Request:
        return request if isinstance(request, _Request) else _Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints")

    def handle_response(self, status: int, body: Any, headers: Any) -> OAuthAnswer:
        return OAuthAnswer(status, body, tuple((str(k), str(v)) for k, v in headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals are listened to."""


# -- what the web and API layers call -----------------------------------------------------


def _refusal(error: str, description: str, status: int = 400) -> OAuthAnswer:
    body = {"error": error, "error_description": description}
    return OAuthAnswer(status, body, (("Content-Type", "application/json"), ("Cache-Control", "no-store")))


def _too_long(call: OAuthCall) -> OAuthAnswer | None:
    if len(call.params) > 50 or any(len(v) > MAX_PARAM for _, v in call.params):
        return _refusal("invalid_request", "A parameter is too long.")
    return None


class OAuthService:
    """The OAuth endpoints' logic, one per app (the Authlib server is built once)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.server = _Server(rt)

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        _LOOP.set(asyncio.get_running_loop())
        try:
            return await asyncio.to_thread(fn, *args)
        except ValueError as exc:
            # Authlib will not put characters outside RFC 6749's set into an error description
            # (a redirect URI with a quote, say): such a request is malformed.
            if "forbidden characters" not in str(exc):
                raise
            return _refusal("invalid_request", "The request has characters that are not allowed.")

    async def token(self, call: OAuthCall) -> OAuthAnswer:
        """POST /oauth/token: authorization_code (PKCE checked when the code had a challenge), client_credentials."""
        refused = _too_long(call)
        if refused is not None:
            return refused
        answer: OAuthAnswer = await self._in_thread(self.server.create_token_response, _Request(call))
        return answer

    async def revoke(self, call: OAuthCall) -> OAuthAnswer:
        """POST /oauth/revoke (RFC 7009): the app's own token ends; an unknown token is answered alike."""
        refused = _too_long(call)
        if refused is not None:
            return refused
        answer: OAuthAnswer = await self._in_thread(self.server.create_endpoint_response, "revocation", _Request(call))
        return answer

    async def consent(self, call: OAuthCall, member: Member | None) -> Consent | OAuthAnswer:
        """Check an authorisation request; a Consent to show, or the answer to a bad one.

        An answer with a Location goes back to the app (its redirect URI was checked); one
        without must be shown here (unknown app, unregistered redirect URI: never redirect).
        """
        refused = _too_long(call)
        if refused is not None:
            return refused

        def check() -> Consent | OAuthAnswer:
            request = _Request(call)
            try:
                grant = self.server.get_consent_grant(request, end_user=member)
            except OAuth2Error as error:
                return self.server.handle_error_response(request, error)
            client: _Client = request.client
            return Consent(client.app, tuple(request.scope.split()), grant.redirect_uri, call.params)

        result: Consent | OAuthAnswer = await self._in_thread(check)
        return result

    async def authorize(self, call: OAuthCall, member: Member, approve: bool) -> OAuthAnswer:
        """The member's decision: a code for the app's redirect URI, or access_denied there."""
        refused = _too_long(call)
        if refused is not None:
            return refused

        def decide() -> OAuthAnswer:
            request = _Request(call)
            try:
                grant = self.server.get_consent_grant(request, end_user=member)
            except OAuth2Error as error:
                return self.server.handle_error_response(request, error)
            answer: OAuthAnswer = self.server.create_authorization_response(
                request, grant_user=member if approve else None, grant=grant
            )
            return answer

        answer: OAuthAnswer = await self._in_thread(decide)
        return answer

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata: the endpoints, scopes, grant types and code challenge methods."""
        base = self.rt.urls.base
        data = AuthorizationServerMetadata(
            issuer=base,
            authorization_endpoint=f"{base}/oauth/authorize",
            token_endpoint=f"{base}/oauth/token",
            revocation_endpoint=f"{base}/oauth/revoke",
            app_registration_endpoint=f"{base}/api/v1/apps",
            service_documentation=f"{base}/",
            scopes_supported=list(scope_rules.SUPPORTED),
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code", "client_credentials"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            revocation_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported=["S256"],
        )
        data.validate()
        return dict(data)


def code_of(answer: OAuthAnswer) -> tuple[str | None, str | None]:
    """The code (or the error) that an answer to an out-of-band (`oob`) authorisation carries."""
    location = answer.location or ""
    if not location.startswith(OOB):
        return None, None
    params = dict(parse_qsl(urlsplit(location).query))
    return params.get("code"), params.get("error")
