"""Odd input never gives a 500: every route of the app, enumerated from its router, is sent odd
path parameters, query values and form fields (huge and negative numbers, unicode digits, NUL,
very long text, IPv6 handles, empty values, protocol-relative paths), as a visitor and as a
signed-in admin with a valid CSRF token, and must answer below 500.

Nothing here leaves this machine: the instance resolves no names (a resolver that knows only
localhost), and every handle or URL among the odd values names a loopback address.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from api_client import token_for
from fediverse_a2.httpclient import StaticResolver
from fediverse_a2.services.events import add_event
from fediverse_a2.services.posts import publish_post
from fediverse_a2.services.social import comment
from fediverse_a2.store import actor_blocks, follows, members
from fediverse_a2.web.gate import GatedRoute, Level, handed_to
from helpers import LiveServer, live_server
from webclient import BROWSER, WebUser, csrf_of, member_with_password

PASSWORD = "correct horse battery"
BIG = "9" * 20  # more than a 64-bit integer holds
ODD = [
    BIG,
    "-1",
    "0",
    "²",  # a digit to str.isdigit(), not to int()
    "é😀\u202e\u200b",
    "a\x00b",
    "x" * 3000,
    "@x@[::1]:1",
    "",
    "//evil.example/",
    "http://[::1]:1/x",
]
IDS = {"event_id": "2"}  # the fixture's event (an event is a post: its id follows the post's); other ids are 1
PATH_ODD = [BIG, "-1", "²", "é😀", "%00", "x" * 1500, "@x@[::1]:1", "%2F%2Fevil.example"]
QUERY_NAMES = (
    "page", "q", "to", "uri", "resource", "next", "before", "lang", "order", "done", "id",
    "acct", "limit", "max_id", "since_id", "min_id", "resolve", "id[]", "only_media", "exclude_replies",
)  # fmt: skip
FORM_NAMES = (
    "body", "title", "summary", "language", "tags", "media", "alt_new_1", "group", "username", "password",
    "password_again", "current", "next", "name", "email", "organisation", "motivation", "handle", "uri", "to",
    "object", "page", "undo", "request", "decision", "role", "domain", "target", "report", "note", "item",
    "up_to", "hold", "locked", "reason", "field_name_0", "field_value_0", "mode_replies", "actor",
    # the client API and OAuth
    "display_name", "note", "fields_attributes[0][name]", "client_name", "redirect_uris", "scopes", "website",
    "grant_type", "code", "client_id", "client_secret", "redirect_uri", "token", "home[last_read_id]",
)  # fmt: skip
ACTION_NAMES = ("action", "decision", "kind", "resolution")
ACTIONS = (
    "", "preview", "draft", "publish", "approve", "reject", "remove", "follow", "unfollow", "block_actor",
    "unblock_actor", "block_domain", "report", "role", "disable", "enable", "import", "block", "unblock", "allow",
    "disallow", "hide", "unhide", "delete", "Like", "Announce", "resolved", "dismissed",
)  # fmt: skip


@pytest.fixture
async def a2(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as server:
        # No name is ever looked up: a stray handle in the odd values cannot leave this machine.
        server.rt.resolver = StaticResolver({"localhost": "127.0.0.1"})
        assert server.rt._http is None, "the client was made before the resolver was set"
        await member_with_password(server, "ada", "Ada Admin", PASSWORD, role="admin")
        post = await publish_post(server.rt, "ada", "Een post", "Tekst")
        await comment(server.rt, server.workers.directory, "ada", post, "Een reactie")
        event = await add_event(server.rt, "ada", "Een evenement", "2031-06-14T10:00", "2031-06-14T11:00")
        assert event.endswith(f"/events/{IDS['event_id']}")
        yield server


def _routes(server: LiveServer) -> list[GatedRoute]:
    """Every route of the app, the client API's included (found through the routes handing over to it)."""
    routes = [r for r in server.app.routes if isinstance(r, GatedRoute)]
    api = {id(inner): inner for route in server.app.routes for inner in handed_to(route)}
    routes += [r for r in api.values() if isinstance(r, GatedRoute)]
    assert len(routes) > 80
    # Admin and moderation routes late (their blocks would stop the others' lookups early), and
    # /logout last: the signed-in walk stays signed in until then.
    return sorted(routes, key=lambda r: (r.path == "/logout", r.path.startswith(("/admin/", "/moderation/"))))


def _paths(route: GatedRoute) -> list[str]:
    """The route's path with every parameter at 1 (or a name), then each odd value in each place."""
    names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)

    def fill(odd_name: str | None, odd: str) -> str:
        def value(m: re.Match[str]) -> str:
            if m.group(1) == odd_name:
                return odd
            return IDS.get(m.group(1), "1") if m.group(0).endswith((":id}", ":int}")) else "ada"

        return re.sub(r"\{(\w+)(?::\w+)?\}", value, route.path)

    paths = [fill(None, "")]
    for name in names:
        numeric = re.search(rf"\{{{name}:(id|int)\}}", route.path) is not None
        # A number's place takes only digits (anything else is no route at all): the odd numbers there.
        for odd in [BIG, "0", "0" * 30 + "1"] if numeric else PATH_ODD:
            paths.append(fill(name, quote(odd, safe="%@:") if odd != "%00" else odd))
    return paths


def _files(odd: str) -> dict[str, tuple[str, bytes, str]]:
    """Uploads that are not what they say (an image, an avatar, a CSV)."""
    data = odd.encode() or b"\xff"
    return {"image_1": ("x.jpg", data, "image/jpeg"), "avatar": ("a.png", b"\x89PNG\r\n", "image/png"),
            "csv": ("b.csv", data, "text/csv")}  # fmt: skip


async def _walk(
    server: LiveServer, web: WebUser, csrf: str, who: str, plausible: dict[str, str]
) -> list[tuple[str, str, str, int]]:
    """Every route with odd values; the (who, method, what, status) of every 5xx.

    Query and form fields get the odd value everywhere, every other time with the fields that
    name something (uri, to, object, ids) naming something real instead, so that handlers get
    past their lookups; a form's action fields get each odd value, then each action a form may
    name.
    """
    failures = []
    origin = {"Origin": server.base_url}

    def check(method: str, what: str, r: httpx.Response) -> None:
        if r.status_code >= 500:
            failures.append((who, method, what[:120], r.status_code))

    for route in _routes(server):
        methods = route.methods or set()
        sending = [m for m in sorted(methods) if m not in ("GET", "HEAD")][:1]  # POST, or PATCH for the API

        async def post(
            path: str, what: str, fields: dict[str, str], files: Any = None, sending: list[str] = sending
        ) -> None:
            for method in sending:
                r = await web.client.request(method, path, data=fields, files=files, headers=origin)
                check(method, f"{path} {what}", r)

        # A visitor is sent to sign in by the gate whatever the values: one request per route says so.
        deep = who == "admin" or route.access.level in (Level.VISITOR, Level.SIGNED)
        for path in _paths(route) if deep else _paths(route)[:1]:
            if "GET" in methods:
                check("GET", path, await web.get(path))
            await post(path, "", {"csrf": csrf})
        if not deep:
            continue
        path = _paths(route)[0]
        if "GET" in methods and who == "admin":  # the query walk once: visitors' pages are the same pages
            for i, odd in enumerate(ODD):
                params = dict.fromkeys(QUERY_NAMES, odd) | (plausible if i % 2 else {})
                check("GET", f"{path} ?{odd!r}{'+' if i % 2 else ''}", await web.get(path, params=params))
        if sending:
            for i, action in enumerate((*ODD, *ACTIONS)):
                odd = ODD[i % len(ODD)]
                fields = dict.fromkeys(FORM_NAMES, odd) | (plausible if i % 2 else {}) | {"csrf": csrf}
                fields |= dict.fromkeys(ACTION_NAMES, action)
                await post(path, f"{action[:20]!r} {odd!r}{'+' if i % 2 else ''}", fields)
                if i % 9 == 0:
                    await post(path, f"files {odd!r}", fields, _files(odd))
    return failures


@pytest.mark.slow  # thousands of requests: minutes on each backend
async def test_no_route_answers_odd_input_with_a_server_error(a2: LiveServer) -> None:
    urls = a2.rt.urls
    plausible = {  # names of real things, for the fields that name something
        "uri": urls.actor("ada"), "to": urls.comment(1), "object": urls.post(1), "actor": urls.actor("ada"),
        "username": "ada", "item": "1", "request": "1", "report": "1", "media": "1", "next": "/posts/1",
    }  # fmt: skip
    token = await token_for(a2.base_url, "ada", PASSWORD, "read write follow push")
    failures = []
    async with WebUser(a2.base_url) as admin:  # first: the visitor's odd sign-ins throttle this address
        assert (await admin.login("ada", PASSWORD)).status_code == 303
        admin.client.headers["Authorization"] = f"Bearer {token}"  # the client API's routes too
        csrf = csrf_of((await admin.get("/settings/password")).text)
        failures += await _walk(a2, admin, csrf, "admin", plausible)
    async with WebUser(a2.base_url) as visitor:
        csrf = csrf_of((await visitor.get("/login")).text)
        failures += await _walk(a2, visitor, csrf, "visitor", plausible)
    assert failures == []


# -- the named cases ------------------------------------------------------------------------------


async def test_an_id_too_large_for_the_database_is_not_found(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as admin:
        await admin.login("ada", PASSWORD)
        csrf = csrf_of((await admin.get("/settings/password")).text)
        for path in (
            "/posts/BIG",
            "/posts/BIG/replies",
            "/posts/BIG/edit",
            "/comments/BIG",
            "/moderation/comments/BIG",
        ):
            r = await admin.get(path.replace("BIG", BIG))
            assert r.status_code == 404, (path, r.status_code)
        for path in ("/posts/BIG/edit", "/posts/BIG/delete", "/posts/BIG/comments", "/moderation/comments/BIG"):
            r = await admin.client.post(path.replace("BIG", BIG), data={"csrf": csrf}, headers={"Origin": a2.base_url})
            assert r.status_code == 404, (path, r.status_code)
        # Ids in forms and queries: no such thing, and nothing changed.
        r = await admin.client.post(
            "/admin/requests",
            data={"csrf": csrf, "request": BIG, "decision": "approve"},
            headers={"Origin": a2.base_url},
        )
        assert r.status_code == 400
        r = await admin.client.post(
            "/notifications/read", data={"csrf": csrf, "up_to": "²"}, headers={"Origin": a2.base_url}
        )
        assert r.status_code == 303
        assert (await admin.get("/moderation/log", params={"before": BIG})).status_code == 200


@pytest.mark.parametrize("handle", ["@x@[::1]:1", "x@[::1]", "@x@[::ffff:127.0.0.1]:1", "@x@[fe80::1%25eth0]"])
async def test_an_ipv6_handle_is_a_clear_refusal(a2: LiveServer, handle: str) -> None:
    """/interact, follow and block with an IPv6 literal handle: a 4xx with a message, nothing stored."""
    origin = {"Origin": a2.base_url}
    ada = await members.by_username(a2.rt.db, "ada")
    assert ada is not None
    async with WebUser(a2.base_url) as visitor:
        page = await visitor.get("/interact", params={"uri": f"{a2.base_url}/users/ada"})
        r = await visitor.client.post(
            "/interact", data={"csrf": csrf_of(page.text), "uri": f"{a2.base_url}/users/ada", "handle": handle},
            headers=origin,
        )  # fmt: skip
        assert r.status_code == 400 and "location" not in r.headers, r.status_code
    async with WebUser(a2.base_url) as admin:
        await admin.login("ada", PASSWORD)
        r = await admin.submit("/following", "/following", {"action": "follow", "handle": handle})
        assert r.status_code == 400, r.status_code
        block = {"kind": "actor", "target": handle}  # the block asks first, on /moderation/block
        r = await admin.submit(f"/moderation/block?{urlencode(block)}", "/moderation/block", block)
        assert r.status_code == 400, r.status_code
    assert await follows.count_following(a2.rt.db, ada.id) == 0
    assert await actor_blocks.list_all(a2.rt.db) == []


async def test_nul_in_a_path_query_or_form_is_refused(a2: LiveServer) -> None:
    """PostgreSQL cannot hold NUL in text; no browser sends it: 400, and nothing is stored."""
    async with httpx.AsyncClient(base_url=a2.base_url, headers=BROWSER) as client:
        assert (await client.get("/users/a%00b")).status_code == 400
        assert (await client.get("/search", params={"q": "a\x00b"})).status_code == 400
    async with WebUser(a2.base_url) as admin:
        await admin.login("ada", PASSWORD)
        r = await admin.submit("/settings/profile", "/settings/profile", {"name": "Ada\x00", "summary": "x"})
        assert r.status_code == 400
    ada = await members.by_username(a2.rt.db, "ada")
    assert ada is not None and ada.name == "Ada Admin"


async def _raw_post(server: LiveServer, path: str, head: dict[str, str], body: bytes) -> int:
    """The status of a POST sent byte by byte (a Content-Length no client library would send)."""
    port = int(server.base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


@pytest.mark.parametrize("length", ["1" + "0" * 30, "²", "-5", "1e3"])
async def test_an_odd_content_length_is_a_4xx_for_forms_and_inboxes(a2: LiveServer, length: str) -> None:
    """One reader of size-limited bodies (request_body.py) behind the inbox and every form."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": a2.base_url, "Content-Length": length}
    inbox = {"Content-Type": "application/activity+json", "Content-Length": length}
    for path, head in (("/login", form), ("/join", form), ("/inbox", inbox), ("/users/ada/inbox", inbox)):
        status = await _raw_post(a2, path, head, b"x=1")
        assert 400 <= status < 500, (path, length, status)


async def test_a_body_over_the_limit_is_413_before_it_is_read_whole(a2: LiveServer) -> None:
    async with WebUser(a2.base_url) as web:
        token = csrf_of((await web.get("/join")).text)
        r = await web.client.post(
            "/join", data={"csrf": token, "motivation": "x" * 300_000}, headers={"Origin": a2.base_url}
        )
        assert r.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            yield f"csrf={token}&motivation=".encode()
            for _ in range(40):
                yield b"y" * 10_000  # no Content-Length: the limit holds while streaming

        r = await web.client.post(
            "/join",
            content=chunks(),
            headers={"Origin": a2.base_url, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413
