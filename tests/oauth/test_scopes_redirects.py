"""The pure OAuth rules: Mastodon's scopes and which cover which; the redirect URIs an app may register."""

from __future__ import annotations

import pytest

from fediverse_a2.oauth import scopes
from fediverse_a2.oauth.redirects import OOB, RedirectError, form_action_source, parse_registered


def test_scopes_parse_in_mastodons_spellings() -> None:
    assert scopes.parse(None) == ("read",) == scopes.parse("  ")
    assert scopes.parse("read write follow push") == ("read", "write", "follow", "push")
    assert scopes.parse("read+write:statuses,read") == ("read", "write:statuses")
    for bad in ("admin:read", "read:everything", "write read:nothing", "x" * 2000):
        with pytest.raises(scopes.ScopeError):
            scopes.parse(bad)


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        (("read",), ("read:statuses",), True),
        (("read:statuses",), ("read:statuses",), True),
        (("read:statuses",), ("read:accounts",), False),
        (("read",), ("write:statuses",), False),
        (("write",), ("read",), False),
        (("follow",), ("write:follows",), True),
        (("follow",), ("read:blocks",), True),
        (("follow",), ("write:statuses",), False),
        (("profile",), ("read:accounts", "profile"), True),
        (("profile",), ("read:accounts",), False),
        (("push",), (), True),
        ((), ("read",), False),
    ],
)
def test_covers(granted: tuple[str, ...], needed: tuple[str, ...], allowed: bool) -> None:
    assert scopes.covers(granted, needed) is allowed


def test_registered_redirect_uris() -> None:
    assert parse_registered("ivory://oauth\nhttps://app.invalid/cb  urn:ietf:wg:oauth:2.0:oob") == (
        "ivory://oauth", "https://app.invalid/cb", OOB,
    )  # fmt: skip
    assert parse_registered(["org.joinmastodon.android://callback", "ivory://oauth"])[0].startswith("org.")
    assert parse_registered("app://cb app://cb") == ("app://cb",)
    bad = ["", "javascript:alert(1)", "JavaScript://x", "data:text/html,x", "https://a.invalid/#x", "relative/path",
           "https://", "http:///path", 'app://"quoted"', "app://a b", "https://user@a.invalid/", "file:///etc/passwd",
           "x:" + "a" * 3000]  # fmt: skip
    for uri in bad:
        with pytest.raises(RedirectError):
            parse_registered(uri if uri else None)
    with pytest.raises(RedirectError):
        parse_registered(" ".join(f"app://{i}" for i in range(11)))


def test_form_action_sources_are_built_from_parsed_parts() -> None:
    assert form_action_source("ivory://oauth?x=1") == "ivory:"
    assert form_action_source("https://App.Invalid:443/cb?q") == "https://app.invalid"
    assert form_action_source("http://127.0.0.1:8080/cb") == "http://127.0.0.1:8080"
    assert form_action_source(OOB) is None
    # nothing of the URI can add a directive
    assert form_action_source("https://a.invalid;script-src *") is None
