"""activitypub.jsonld: the fast path, the pyld slow path, and the bundle-only loader."""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fediverse_a2.activitypub import jsonld
from fediverse_a2.activitypub.jsonld import (
    AS_URL,
    CONTEXT_URLS,
    ContextNotBundled,
    NormaliseError,
    bundled_context,
    document_loader,
    is_compact_as2,
    normalise,
)
from fediverse_a2.activitypub.parse import PUBLIC, parse_activity, parse_actor, parse_note

PAYLOADS = Path(__file__).parent / "fixtures" / "payloads"
ACTIVITIES = [
    "mastodon_create_reply.json",
    "gotosocial_create.json",
    "misskey_create_quote.json",
    "akkoma_create.json",
    "wordpress_article_reply.json",
    "fedify_create.json",
]
ACTORS = ["mastodon_actor.json", "gotosocial_actor.json", "fedify_actor.json"]


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection or resolve a name fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def activity_fields(doc: dict[str, Any]) -> dict[str, Any]:
    activity = parse_activity(doc)
    fields = dataclasses.asdict(activity)
    del fields["raw"], fields["object"]
    fields["note"] = parse_note(activity.object) if isinstance(activity.object, dict) else None  # type: ignore[arg-type]
    return fields


# --- fast path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVITIES + ACTORS + ["gotosocial_key.json"])
def test_fast_path_returns_the_same_object(name: str, no_network: None) -> None:
    doc = load(name)
    before = copy.deepcopy(doc)
    assert is_compact_as2(doc)
    assert normalise(doc) is doc
    assert doc == before


def test_fast_path_never_imports_pyld() -> None:
    code = (
        "import json, sys\n"
        "from fediverse_a2.activitypub.jsonld import normalise\n"
        "from fediverse_a2.activitypub.parse import parse_activity\n"
        f"doc = json.load(open({str(PAYLOADS / 'mastodon_create_reply.json')!r}))\n"
        "assert normalise(doc) is doc\n"
        "parse_activity(doc)\n"
        "assert 'pyld' not in sys.modules, 'pyld imported on the fast path'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "ctx",
    [
        None,  # no @context: AS2 Core says the AS context applies anyway
        AS_URL,
        [AS_URL],
        [
            AS_URL,
            "https://w3id.org/security/v1",
            {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji"},
        ],
        ["https://w3id.org/security/v1", AS_URL],
        ["https://w3id.org/identity/v1", AS_URL],  # before AS: AS wins again
        [AS_URL, "https://social.example/schemas/litepub-0.1.jsonld", {"@language": "und"}],
        [AS_URL, {"id": "@id", "type": "@type", "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"}}],
        [AS_URL, {"sensitive": {"@id": "as:sensitive", "@type": "xsd:boolean"}}],
        [AS_URL, {"@vocab": "https://www.w3.org/ns/activitystreams#"}],
        [AS_URL, {"vcard": "http://www.w3.org/2006/vcard/ns#", "Key": "sec:Key"}],
        [{"to": "https://example.org/other#to"}, AS_URL],  # redefined, then restored by AS
    ],
)
def test_harmless_contexts_are_fast(ctx: Any) -> None:
    doc = {"id": "https://mastodon.example/users/alice/statuses/1", "type": "Note", "content": "hoi"}
    if ctx is not None:
        doc["@context"] = ctx
    assert is_compact_as2(doc)


@pytest.mark.parametrize(
    "ctx",
    [
        [AS_URL, {"to": "as:bcc"}],  # redefines a core term
        [AS_URL, {"name": "as:summary"}],
        [AS_URL, {"inReplyTo": "as:inReplyTo"}],  # loses its "@type": "@id"
        [AS_URL, {"recipients": {"@id": "as:to", "@type": "@id"}}],  # aliases a core property
        [AS_URL, {"creator": "https://www.w3.org/ns/activitystreams#attributedTo"}],
        [AS_URL, {"ident": "@id"}],  # aliases a keyword
        [AS_URL, {"as": "https://evil.example/ns#"}],  # moves the as: prefix
        [AS_URL, {"quoteUrl": "https://evil.example/ns#quoteUrl"}],  # a well-known extension moved
        [AS_URL, {"@import": "https://evil.example/ctx.jsonld"}],
        [AS_URL, {"@base": "https://evil.example/"}],
        [AS_URL, {"Note": {"@id": "as:Note", "@context": {"content": "as:summary"}}}],  # scoped context
        [AS_URL, {"Hashtag2": {"@id": "as:Hashtag", "@context": {"name": "as:summary"}}}],
        [AS_URL, "https://w3id.org/identity/v1"],  # redefines name, url, Person... after AS
        [AS_URL, "https://evil.example/context.jsonld"],  # not bundled
        [AS_URL, None],
        [AS_URL, 42],
        [AS_URL, [AS_URL]],
        "https://evil.example/context.jsonld",
    ],
)
def test_redefining_contexts_are_slow(ctx: Any) -> None:
    doc = {"@context": ctx, "id": "https://mastodon.example/users/alice/statuses/1", "type": "Note"}
    assert not is_compact_as2(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {
            "https://www.w3.org/ns/activitystreams#actor": "https://mastodon.example/users/alice",
            "type": "Like",
        },
        {"as:actor": "https://mastodon.example/users/alice", "type": "Like"},
        {"@id": "https://mastodon.example/l/1", "@type": "Like"},
        {"@graph": []},
        {"type": "as:Like", "actor": "https://mastodon.example/users/alice"},
        {"type": ["Like", "https://www.w3.org/ns/activitystreams#Like"]},
        {"type": "Undo", "object": {"type": "Like", "as:object": "https://mastodon.example/1"}},
        {"type": "Create", "object": {"type": "Note", "@context": {"content": "as:summary"}}},
    ],
)
def test_iri_keys_and_types_are_slow(doc: dict[str, Any]) -> None:
    assert not is_compact_as2({"@context": AS_URL, **doc})


def test_non_dicts_are_not_compact() -> None:
    assert not is_compact_as2([load("mastodon_create_reply.json")])
    assert not is_compact_as2("https://mastodon.example/")


# --- slow path -----------------------------------------------------------------------------------


def test_expanded_create_reads_like_the_compact_one(no_network: None) -> None:
    expanded = load("expanded_create.json")
    assert "@id" in expanded and "https://www.w3.org/ns/activitystreams#object" in expanded
    assert not is_compact_as2(expanded)
    out = normalise(expanded)
    assert out is not expanded
    assert activity_fields(out) == activity_fields(load("mastodon_create_reply.json"))
    assert activity_fields(normalise(out)) == activity_fields(out)  # normalising again changes nothing


@pytest.mark.parametrize("name", ACTIVITIES)
def test_forced_slow_path_matches_fast_path_for_activities(name: str, no_network: None) -> None:
    """pyld over the bundled contexts reads every fixture the way the fast path does."""
    doc = load(name)
    assert activity_fields(jsonld._compact(doc)) == activity_fields(doc)


@pytest.mark.parametrize("name", ACTORS)
def test_forced_slow_path_matches_fast_path_for_actors(name: str, no_network: None) -> None:
    doc = load(name)
    assert parse_actor(jsonld._compact(doc)) == parse_actor(doc)


def test_redefined_core_term_is_read_by_meaning(no_network: None) -> None:
    doc = {
        "@context": [AS_URL, {"name": "as:summary", "title": "as:name"}],
        "id": "https://wp.example/?p=1",
        "type": "Article",
        "attributedTo": "https://wp.example/?author=1",
        "name": "Let op: spoilers",
        "title": "Een titel",
        "content": "<p>tekst</p>",
    }
    assert not is_compact_as2(doc)
    note = parse_note(normalise(doc))
    assert note.summary == "Let op: spoilers"
    assert note.name == "Een titel"


def test_aliased_recipients_are_not_lost(no_network: None) -> None:
    doc = {
        "@context": [AS_URL, {"recipients": {"@id": "as:to", "@type": "@id"}}],
        "id": "https://mastodon.example/users/alice/statuses/9/activity",
        "type": "Create",
        "actor": "https://mastodon.example/users/alice",
        "recipients": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": "https://mastodon.example/users/alice/statuses/9",
    }
    assert parse_activity(doc).to == ()  # read as plain JSON, the audience is missed
    assert parse_activity(normalise(doc)).to == (PUBLIC,)


@pytest.mark.parametrize(
    "to",
    [
        [{"@id": "https://www.w3.org/ns/activitystreams#Public"}],
        [{"@id": "as:Public"}],
    ],
)
def test_public_through_the_slow_path(to: list[Any], no_network: None) -> None:
    doc = {
        "@id": "https://akkoma.example/activities/1",
        "@type": ["https://www.w3.org/ns/activitystreams#Announce"],
        "https://www.w3.org/ns/activitystreams#actor": [{"@id": "https://akkoma.example/users/dave"}],
        "https://www.w3.org/ns/activitystreams#object": [
            {"@id": "https://mastodon.example/users/alice/statuses/1"}
        ],
        "https://www.w3.org/ns/activitystreams#to": to,
    }
    activity = parse_activity(normalise(doc))
    assert activity.type == "Announce"
    assert activity.actor == "https://akkoma.example/users/dave"
    assert activity.object_id == "https://mastodon.example/users/alice/statuses/1"
    assert activity.to == (PUBLIC,)


def test_unbundled_context_is_refused_without_network(no_network: None) -> None:
    doc = load("mastodon_create_reply.json")
    doc["@context"] = [AS_URL, "https://evil.example/ns/context.jsonld"]
    assert not is_compact_as2(doc)
    with pytest.raises(ContextNotBundled) as info:
        normalise(doc)
    assert info.value.url == "https://evil.example/ns/context.jsonld"
    assert isinstance(info.value, NormaliseError) and isinstance(info.value, ValueError)


def test_loader_serves_only_the_bundle(no_network: None) -> None:
    for url in CONTEXT_URLS:
        remote = document_loader(url, {})
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]
    litepub = document_loader("https://akkoma.example/schemas/litepub-0.1.jsonld")["document"]
    assert litepub["@context"][0] == AS_URL
    for url in (
        "https://evil.example/context.jsonld",
        "https://akkoma.example/schemas/litepub-0.1.jsonld?v=2",
        "https://user@akkoma.example/schemas/litepub-0.1.jsonld",
        "file:///etc/passwd",
        "https://litepub.social/litepub/context.jsonld",
        "http://joinmastodon.org/ns",
    ):
        with pytest.raises(ContextNotBundled):
            document_loader(url)
    # Each call returns a fresh copy: a caller mutating it cannot corrupt the bundle.
    bundled_context(AS_URL)["@context"]["to"] = "x"
    assert bundled_context(AS_URL)["@context"]["to"] == {"@id": "as:to", "@type": "@id"}


def test_bundle_contents() -> None:
    assert {
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://w3id.org/identity/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/did/v1",
        "https://gotosocial.org/ns",
        "https://purl.archive.org/socialweb/webfinger",
    } <= CONTEXT_URLS
    as_ctx = bundled_context(AS_URL)["@context"]
    assert as_ctx["as"] == "https://www.w3.org/ns/activitystreams#"
    assert as_ctx["inbox"] == {"@id": "ldp:inbox", "@type": "@id"}
    assert as_ctx["Public"] == {"@id": "as:Public", "@type": "@id"}
    sec = bundled_context("https://w3id.org/security/v1")["@context"]
    assert sec["publicKeyPem"] == "sec:publicKeyPem"
    assert sec["owner"] == {"@id": "sec:owner", "@type": "@id"}
    multikey = bundled_context("https://w3id.org/security/multikey/v1")["@context"]["Multikey"]
    assert multikey["@id"] == "https://w3id.org/security#Multikey"


def test_pyld_global_cache_is_left_alone(no_network: None) -> None:
    from pyld import jsonld as pyld_jsonld

    before = dict(pyld_jsonld._resolved_context_cache)
    normalise(load("expanded_create.json"))
    assert dict(pyld_jsonld._resolved_context_cache) == before
    assert pyld_jsonld.get_document_loader() is not document_loader


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": 42, "type": "Note"},
        {"@context": [AS_URL, {"to": {"@id": "as:to", "@container": "@bogus"}}], "type": "Note"},
        [
            {"@id": "https://mastodon.example/1", "@type": "https://www.w3.org/ns/activitystreams#Note"},
            {"@id": "https://mastodon.example/2", "@type": "https://www.w3.org/ns/activitystreams#Note"},
        ],
    ],
)
def test_invalid_json_ld_is_a_normalise_error(doc: Any, no_network: None) -> None:
    with pytest.raises(NormaliseError):
        normalise(doc)


def test_deeply_nested_input_is_a_normalise_error(no_network: None) -> None:
    doc: dict[str, Any] = {"@id": "https://mastodon.example/1"}
    node = doc
    for _ in range(5000):
        child: dict[str, Any] = {}
        node["https://www.w3.org/ns/activitystreams#object"] = child
        node = child
    with pytest.raises(NormaliseError):
        normalise(doc)
