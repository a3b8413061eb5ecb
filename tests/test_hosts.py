"""Every host decision goes through hosts.py: authorities of handles and resources, IPv6 in
brackets, default ports, and what uses them (Urls, WebFinger handles, the signed Host)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.federation.webfinger import parse_handle
from fediverse_a2.hosts import format_authority, is_authority_of, parse_origin, same_host
from fediverse_a2.signatures import sign_headers
from helpers import LiveServer, live_server
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"


def test_an_authority_is_written_with_ipv6_in_brackets() -> None:
    assert format_authority("a2.example", None) == "a2.example"
    assert format_authority("a2.example", 8443) == "a2.example:8443"
    assert format_authority("::1", 1) == "[::1]:1"
    assert format_authority("2001:db8::1", None) == "[2001:db8::1]"
    assert parse_origin("http://[::1]:8000").authority == "[::1]:8000"
    assert parse_origin("https://[2001:db8::1]:443/").authority == "[2001:db8::1]"


@pytest.mark.parametrize(
    ("authority", "base", "ours"),
    [
        ("a2.example", "https://a2.example", True),
        ("A2.Example.", "https://a2.example", True),
        ("a2.example:443", "https://a2.example", True),
        ("a2.example:", "https://a2.example", True),
        ("a2.example:8443", "https://a2.example", False),
        ("a2.example", "https://a2.example:8443", False),
        ("127.1:8000", "http://127.0.0.1:8000", True),
        ("[::ffff:127.0.0.1]:8000", "http://127.0.0.1:8000", True),
        ("[::1]:8000", "http://[::1]:8000", True),
        ("::1", "http://[::1]:8000", False),
        ("[::1]:1", "http://[::1]:8000", False),
        ("sub.a2.example", "https://a2.example", False),
        ("a2.example:99999", "https://a2.example", False),
        ("a2.example@evil.example", "https://a2.example", False),
        ("", "https://a2.example", False),
        ("[::1", "http://[::1]:8000", False),
    ],
)
def test_an_authority_names_an_origin_in_any_spelling(authority: str, base: str, ours: bool) -> None:
    assert is_authority_of(authority, parse_origin(base)) is ours
    assert Urls(base).is_own_authority(authority) is ours


def test_same_host_compares_canonical_hosts_of_urls() -> None:
    assert same_host("https://Mastodon.Example./@bob", "http://mastodon.example:8080/users/bob")
    assert same_host("http://127.1/x", "https://[::ffff:127.0.0.1]/y")
    assert not same_host("https://cdn.mastodon.example/a", "https://mastodon.example/users/bob")
    assert not same_host("/relative", "https://mastodon.example/") and not same_host(None, None)


def test_urls_give_the_canonical_authority_and_host() -> None:
    urls = Urls("https://A2.Example")
    assert urls.host == "a2.example" and urls.hostname == "a2.example"
    assert urls.handle("alice") == "@alice@a2.example"
    v6 = Urls("http://[::1]:8000")
    assert v6.host == "[::1]:8000" and v6.hostname == "::1"
    assert v6.handle("alice") == "@alice@[::1]:8000"


@pytest.mark.parametrize(
    ("text", "host", "authority"),
    [
        ("@x@[::1]:1", "::1", "[::1]:1"),
        ("x@[::1]", "::1", "[::1]"),
        ("@x@[::ffff:10.0.0.1]:8080", "10.0.0.1", "10.0.0.1:8080"),
        ("acct:bob@Mastodon.Example", "mastodon.example", "mastodon.example"),
        ("@bob@127.1:3000", "127.0.0.1", "127.0.0.1:3000"),
    ],
)
def test_a_handle_keeps_its_ipv6_brackets(text: str, host: str, authority: str) -> None:
    handle = parse_handle(text)
    assert (handle.host, handle.authority) == (host, authority)
    assert str(handle).endswith("@" + authority)
    assert parse_origin(f"https://{handle.authority}/").host == host  # a usable URL authority


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Example.ORG:443/inbox", "example.org"),
        ("http://example.org:80/inbox", "example.org"),
        ("https://example.org:8443/inbox", "example.org:8443"),
        ("http://[::1]:8080/inbox", "[::1]:8080"),
        ("https://[2001:db8::1]:443/inbox", "[2001:db8::1]"),
    ],
)
def test_the_signed_host_is_canonical_with_the_default_port_left_out(url: str, host: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert sign_headers("POST", url, b"{}", "https://a2.example/actor#main-key", key)["Host"] == host


# -- through the routes ---------------------------------------------------------------------------


@pytest.fixture
async def a2(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2") as server:
        await member_with_password(server, "alice", "Alice", PASSWORD, role="moderator")
        yield server


async def test_webfinger_knows_this_instance_in_any_spelling_of_its_address(a2: LiveServer) -> None:
    port = a2.base_url.rsplit(":", 1)[1]
    async with httpx.AsyncClient(base_url=a2.base_url) as client:
        for spelling in (f"127.0.0.1:{port}", f"127.1:{port}", f"[::ffff:127.0.0.1]:{port}", f"0x7f000001:{port}"):
            r = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{spelling}"})
            assert r.status_code == 200, spelling
            assert r.json()["subject"] == f"acct:alice@127.0.0.1:{port}"
        for other in ("127.0.0.1", f"127.0.0.2:{port}", f"[::1]:{port}", "127.0.0.1:1", f"a@127.0.0.1:{port}"):
            r = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{other}"})
            assert r.status_code == 404, other


async def test_a_moderator_cannot_block_this_instance_by_another_spelling(a2: LiveServer) -> None:
    port = a2.base_url.rsplit(":", 1)[1]
    async with WebUser(a2.base_url) as web:
        await web.login("alice", PASSWORD)
        for handle in (f"@bob@127.1:{port}", f"@bob@[::ffff:127.0.0.1]:{port}", f"@bob@127.0.0.1:{port}"):
            form = {"kind": "actor", "target": handle}  # the block asks first, on /moderation/block
            r = await web.submit(f"/moderation/block?{urlencode(form)}", "/moderation/block", form)
            assert r.status_code == 400 and "Dit account staat op deze server" in r.text, handle
