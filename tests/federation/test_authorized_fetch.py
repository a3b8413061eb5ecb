"""Authorized fetch, and two allowlist-mode instances that still federate (GoToSocial #3174)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fake_mastodon import FakeMastodon, running
from helpers import AP, ServiceProcess, db_value, last_line, wait_for


def _secure(allow: str) -> dict:
    return {"mode": "allowlist", "allow": [allow], "authorized_fetch": True, "allow_private_network": True}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[ServiceProcess, ServiceProcess]]:
    a = ServiceProcess(tmp_path / "a", host="127.0.0.2", federation=_secure("127.0.0.3"))
    b = ServiceProcess(tmp_path / "b", host="127.0.0.3", federation=_secure("127.0.0.2"))
    try:
        a.cli("member", "add", "alice", "--name", "Alice")
        b.cli("member", "add", "bob", "--name", "Bob")
        await a.start()
        await b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def _get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url, headers=headers or {"Accept": AP})


async def test_two_allowlist_instances_with_authorized_fetch_federate(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    alice = f"{a.base_url}/users/alice"
    # Actors need a signature; discovery and the instance actor stay open.
    assert (await _get(alice)).status_code == 401
    assert (await _get(f"{a.base_url}/actor")).status_code == 200
    host = a.base_url.removeprefix("http://")
    assert (await _get(f"{a.base_url}/.well-known/webfinger?resource=acct:alice@{host}")).status_code == 200
    assert (await _get(f"{a.base_url}/.well-known/nodeinfo")).status_code == 200

    b.cli("follow", "bob", alice)

    async def accepted() -> bool:
        return await db_value(b, "SELECT state FROM following") == "accepted"

    await wait_for(accepted, what="A to accept bob's follow")
    post = last_line(a.cli("post", "alice", "--title", "Beveiligd", "--body", "Alleen voor vrienden"))

    async def received() -> bool:
        return post in b.cli("timeline", "bob").stdout

    await wait_for(received, what="the post at B")
    comment = last_line(b.cli("comment", "bob", post, "--body", "Gelezen!"))

    async def commented() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            page = await client.get(post, headers={"Accept": "text/html", "User-Agent": "Mozilla/5.0"})
        return "Reactie van Bob op" in page.text

    await wait_for(commented, what="B's comment at A")
    assert comment.startswith(b.base_url)


async def test_signed_fetch_from_a_refused_domain_is_403(tmp_path: Path) -> None:
    a = ServiceProcess(tmp_path / "a", host="127.0.0.2", federation=_secure("127.0.0.3"))
    a.cli("member", "add", "alice", "--name", "Alice")
    await a.start()
    try:
        allowed, refused = FakeMastodon("127.0.0.3"), FakeMastodon("127.0.0.4")
        allowed.add_user("carol", "Carol")
        refused.add_user("mallory", "Mallory")
        async with running(allowed), running(refused):
            url = f"{a.base_url}/users/alice"
            ok = await _get(url, headers={"Accept": AP, **allowed.signed_headers("carol", "GET", url, None)})
            assert ok.status_code == 200 and ok.json()["type"] == "Person"
            bad = await _get(url, headers={"Accept": AP, **refused.signed_headers("mallory", "GET", url, None)})
            assert bad.status_code in (401, 403)
            # A tampered signature from an allowed domain is refused too.
            headers = allowed.signed_headers("carol", "GET", url, None)
            headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
            assert (await _get(url, headers={"Accept": AP, **headers})).status_code == 401
    finally:
        a.stop()
