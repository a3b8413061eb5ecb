"""One gate per route: every route of the app has a declared access, and the gate enforces it
through real HTTP for a visitor, a member, a moderator and an admin.

The table below is the route table's access written out once more by hand: a route added,
removed or re-declared without changing it here fails the enumeration test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from api_client import register, token_for
from fediverse_a2.models import Member
from fediverse_a2.services.events import add_event
from fediverse_a2.services.groups import add_group, add_moderator
from fediverse_a2.services.posts import publish_post
from fediverse_a2.services.social import comment
from fediverse_a2.store import members as member_store
from fediverse_a2.web.gate import Access, Gate, GatedRoute, Level, UndeclaredRoute, grant_of, handed_to, member_of
from fediverse_a2.web.links import Links
from fediverse_a2.web.security import WebSecurity
from helpers import LiveServer, free_socket, live_server, serving
from webclient import BROWSER, WebUser, csrf_of, member_with_password

PASSWORD = "correct horse battery"
V, M, MOD, ADMIN, SIGNED = "visitor", "member", "moderator", "admin", "signed"
G, P, GP = ("GET", "HEAD"), ("POST",), ("GET", "HEAD", "POST")

# path -> (declared access, methods)
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "/": (V, G),
    "/favicon.ico": (V, G),
    "/manifest.webmanifest": (V, G),
    "/members": (V, G),
    "/groups": (V, G),
    "/robots.txt": (V, G),
    "/feed.atom": (V, G),
    "/actor": (V, G),
    "/inbox": (SIGNED, P),
    "/users/{username}": (V, G),
    "/users/{username}/inbox": (SIGNED, P),
    "/users/{username}/feed.atom": (V, G),
    "/users/{username}/outbox": (V, G),
    "/users/{username}/followers": (V, G),
    "/users/{username}/following": (V, G),
    "/notes/{token:str}": (V, G),
    "/posts/new": (M, GP),
    "/posts/{post_id:id}": (V, G),
    "/posts/{post_id:id}/replies": (V, G),
    "/posts/{post_id:id}/edit": (M, GP),
    "/posts/{post_id:id}/delete": (M, GP),
    "/posts/{post_id:id}/comments": (M, P),
    "/comments/{comment_id:id}": (V, G),
    "/comments/{comment_id:id}/delete": (M, GP),
    "/events": (V, G),
    "/events.ics": (V, G),
    "/events/new": (M, GP),
    "/events/{event_id:id}": (V, G),
    "/events/{event_id:id}.ics": (V, G),
    "/events/{post_id:id}/replies": (V, G),
    "/events/{event_id:id}/edit": (M, GP),
    "/events/{event_id:id}/cancel": (M, GP),
    "/events/{event_id:id}/rsvp": (M, P),
    "/events/{event_id:id}/comments": (M, P),
    "/reply": (M, GP),
    "/timeline": (M, G),
    "/network": (M, G),
    "/timeline/react": (M, P),
    "/timeline/reply": (M, GP),
    "/login": (V, GP),
    "/logout": (V, P),
    "/invite/{token:str}": (V, GP),
    "/password/forgot": (V, GP),
    "/password/reset/{token:str}": (V, GP),
    "/join": (V, GP),
    "/settings/profile": (M, GP),
    "/settings/profile/fields": (M, P),
    "/settings/password": (M, GP),
    "/settings/export": (M, GP),
    "/settings/delete": (M, GP),
    "/privacy": (V, G),
    "/settings/notifications": (M, GP),
    "/settings/moderation": (M, GP),
    "/settings/apps": (M, G),
    "/settings/apps/revoke": (M, GP),
    "/settings/images": (M, GP),
    "/oauth/authorize": (V, GP),  # the app's request is checked first; the page then sends a visitor to sign in
    "/oauth/authorize/": (V, GP),  # as toot asks for it
    "/notifications": (M, G),
    "/notifications/read": (M, P),
    "/admin/requests": (ADMIN, GP),
    "/admin/requests/reject": (ADMIN, GP),
    "/admin/members": (ADMIN, GP),
    "/admin/federation": (ADMIN, GP),
    "/admin/queue": (ADMIN, G),
    "/admin/health": (ADMIN, G),
    "/healthz": (V, G),
    "/metrics": (V, G),  # open to the gate; its handler admits only a scraper (web/health.py)
    "/moderation": (M, G),
    "/moderation/comments/{comment_id:id}": (M, GP),
    "/moderation/comments/{comment_id:id}/delete": (M, GP),
    "/moderation/block": (MOD, GP),
    "/moderation/blocks": (MOD, GP),
    "/moderation/reports": (MOD, GP),
    "/moderation/log": (MOD, G),
    "/interact": (V, GP),
    "/followers": (M, GP),
    "/following": (M, GP),
    "/followers/remove": (M, GP),
    "/following/remove": (M, GP),
    "/groups/{username:str}": (V, G),
    "/groups/{username:str}/remove": (M, GP),
    "/groups/{username:str}/join": (M, P),
    "/groups/{username:str}/requests": (M, GP),
    "/pages/{slug:str}": (V, G),
    "/tags/{tag:str}": (V, G),
    "/tags/{tag:str}/feed.atom": (V, G),
    "/search": (V, G),
    "/archive": (V, G),
    "/archive/{year:int}/{month:int}": (V, G),
    "/media/{name:str}": (V, G),
    "/media/proxy/{kind:str}/{signature:str}/{encoded:str}": (V, G),
    "/.well-known/webfinger": (V, G),
    "/.well-known/nodeinfo": (V, G),
    "/.well-known/host-meta": (V, G),
    "/nodeinfo/2.1": (V, G),
    "/xn/detail/{old:str}": (V, G),
    "/profile/{name:str}": (V, G),
    "/files/{name:str}": (V, G),
    "/profiles/blog/show": (V, G),
    "/forum/topics/show": (V, G),
    "/groups/group/show": (V, G),
    "/profiles/members/show": (V, G),
    "/photo/photo/show": (V, G),
    "/video/video/show": (V, G),
    "/profiles/blogs/{slug:str}": (V, G),
    "/forum/topics/{slug:str}": (V, G),
    "/group/{group:str}/forum/topics/{slug:str}": (V, G),
    "/page/{slug:str}": (V, G),
}
# The client API's endpoints (declared in api/routes.py), by path and methods. `token:S` needs a
# member's token holding one of the scopes S (`*`: any); `?`: a request without a token is a
# visitor; `+app`: an app's own token will do.
ANY, APP = "token:*?+app", "token:*+app"
EXPECTED_API: dict[tuple[str, tuple[str, ...]], str] = {
    ("/api/v1/apps", P): V,
    ("/api/v1/apps/verify_credentials", G): APP,
    ("/oauth/token", P): V,
    ("/oauth/revoke", P): V,
    ("/.well-known/oauth-authorization-server", G): V,
    ("/api/v1/instance", G): ANY,
    ("/api/v2/instance", G): ANY,
    ("/api/v1/preferences", G): "token:read:accounts",
    ("/api/v1/markers", G): "token:read:statuses",
    ("/api/v1/markers", P): "token:write:statuses",
    ("/api/v1/custom_emojis", G): ANY,
    ("/api/v1/announcements", G): "token:read",
    ("/api/v1/lists", G): "token:read:lists",
    ("/api/v1/filters", G): "token:read:filters",
    ("/api/v2/filters", G): "token:read:filters",
    ("/api/v1/followed_tags", G): "token:read:follows",
    ("/api/v1/conversations", G): "token:read:statuses",
    ("/api/v1/accounts/verify_credentials", G): "token:read:accounts|profile",
    ("/api/v1/accounts/update_credentials", ("PATCH", "POST", "PUT")): "token:write:accounts",
    ("/api/v1/accounts/lookup", G): ANY,
    ("/api/v1/accounts/relationships", G): "token:read:follows",
    ("/api/v1/accounts/search", G): "token:read:accounts",
    ("/api/v1/accounts/{id}", G): ANY,
    ("/api/v1/accounts/{id}/statuses", G): ANY,
    ("/api/v1/accounts/{id}/followers", G): ANY,
    ("/api/v1/accounts/{id}/following", G): ANY,
    ("/api/v1/accounts/{id}/follow", P): "token:write:follows",
    ("/api/v1/accounts/{id}/unfollow", P): "token:write:follows",
    ("/api/v1/follow_requests", G): "token:read:follows",
    ("/api/v1/follow_requests/{id}/authorize", P): "token:write:follows",
    ("/api/v1/follow_requests/{id}/reject", P): "token:write:follows",
    ("/api/v1/statuses", P): "token:write:statuses",
    ("/api/v1/statuses/{id}", G): ANY,
    ("/api/v1/statuses/{id}", ("PUT",)): "token:write:statuses",
    ("/api/v1/statuses/{id}", ("DELETE",)): "token:write:statuses",
    ("/api/v1/statuses/{id}/history", G): ANY,
    ("/api/v1/statuses/{id}/source", G): "token:read:statuses",
    ("/api/v1/statuses/{id}/context", G): ANY,
    ("/api/v1/statuses/{id}/favourite", P): "token:write:favourites",
    ("/api/v1/statuses/{id}/unfavourite", P): "token:write:favourites",
    ("/api/v1/statuses/{id}/reblog", P): "token:write:statuses",
    ("/api/v1/statuses/{id}/unreblog", P): "token:write:statuses",
    ("/api/v1/statuses/{id}/favourited_by", G): ANY,
    ("/api/v1/statuses/{id}/reblogged_by", G): ANY,
    ("/api/v1/timelines/home", G): "token:read:statuses",
    ("/api/v1/timelines/public", G): ANY,
    ("/api/v1/timelines/tag/{hashtag}", G): ANY,
    ("/api/v1/notifications", G): "token:read:notifications",
    ("/api/v1/notifications/clear", P): "token:write:notifications",
    ("/api/v1/notifications/unread_count", G): "token:read:notifications",
    ("/api/v2/notifications", G): "token:read:notifications",
    ("/api/v1/notifications/{id}", G): "token:read:notifications",
    ("/api/v1/notifications/{id}/dismiss", P): "token:write:notifications",
    ("/api/v1/media", P): "token:write:media",
    ("/api/v2/media", P): "token:write:media",
    ("/api/v1/media/{id}", G): "token:write:media",
    ("/api/v1/media/{id}", ("PUT",)): "token:write:media",
    ("/api/v2/search", G): ANY,
}
RANK = {V: 0, M: 1, MOD: 2, ADMIN: 3}


@dataclass
class Person:
    """A signed-in browser with the things it owns (filled into the routes' parameters)."""

    name: str
    role: str
    web: WebUser
    post: int
    spare_post: int  # deleted by the delete route
    comment: int
    event: int  # one they organise (its edit and cancel pages)


@dataclass
class World:
    a2: LiveServer
    people: list[Person]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with live_server(tmp_path / "a2") as a2:
        await add_group(a2.rt, "buurt", "De buurt")
        people = []
        for name, role in (("mia", M), ("mo", MOD), ("ada", ADMIN)):
            await member_with_password(a2, name, name.title(), PASSWORD, role=role)
            await add_moderator(a2.rt, "buurt", name)  # so the group's remove admits each of them
            post = await publish_post(a2.rt, name, f"Post van {name}", "Tekst")
            spare = await publish_post(a2.rt, name, f"Weg met {name}", "Tekst")
            said = await comment(a2.rt, a2.workers.directory, name, post, "Zelf gezegd")
            event = await add_event(a2.rt, name, f"Overleg van {name}", "2031-06-14T10:00", "2031-06-14T11:00")
            web = WebUser(a2.base_url)
            assert (await web.login(name, PASSWORD)).status_code == 303
            people.append(Person(name, role, web, _id(post), _id(spare), _id(said), _id(event)))
        try:
            yield World(a2, people)
        finally:
            for person in people:
                await person.web.client.aclose()


def _id(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def _path(route: GatedRoute, who: Person | None) -> str:
    """The route's path with its parameters filled in: for a person, things they own."""
    values = {
        "post_id": str(who.spare_post if who and route.path.endswith("/delete") else who.post if who else 1),
        "comment_id": str(who.comment if who else 1),
        "event_id": str(who.event if who else 1),
        "username": "buurt" if route.path.startswith("/groups/") else who.name if who else "mia",
        "year": "2024",
        "month": "1",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "x"), route.path)


def _gated(a2: LiveServer) -> list[GatedRoute]:
    return [r for r in a2.app.routes if isinstance(r, GatedRoute)]


def _api(a2: LiveServer) -> list[GatedRoute]:
    """The client API's routes, found through the routes that hand requests over to it."""
    found: dict[tuple[str, tuple[str, ...]], GatedRoute] = {}
    for route in a2.app.routes:
        for inner in handed_to(route):
            assert isinstance(inner, GatedRoute), getattr(inner, "path", inner)
            found.setdefault((inner.path, tuple(sorted(inner.methods or ()))), inner)
    return list(found.values())


async def _post(client: httpx.AsyncClient, base: str, path: str, csrf: str | None) -> httpx.Response:
    data = {"csrf": csrf} if csrf else {}
    return await client.post(path, data=data, headers={"Origin": base, **BROWSER})


def _to_login(r: httpx.Response, base: str) -> bool:
    return r.status_code == 303 and r.headers["location"].startswith(f"{base}/login")


# -- the declarations -----------------------------------------------------------------------------


async def test_every_route_declares_its_access_and_the_table_says_which(world: World) -> None:
    routes = world.a2.app.routes
    undeclared = [r for r in routes if not isinstance(r, GatedRoute | Mount) and not handed_to(r)]
    assert undeclared == []
    assert [r.path for r in routes if isinstance(r, Mount)] == ["/static"]  # static files only
    declared = {r.path: (str(r.access), tuple(sorted(r.methods or ()))) for r in _gated(world.a2)}
    assert declared == {path: (access, tuple(sorted(methods))) for path, (access, methods) in EXPECTED.items()}
    api = {(r.path, tuple(sorted(r.methods or ()))): str(r.access) for r in _api(world.a2)}
    assert api == {(path, tuple(sorted(methods))): access for (path, methods), access in EXPECTED_API.items()}
    # The route table holds no route the gate did not make.
    made = {id(r) for r in world.a2.app.state.gate.routes}
    assert all(id(r) in made for r in [*_gated(world.a2), *_api(world.a2)])


def test_an_undeclared_route_stops_the_app_from_being_built() -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    with pytest.raises(UndeclaredRoute, match="/x"):
        Gate.check([Route("/x", endpoint, methods=["POST"])])
    with pytest.raises(UndeclaredRoute, match="/y"):
        Gate.check([Route("/y", endpoint)])
    with pytest.raises(UndeclaredRoute, match="/inner"):
        Gate.check([Mount("/outer", routes=[Route("/inner", endpoint, methods=["POST"])])])
    with pytest.raises(UndeclaredRoute, match="/app"):
        Gate.check([Mount("/app", app=Starlette())])  # an app behind a mount must be gated too
    Gate.check([Mount("/static", StaticFiles(directory="."))])


# -- the gate through HTTP ------------------------------------------------------------------------


async def test_a_visitor_is_sent_to_sign_in_from_every_members_route(world: World) -> None:
    base = world.a2.base_url
    async with httpx.AsyncClient(base_url=base, headers=BROWSER, timeout=20) as visitor:
        for route in _gated(world.a2):
            level = str(route.access)
            path = _path(route, None)
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                if method == "GET":
                    r = await visitor.get(path)
                else:
                    r = await _post(visitor, base, path, None)
                if level in (M, MOD, ADMIN):
                    expected = f"{base}/login?next={path}" if method == "GET" else f"{base}/login"
                    assert r.status_code == 303 and r.headers["location"] == expected, (method, path, r.status_code)
                elif level == SIGNED:
                    assert r.status_code in (401, 415), (method, path, r.status_code)  # no signature, no form
                else:
                    assert not _to_login(r, base) and r.status_code < 500, (method, path, r.status_code)
        # A form sent from a page of ours comes back to that page after signing in.
        r = await visitor.post("/timeline/react", headers={"Origin": base, "Referer": f"{base}/timeline?page=2"})
        assert r.headers["location"] == f"{base}/login?next=/timeline%3Fpage%3D2"


async def test_each_role_gets_its_routes_and_403_on_the_others(world: World) -> None:
    base = world.a2.base_url
    for person in world.people:
        csrf = csrf_of((await person.web.get("/settings/password")).text)
        for route in _gated(world.a2):
            level = str(route.access)
            if level not in RANK or level == V:
                continue
            path = _path(route, person)
            allowed = RANK[person.role] >= RANK[level]
            if "GET" in (route.methods or ()):
                r = await person.web.get(path)
                # 404 for /reply and /timeline/reply without ?to=; 400 for a question without what it is about
                if allowed:
                    expected = r.status_code in (200, 400, 404) and not _to_login(r, base)
                    assert expected, (person.name, path, r.status_code)
                else:
                    assert r.status_code == 403 and "Geen toegang" in r.text, (person.name, path, r.status_code)
            if "POST" in (route.methods or ()) and (not allowed or "GET" not in (route.methods or ())):
                # The gate answers before the form is read: even without a token, too low a role is 403.
                r = await _post(person.web.client, base, path, csrf if allowed else None)
                if allowed:
                    assert r.status_code != 403 and not _to_login(r, base), (person.name, path, r.status_code)
                else:
                    assert r.status_code == 403 and "Geen toegang" in r.text, (person.name, path, r.status_code)


async def test_a_disabled_member_is_a_visitor_to_the_gate(world: World) -> None:
    mia = world.people[0]
    assert (await mia.web.get("/timeline")).status_code == 200
    found = await member_store.by_username(world.a2.rt.db, "mia")
    assert found is not None
    await member_store.set_disabled(world.a2.rt.db, found.id, True)
    r = await mia.web.get("/timeline")
    assert _to_login(r, world.a2.base_url)


# -- bearer tokens (the client API declares its routes this way) ----------------------------------


@dataclass(frozen=True)
class FakeGrant:
    """What the test's authenticator grants (the app's is services.apps.token_grant)."""

    member: Member | None
    scopes: tuple[str, ...]


@dataclass
class TokenApp:
    app: Starlette
    sock: object
    base: str


async def test_token_routes_answer_as_mastodon_does(world: World) -> None:
    rt = world.a2.rt
    mia = await member_store.by_username(rt.db, "mia")
    assert mia is not None
    grants = {
        "read-all": FakeGrant(mia, ("read",)),
        "write-statuses": FakeGrant(mia, ("write:statuses",)),
        "app-only": FakeGrant(None, ("read",)),
    }
    seen: list[str] = []

    async def authenticate(token: str) -> FakeGrant | None:
        seen.append(token)
        return grants.get(token)

    async def who(request: Request) -> Response:
        grant = grant_of(request)
        member: Member | None = request.state.member
        return JSONResponse(
            {"member": member.username if member else None, "scopes": sorted(grant.scopes) if grant else []}
        )

    async def me(request: Request) -> Response:
        return JSONResponse({"member": member_of(request).username})

    async def forbidden(request: Request) -> Response:
        return PlainTextResponse("403", status_code=403)

    gate = Gate(WebSecurity(rt, rt.web_secret), Links(rt.urls), forbidden, tokens=authenticate)
    routes = [
        gate.route("/statuses", me, Access.token("read:statuses")),
        gate.route("/post", me, Access.token("write:statuses"), methods=["POST"]),
        gate.route("/either", me, Access.token("write:statuses", "read:statuses")),
        gate.route("/public", who, Access.token("read:statuses", optional=True)),
        gate.route("/app", who, Access.token("read", user=False)),
    ]
    Gate.check(routes)
    sock = free_socket()
    target = TokenApp(Starlette(routes=routes), sock, f"http://127.0.0.1:{sock.getsockname()[1]}")

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async with serving(target), httpx.AsyncClient(base_url=target.base) as client:
        r = await client.get("/statuses")
        assert r.status_code == 401 and r.json() == {"error": "The access token is invalid"}
        assert r.headers["www-authenticate"] == 'Bearer realm="Doorkeeper"'
        r = await client.get("/statuses", headers=bearer("stolen"))
        assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        r = await client.get("/statuses", headers=bearer("read-all"))  # `read` covers read:statuses
        assert r.status_code == 200 and r.json() == {"member": "mia"}
        r = await client.get("/statuses", headers=bearer("write-statuses"))
        assert r.status_code == 403 and r.json() == {"error": "This action is outside the authorized scopes"}
        assert (await client.post("/post", headers=bearer("write-statuses"))).status_code == 200
        assert (await client.post("/post", headers=bearer("read-all"))).status_code == 403
        assert (await client.get("/either", headers=bearer("read-all"))).status_code == 200  # one of them will do
        r = await client.get("/statuses", headers=bearer("app-only"))  # a user is needed here
        assert r.status_code == 422 and r.json() == {"error": "This method requires an authenticated user"}
        r = await client.get("/app", headers=bearer("app-only"))
        assert r.status_code == 200 and r.json() == {"member": None, "scopes": ["read"]}
        # Optional: no token is a visitor; a bad one is still refused.
        r = await client.get("/public")
        assert r.status_code == 200 and r.json() == {"member": None, "scopes": []}
        assert (await client.get("/public", headers=bearer("stolen"))).status_code == 401
        assert (await client.get("/public", headers={"Authorization": "Basic eA=="})).status_code == 401
        # A session cookie is no token.
        session = "; ".join(f"{k}={v}" for k, v in world.people[0].web.client.cookies.items())
        r = await client.get("/statuses", headers={"Cookie": session})
        assert r.status_code == 401
    assert "stolen" in seen and "" not in seen


def test_a_token_route_without_an_authenticator_is_refused(tmp_path: Path) -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def forbidden(request: Request) -> Response:
        return PlainTextResponse("403", status_code=403)

    gate = Gate(None, None, forbidden)  # type: ignore[arg-type]  # never reached: refused before
    with pytest.raises(UndeclaredRoute, match="token authenticator"):
        gate.route("/api/v1/statuses", endpoint, Access.token("read:statuses"))
    with pytest.raises(ValueError):
        Access.token("read write")


def _needs_user(r: httpx.Response) -> bool:
    return r.status_code == 422 and r.json() == {"error": "This method requires an authenticated user"}


def _refused_token(r: httpx.Response) -> bool:
    """The gate's refusals (a handler's own 422 says something else)."""
    return r.status_code in (401, 403) or _needs_user(r)


async def test_every_api_route_checks_its_token_through_http(world: World) -> None:
    """Real tokens from the real OAuth flow, on every token route of the client API."""
    base = world.a2.base_url
    full = await token_for(base, "mia", PASSWORD, "read write follow")
    push_only = await token_for(base, "mia", PASSWORD, "push")
    app = await register(base, "read write follow")
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        form = {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.client_secret}
        r = await client.post("/oauth/token", data=form | {"scope": "read write follow"})
        assert r.status_code == 200, r.text
        app_only = r.json()["access_token"]

        async def call(route: GatedRoute, token: str | None) -> httpx.Response:
            method = sorted(route.methods or ())[0] if "GET" not in (route.methods or ()) else "GET"
            path = route.path.replace("{id}", "999999")  # no such account or request: nothing changes
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await client.request(method, path, headers=headers)

        checked = 0
        for route in _api(world.a2):
            access = route.access
            if access.level != Level.TOKEN:
                continue
            checked += 1
            what = (route.path, str(access))
            r = await call(route, None)
            assert (r.status_code != 401) if access.optional else (r.status_code == 401), what
            assert (await call(route, "not-a-token")).status_code == 401, what
            r = await call(route, push_only)
            assert r.status_code == 403 if access.scopes else not _refused_token(r), what
            r = await call(route, app_only)
            assert _needs_user(r) if access.user else not _refused_token(r), what
            r = await call(route, full)
            assert not _refused_token(r), (what, r.status_code, r.text[:200])
        assert checked >= 20
