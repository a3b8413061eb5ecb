"""activitypub.jsonld: the fast path, the pyld slow path, the bundle, and unknown contexts.

Fixtures added for the contexts real software sends (tests/fixtures/payloads/):

* lemmy_create_note.json: LemmyNet/lemmy ``crates/apub/apub/assets/lemmy/activities/
  create_or_update/create_comment.json`` (commit 439734d), with the ``@context`` Lemmy puts
  on every activity it sends (``FEDERATION_CONTEXT`` in ``crates/utils/src/lib.rs``; the
  captured ``create_private_message_0.19.json`` carries the same). Lemmy's test assets
  are stored without a context.
* mitra_create_note.json: verbatim LemmyNet/lemmy ``crates/apub/apub/assets/mitra/
  activities/create_post.json`` (data integrity v2 context, an eddsa-jcs-2022 proof).
* funkwhale_actor.json, lemmy_group_actor.json: verbatim from fediverse-devnet/fedidevs.org
  ``content/reference/actor/index.md`` (captured 2024-04-11: @Greensky@open.audio,
  @lemmy_support@lemmy.ml).
"""

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
from fediverse_a2.activitypub.contexts import bundled_file
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
from helpers import FIXTURES

PAYLOADS = FIXTURES / "payloads"
ACTIVITIES = [
    "mastodon_create_reply.json",
    "gotosocial_create.json",
    "misskey_create_quote.json",
    "akkoma_create.json",
    "wordpress_article_reply.json",
    "fedify_create.json",
    "lemmy_create_note.json",
    "mitra_create_note.json",
]
ACTORS = [
    "mastodon_actor.json",
    "gotosocial_actor.json",
    "fedify_actor.json",
    "funkwhale_actor.json",
    "lemmy_group_actor.json",
]
UNKNOWN_URL = "https://unknown.example/ns/context.jsonld"


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
    names = ["mastodon_create_reply.json", "lemmy_create_note.json", "mitra_create_note.json"]
    code = (
        "import json, sys\n"
        "from fediverse_a2.activitypub.jsonld import normalise\n"
        "from fediverse_a2.activitypub.parse import parse_activity\n"
        f"for path in {[str(PAYLOADS / n) for n in names]!r}:\n"
        "    doc = json.load(open(path))\n"
        "    assert normalise(doc) is doc\n"
        "    parse_activity(doc)\n"
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
        [AS_URL, UNKNOWN_URL],  # unknown: an empty context
        UNKNOWN_URL,
        [UNKNOWN_URL, AS_URL, {"toot": "http://joinmastodon.org/ns#"}],
        ["https://join-lemmy.org/context.json", AS_URL],  # Lemmy
        [AS_URL, "https://w3id.org/security/v1", "https://w3id.org/security/data-integrity/v2"],  # Mitra
        [AS_URL, "https://w3id.org/security/v1", "https://funkwhale.audio/ns"],  # Funkwhale
        [AS_URL, "https://www.w3.org/ns/cid/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
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
        [AS_URL, "https://www.w3.org/ns/credentials/v2"],  # redefines name and mediaType
        [AS_URL, UNKNOWN_URL, {"to": "as:bcc"}],  # an unknown URL does not hide an inline change
        [AS_URL, None],
        [AS_URL, 42],
        [AS_URL, [AS_URL]],
        [AS_URL] * 33,
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
    assert activity_fields(jsonld.compact(doc)) == activity_fields(doc)


@pytest.mark.parametrize("name", ACTORS)
def test_forced_slow_path_matches_fast_path_for_actors(name: str, no_network: None) -> None:
    doc = load(name)
    assert parse_actor(jsonld.compact(doc)) == parse_actor(doc)


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
        "https://www.w3.org/ns/activitystreams#object": [{"@id": "https://mastodon.example/users/alice/statuses/1"}],
        "https://www.w3.org/ns/activitystreams#to": to,
    }
    activity = parse_activity(normalise(doc))
    assert activity.type == "Announce"
    assert activity.actor == "https://akkoma.example/users/dave"
    assert activity.object_id == "https://mastodon.example/users/alice/statuses/1"
    assert activity.to == (PUBLIC,)


def test_unknown_context_is_neither_fetched_nor_fatal(no_network: None) -> None:
    doc = load("mastodon_create_reply.json")
    doc["@context"] = [AS_URL, UNKNOWN_URL, *doc["@context"][1:]]
    assert is_compact_as2(doc)
    assert normalise(doc) is doc
    assert activity_fields(doc) == activity_fields(load("mastodon_create_reply.json"))
    assert activity_fields(jsonld.compact(doc)) == activity_fields(doc)  # pyld reads it alike


def test_unknown_context_terms_are_dropped_and_as_terms_kept(no_network: None) -> None:
    """What an unknown context would define means nothing; ActivityStreams terms still count."""
    doc = {
        "@context": [AS_URL, UNKNOWN_URL],
        "@id": "https://other.example/activities/1",  # a keyword key: the slow path
        "type": "Create",
        "actor": "https://other.example/users/erin",
        "recipients": ["https://www.w3.org/ns/activitystreams#Public"],  # defined only by UNKNOWN_URL
        "cc": ["https://other.example/users/erin/followers"],
        "object": {
            "id": "https://other.example/notes/1",
            "type": "Note",
            "attributedTo": "https://other.example/users/erin",
            "inReplyTo": "https://mastodon.example/users/alice/statuses/1",
            "content": "<p>hoi</p>",
        },
    }
    assert not is_compact_as2(doc)
    out = normalise(doc)
    activity = parse_activity(out)
    assert activity.actor == "https://other.example/users/erin"
    assert activity.to == ()  # "recipients" is not read as an audience
    assert activity.cc == ("https://other.example/users/erin/followers",)
    assert isinstance(activity.object, dict)
    note = parse_note(activity.object)
    assert note.in_reply_to == "https://mastodon.example/users/alice/statuses/1"
    assert note.content == "<p>hoi</p>"


def test_only_an_unknown_context_still_reads_as_activitystreams(no_network: None) -> None:
    doc = {
        "@context": UNKNOWN_URL,
        "@id": "https://other.example/likes/1",
        "@type": "Like",
        "actor": "https://other.example/users/erin",
        "object": "https://mastodon.example/users/alice/statuses/1",
    }
    activity = parse_activity(normalise(doc))
    assert (activity.type, activity.id, activity.actor) == ("Like", "https://other.example/likes/1", doc["actor"])
    assert activity.object_id == "https://mastodon.example/users/alice/statuses/1"


@pytest.mark.parametrize("unbundled", [False, True], ids=["bundled", "as-if-unknown"])
def test_lemmy_reply_is_read(unbundled: bool, no_network: None) -> None:
    """Lemmy's Create{Note} reply, with its context bundled and even if it were not."""
    doc = load("lemmy_create_note.json")
    if unbundled:
        doc["@context"][0] = "https://lemmy.unknown.example/context.json"
    out = normalise(doc)
    activity = parse_activity(out)
    assert activity.type == "Create"
    assert activity.id == "http://ds9.lemmy.ml/activities/create/1e77d67c-44ac-45ed-bf2a-460e21f60236"
    assert activity.actor == "http://ds9.lemmy.ml/u/lemmy_alpha"
    assert PUBLIC in activity.to
    assert isinstance(activity.object, dict)
    note = parse_note(activity.object)
    assert (note.id, note.attributed_to) == ("http://ds9.lemmy.ml/comment/1", "http://ds9.lemmy.ml/u/lemmy_alpha")
    assert note.content == "hello"
    assert note.in_reply_to == "http://ds9.lemmy.ml/post/1"
    assert activity_fields(jsonld.compact(doc)) == activity_fields(out)


def test_mitra_note_with_data_integrity_v2_is_read(no_network: None) -> None:
    doc = load("mitra_create_note.json")
    assert "https://w3id.org/security/data-integrity/v2" in doc["@context"]
    activity = parse_activity(normalise(doc))
    assert activity.actor == "https://mitra.social/users/test"
    assert activity.id == "https://mitra.social/activities/create/019f57cf-693a-77f2-b006-c4c76338956a"
    assert isinstance(activity.object, dict)
    note = parse_note(activity.object)
    assert note.id == "https://mitra.social/objects/019f57cf-693a-77f2-b006-c4c76338956a"
    assert note.content == "<p>Remote post 5</p>"
    assert note.in_reply_to is None


def test_funkwhale_actor_is_read(no_network: None) -> None:
    doc = load("funkwhale_actor.json")
    assert "https://funkwhale.audio/ns" in doc["@context"]
    actor = parse_actor(normalise(doc))
    assert actor.id == "https://open.audio/federation/actors/Greensky"
    assert actor.inbox == "https://open.audio/federation/actors/Greensky/inbox"
    assert actor.shared_inbox == "https://open.audio/federation/shared/inbox"
    assert [k.id for k in actor.keys] == ["https://open.audio/federation/actors/Greensky#main-key"]


def test_loader_serves_the_bundle_and_empty_contexts(no_network: None) -> None:
    for url in CONTEXT_URLS:
        remote = document_loader(url, {})
        assert remote["documentUrl"] == url
        assert remote["document"]["@context"]
        assert remote["document"] == bundled_context(url)
    litepub = document_loader("https://akkoma.example/schemas/litepub-0.1.jsonld")["document"]
    assert litepub["@context"][0] == AS_URL
    for url in (
        "https://evil.example/context.jsonld",
        "https://akkoma.example/schemas/litepub-0.1.jsonld?v=2",
        "https://user@akkoma.example/schemas/litepub-0.1.jsonld",
        "file:///etc/passwd",
        "https://litepub.social/litepub/context.jsonld",
        "http://joinmastodon.org/ns",
        "https://fedia.io/contexts",
    ):
        remote = document_loader(url)
        assert remote["documentUrl"] == url
        assert remote["document"] == {"@context": {}}  # answered, never fetched
        with pytest.raises(ContextNotBundled) as info:
            bundled_context(url)
        assert info.value.url == url
        assert isinstance(info.value, NormaliseError) and isinstance(info.value, ValueError)
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
        "https://join-lemmy.org/context.json",
        "https://w3id.org/security/data-integrity/v2",
        "https://funkwhale.audio/ns",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/cid/v1",
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
    lemmy = bundled_context("https://join-lemmy.org/context.json")["@context"]
    assert lemmy[0] == "https://w3id.org/security/v1"
    assert lemmy[1]["moderators"] == {"@type": "@id", "@id": "lemmy:moderators"}
    integrity = bundled_context("https://w3id.org/security/data-integrity/v2")["@context"]
    assert integrity["DataIntegrityProof"]["@id"] == "https://w3id.org/security#DataIntegrityProof"
    assert integrity["proof"]["@container"] == "@graph"
    assert bundled_context("https://funkwhale.audio/ns")["@context"]["fw"] == "https://funkwhale.audio/ns#"
    # Every file of the bundle is served for some URL and is package data (contexts/*.json).
    files = {p.name for p in (Path(jsonld.__file__).parent / "contexts").iterdir()}
    served = {bundled_file(url) for url in CONTEXT_URLS} | {"litepub-0.1.json"}
    assert files == served
    assert all(name.endswith(".json") for name in files)


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
