"""activitypub.parse: fixtures from real implementations' shapes, hostile shapes, origins."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from fediverse_a2.activitypub.parse import (
    MAX_CONTENT,
    MAX_NAME,
    MAX_RECIPIENTS,
    MAX_TAGS,
    PUBLIC,
    ActorKey,
    Attachment,
    ParseError,
    Tag,
    find_key,
    is_public,
    parse_activity,
    parse_actor,
    parse_note,
    same_origin,
)
from helpers import FIXTURES

PAYLOADS = FIXTURES / "payloads"

ALICE = "https://mastodon.example/users/alice"
ALICE_STATUS = ALICE + "/statuses/113456789012345678"
BOB = "https://gts.example/users/bob"
ERIN = "https://fedify.example/users/erin"
LOCAL_POST = "https://a2.example/posts/42"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def note_doc(**extra: Any) -> dict[str, Any]:
    doc = {
        "id": "https://mastodon.example/users/alice/statuses/1",
        "type": "Note",
        "attributedTo": ALICE,
        "content": "<p>hoi</p>",
    }
    doc.update(extra)
    return doc


def actor_doc(**extra: Any) -> dict[str, Any]:
    doc = {
        "id": ALICE,
        "type": "Person",
        "preferredUsername": "alice",
        "inbox": ALICE + "/inbox",
    }
    doc.update(extra)
    return doc


# --- fixtures -------------------------------------------------------------------------------


def test_mastodon_create_reply() -> None:
    doc = load("mastodon_create_reply.json")
    activity = parse_activity(doc)
    assert activity.id == ALICE_STATUS + "/activity"
    assert activity.type == "Create"
    assert activity.actor == ALICE
    assert activity.object_id == ALICE_STATUS
    assert activity.object is doc["object"]
    assert activity.raw is doc
    assert activity.target is None
    assert activity.to == (PUBLIC,)
    assert activity.cc == (ALICE + "/followers", "https://a2.example/users/redactie", BOB)

    note = parse_note(activity.object)
    assert note.id == ALICE_STATUS
    assert note.type == "Note"
    assert note.attributed_to == ALICE
    assert note.in_reply_to == LOCAL_POST
    assert note.summary == "Begroting 2025, lange draad"
    assert note.sensitive is True
    assert note.language == "nl"
    assert note.content.startswith('<p><span class="h-card"')
    assert note.content == doc["object"]["content"]
    assert note.name is None
    assert note.url == "https://mastodon.example/@alice/113456789012345678"
    assert note.published == "2024-11-12T09:41:07Z"
    assert note.updated is None
    assert [t.href for t in note.tags if t.type == "Mention"] == ["https://a2.example/users/redactie", BOB]
    assert [t.name for t in note.tags if t.type == "Mention"] == ["@redactie@a2.example", "@bob@gts.example"]
    assert [t.name for t in note.tags if t.type == "Hashtag"] == ["#OpenData", "#fediverse"]
    assert (
        Tag(
            "Emoji",
            ":blobcat:",
            "https://files.mastodon.example/custom_emojis/images/000/004/242/original/blobcat.png",
        )
        in note.tags
    )
    assert note.attachments == (
        Attachment(
            "image/jpeg",
            "https://files.mastodon.example/media_attachments/files/113/456/788/900/112/233/original/5f1c2a9e0b7d4e31.jpg",
            "Staafdiagram van de begroting 2025 per ministerie",
        ),
    )
    assert note.quote is None
    assert note.context == "tag:mastodon.example,2024-11-12:objectId=987654321:objectType=Conversation"
    assert is_public(note.to, note.cc)


def test_mastodon_actor() -> None:
    doc = load("mastodon_actor.json")
    actor = parse_actor(doc)
    assert actor.id == ALICE
    assert actor.type == "Person"
    assert actor.preferred_username == "alice"
    assert actor.name == "Alice de Vries"
    assert actor.summary is not None and "open data" in actor.summary
    assert actor.inbox == ALICE + "/inbox"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.outbox == ALICE + "/outbox"
    assert actor.followers == ALICE + "/followers"
    assert actor.following == ALICE + "/following"
    assert actor.url == "https://mastodon.example/@alice"
    assert actor.icon is not None and actor.icon.startswith("https://files.mastodon.example/accounts/avatars/")
    assert actor.handle == "@alice@mastodon.example"
    assert len(actor.keys) == 1
    key = actor.keys[0]
    assert (key.id, key.owner, key.multibase) == (ALICE + "#main-key", ALICE, None)
    assert key.pem is not None and key.pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert find_key(doc, ALICE + "#main-key") == key
    assert find_key(doc, ALICE + "#other-key") is None
    assert actor.also_known_as == () and actor.moved_to is None


def test_actor_aliases_and_move_are_read_as_ids() -> None:
    doc = load("mastodon_actor.json")
    old = "https://old.example/users/alice"
    doc["alsoKnownAs"] = [old, {"id": "https://other.example/users/a"}, old, "not a url", 7, "javascript:alert(1)"]
    doc["movedTo"] = "https://new.example/users/alice"
    actor = parse_actor(doc)
    assert actor.also_known_as == (old, "https://other.example/users/a")
    assert actor.moved_to == "https://new.example/users/alice"
    doc["alsoKnownAs"] = old  # a single value is a list of one
    assert parse_actor(doc).also_known_as == (old,)
    doc["alsoKnownAs"] = [f"https://x.example/{i}" for i in range(100)]
    assert len(parse_actor(doc).also_known_as) == 20


def test_gotosocial_create() -> None:
    doc = load("gotosocial_create.json")
    activity = parse_activity(doc)
    assert activity.id == BOB + "/statuses/01JCFA2ZQ4S8Q7RMK2N5W3V9XH/activity#Create"
    assert activity.actor == BOB
    assert activity.to == (PUBLIC,)  # a bare string, not a list
    assert activity.cc == (BOB + "/followers",)
    note = parse_note(activity.object)  # type: ignore[arg-type]
    assert note.in_reply_to == ALICE_STATUS
    assert note.summary is None  # GoToSocial sends "" for no content warning
    assert note.sensitive is False
    assert note.language == "nl"
    assert note.tags == (Tag("Mention", "@alice@mastodon.example", ALICE),)  # one tag: an object
    assert note.attachments == ()
    assert note.url == "https://gts.example/@bob/statuses/01JCFA2ZQ4S8Q7RMK2N5W3V9XH"


def test_gotosocial_actor_and_main_key() -> None:
    doc = load("gotosocial_actor.json")
    actor = parse_actor(doc)
    assert actor.handle == "@bob@gts.example"
    assert actor.shared_inbox is None
    assert actor.name == "Bob 🚲"
    assert [k.id for k in actor.keys] == [BOB + "/main-key"]  # no fragment
    key = find_key(doc, BOB + "/main-key")
    assert key is not None and key.owner == BOB and key.pem == actor.keys[0].pem

    # What .../main-key dereferences to: a stub of the actor, without inbox.
    stub = load("gotosocial_key.json")
    stub_key = find_key(stub, BOB + "/main-key")
    assert stub_key == key
    with pytest.raises(ParseError, match="inbox"):
        parse_actor(stub)


def test_misskey_quote_and_mfm() -> None:
    doc = load("misskey_create_quote.json")
    note = parse_note(parse_activity(doc).object)  # type: ignore[arg-type]
    assert note.quote == ALICE_STATUS
    assert note.content.startswith("<p>Dit! <a")
    assert "$[" not in note.content  # the MFM source is never taken as HTML
    assert note.tags == (Tag("Hashtag", "#opendata", "https://misskey.example/tags/opendata"),)
    assert note.in_reply_to is None  # "inReplyTo": null

    only_mfm = copy.deepcopy(doc["object"])
    del only_mfm["content"]
    assert parse_note(only_mfm).content == ""


@pytest.mark.parametrize(
    "fields",
    [
        {"_misskey_quote": ALICE_STATUS},
        {"quoteUrl": ALICE_STATUS},
        {"quoteUri": ALICE_STATUS},
        {"quote": ALICE_STATUS},
        {"quote": {"id": ALICE_STATUS, "type": "Note"}},
        {
            "tag": [
                {
                    "type": "Link",
                    "mediaType": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                    "href": ALICE_STATUS,
                    "name": "RE: " + ALICE_STATUS,
                }
            ]
        },
        {"tag": {"type": "Link", "rel": "https://misskey-hub.net/ns#_misskey_quote", "href": ALICE_STATUS}},
    ],
)
def test_quote_spellings(fields: dict[str, Any]) -> None:
    assert parse_note(note_doc(**fields)).quote == ALICE_STATUS


def test_akkoma_create() -> None:
    doc = load("akkoma_create.json")
    activity = parse_activity(doc)
    assert activity.to == (PUBLIC, ALICE)  # "as:Public"
    note = parse_note(activity.object)  # type: ignore[arg-type]
    assert note.to == (PUBLIC, ALICE)
    assert is_public(note.to, note.cc)
    assert note.context == "https://akkoma.example/contexts/0b7c6d5e-4f3a-4e2b-8c1d-9e0f1a2b3c4d"
    assert note.in_reply_to == ALICE_STATUS
    assert note.summary is None
    assert note.language is None
    assert note.url is None
    assert note.attachments == (
        Attachment(
            "text/csv",
            "https://akkoma.example/media/7e1c0a9b-2d3f-4a5b-8c6d-1e2f3a4b5c6d/begroting-2025.csv",
            "begroting-2025.csv",
        ),
    )
    conversation_only = dict(doc["object"])
    del conversation_only["context"]
    assert parse_note(conversation_only).context == note.context


def test_wordpress_article_reply() -> None:
    doc = load("wordpress_article_reply.json")
    activity = parse_activity(doc)
    assert activity.actor == "https://wp.example/?author=2"
    note = parse_note(activity.object)  # type: ignore[arg-type]
    assert note.type == "Article"
    assert note.name == "Open data in de praktijk: zo doet onze gemeente het"
    assert note.summary is not None and note.summary.startswith("Hoe een middelgrote gemeente")
    assert note.content.startswith("<p>In reactie op")
    assert note.url == "https://wp.example/2024/11/13/open-data-in-de-praktijk/"
    assert note.in_reply_to == LOCAL_POST
    assert note.updated == "2024-11-13T08:05:00Z"
    assert note.language == "nl"
    assert [t.name for t in note.tags] == ["#opendata", "@redactie@a2.example"]
    assert note.attachments[0].url == "https://wp.example/wp-content/uploads/2024/11/begroting-grafiek.jpg"


def test_fedify_actor_keys() -> None:
    doc = load("fedify_actor.json")
    actor = parse_actor(doc)
    assert actor.shared_inbox == "https://fedify.example/inbox"  # endpoints typed as:Endpoints
    assert actor.handle == "@erin@fedify.example"
    keys = {k.id: k for k in actor.keys}
    assert set(keys) == {ERIN + "#main-key", ERIN + "#key-2"}
    main, ed = keys[ERIN + "#main-key"], keys[ERIN + "#key-2"]
    # The RSA key is listed twice (publicKey and a Multikey): merged into one.
    assert main.pem is not None and main.pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert main.multibase is not None and main.multibase.startswith("z4MX")
    assert ed == ActorKey(ERIN + "#key-2", ERIN, None, ed.multibase)
    assert ed.multibase is not None and ed.multibase.startswith("z6Mk")
    assert find_key(doc, ERIN + "#key-2") == ed
    assert find_key(doc, ERIN + "#main-key") == main


def test_fedify_create_with_proof() -> None:
    doc = load("fedify_create.json")
    activity = parse_activity(doc)
    assert activity.raw["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    note = parse_note(activity.object)  # type: ignore[arg-type]
    assert note.attributed_to == ERIN
    assert note.content == "<p>Eerste bericht vanaf mijn Fedify-server.</p>"
    assert note.language == "nl"
    assert note.to == (PUBLIC,)


# --- keys ------------------------------------------------------------------------------------


def test_find_key_in_key_documents() -> None:
    pem = load("gotosocial_actor.json")["publicKey"]["publicKeyPem"]
    key_doc = {
        "@context": "https://w3id.org/security/v1",
        "id": BOB + "/main-key",
        "type": "CryptographicKey",
        "owner": BOB,
        "publicKeyPem": pem,
    }
    assert find_key(key_doc, BOB + "/main-key") == ActorKey(BOB + "/main-key", BOB, pem, None)
    assert find_key(key_doc, BOB + "/other-key") is None
    assert find_key({**key_doc, "type": "Key"}, BOB + "/main-key") is not None
    assert find_key({k: v for k, v in key_doc.items() if k != "owner"}, BOB + "/main-key") is None

    multikey = {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": ERIN + "/keys/1",
        "type": "Multikey",
        "controller": ERIN,
        "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    }
    assert find_key(multikey, ERIN + "/keys/1") == ActorKey(
        ERIN + "/keys/1", ERIN, None, multikey["publicKeyMultibase"]
    )
    assert find_key("not a dict", "x") is None  # type: ignore[arg-type]


def test_key_shapes() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    doc = actor_doc(
        publicKey=[
            ALICE + "#ref-only",  # a bare reference: skipped
            {"id": ALICE + "#k1", "owner": ALICE, "publicKeyPem": pem},
            {"id": ALICE + "#k2", "owner": ALICE, "publicKeyPem": "not a pem"},
            {"id": "javascript:alert(1)", "owner": ALICE, "publicKeyPem": pem},
            {"id": ALICE + "#k3", "publicKeyPem": pem},  # no owner
        ],
        assertionMethod={
            "id": ALICE + "#k4",
            "type": "Multikey",
            "controller": ALICE,
            "publicKeyMultibase": "nope",
        },
    )
    assert [k.id for k in parse_actor(doc).keys] == [ALICE + "#k1"]
    many = actor_doc(publicKey=[{"id": f"{ALICE}#k{i}", "owner": ALICE, "publicKeyPem": pem} for i in range(1000)])
    assert len(parse_actor(many).keys) == 20


# --- Public ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "https://www.w3.org/ns/activitystreams#Public",
        "as:Public",
        "Public",
        "http://www.w3.org/ns/activitystreams#Public",
    ],
)
def test_public_spellings(spelling: str) -> None:
    activity = parse_activity(
        {
            "id": ALICE + "/a/1",
            "type": "Announce",
            "actor": ALICE,
            "object": ALICE_STATUS,
            "to": spelling,
            "cc": [spelling, ALICE + "/followers"],
        }
    )
    assert activity.to == (PUBLIC,)
    assert activity.cc == (PUBLIC, ALICE + "/followers")
    assert is_public(activity.to, activity.cc)
    assert is_public([], [spelling])


def test_not_public() -> None:
    assert not is_public([ALICE + "/followers"], [BOB])
    assert not is_public([], [])
    assert parse_note(note_doc(to=[ALICE + "/followers"], cc=[])).to == (ALICE + "/followers",)


# --- hostile shapes ---------------------------------------------------------------------------


def test_ten_thousand_tags_are_truncated() -> None:
    tags = [{"type": "Hashtag", "name": f"#t{i}", "href": f"https://mastodon.example/tags/t{i}"} for i in range(10_000)]
    note = parse_note(note_doc(tag=tags))
    assert len(note.tags) == MAX_TAGS
    assert note.tags[0].name == "#t0"


def test_ten_thousand_recipients_keep_public() -> None:
    recipients = [f"https://mastodon.example/users/u{i}" for i in range(10_000)] + ["as:Public"]
    activity = parse_activity(
        {"type": "Create", "actor": ALICE, "object": ALICE_STATUS, "to": recipients, "cc": recipients}
    )
    assert len(activity.to) == MAX_RECIPIENTS
    assert activity.to[-1] == PUBLIC
    assert activity.to[0] == "https://mastodon.example/users/u0"
    assert is_public(activity.to, ())
    many = parse_note(note_doc(cc=recipients[:10_000]))
    assert len(many.cc) == MAX_RECIPIENTS and PUBLIC not in many.cc


def test_huge_strings_are_truncated() -> None:
    mb = "x" * 1_000_000
    actor = parse_actor(actor_doc(name=mb, summary=mb))
    assert actor.name is not None and len(actor.name) == MAX_NAME
    assert actor.summary is not None and len(actor.summary) <= 10_000
    note = parse_note(note_doc(content=mb, name=mb, tag=[{"type": "Hashtag", "name": "#" + mb}]))
    assert len(note.content) == MAX_CONTENT
    assert note.name is not None and len(note.name) == MAX_NAME
    assert len(note.tags[0].name) == MAX_NAME
    assert parse_note(note_doc(content=None, contentMap={"en": mb})).content == mb[:MAX_CONTENT]


@pytest.mark.parametrize(
    "bad_id",
    [
        "ftp://mastodon.example/users/alice/1",
        "javascript:alert(1)",
        "/users/alice/1",
        "mastodon.example/users/alice/1",
        "https://",
        "https://alice@mastodon.example/1",
        "https://mastodon.example\\@evil.example/1",
        "https://mastodon.example/ 1",
        "https://mastodon.example:99999/1",
        "https://" + "a" * 5000 + ".example/",
        42,
        ["https://mastodon.example/1"],
        {"id": "https://mastodon.example/1"},
        None,
    ],
)
def test_unusable_ids_are_parse_errors(bad_id: Any) -> None:
    with pytest.raises(ParseError):
        parse_note(note_doc(id=bad_id))
    with pytest.raises(ParseError):
        parse_actor(actor_doc(id=bad_id))
    with pytest.raises(ParseError):
        parse_actor(actor_doc(inbox=bad_id))
    if bad_id is not None:
        with pytest.raises(ParseError):
            parse_activity({"id": bad_id, "type": "Follow", "actor": ALICE, "object": BOB})
    if not isinstance(bad_id, list | dict | type(None)):  # those are valid actor forms
        with pytest.raises(ParseError):
            parse_activity({"type": "Follow", "actor": bad_id, "object": BOB})
        with pytest.raises(ParseError):
            parse_activity({"type": "Follow", "actor": ALICE, "object": bad_id})


def test_missing_required_fields() -> None:
    with pytest.raises(ParseError, match="inbox"):
        parse_actor({k: v for k, v in actor_doc().items() if k != "inbox"})
    with pytest.raises(ParseError, match="type"):
        parse_actor({k: v for k, v in actor_doc().items() if k != "type"})
    with pytest.raises(ParseError, match="attributedTo"):
        parse_note({k: v for k, v in note_doc().items() if k != "attributedTo"})
    with pytest.raises(ParseError, match="actor"):
        parse_activity({"type": "Like", "object": ALICE_STATUS})
    with pytest.raises(ParseError, match="type"):
        parse_activity({"type": 7, "actor": ALICE})
    with pytest.raises(ParseError):
        parse_activity(["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(ParseError):
        parse_activity({"type": "Like", "actor": ALICE, "object": 12})
    with pytest.raises(ParseError):
        parse_activity({"type": "Like", "actor": ALICE, "object": {"id": "urn:x:1"}})
    assert issubclass(ParseError, ValueError)


def test_transient_activity_without_id() -> None:
    activity = parse_activity(
        {"type": "Undo", "actor": ALICE, "object": {"type": "Follow", "actor": ALICE, "object": BOB}}
    )
    assert activity.id is None
    assert activity.object_id is None
    assert isinstance(activity.object, dict)


def test_url_on_foreign_host_is_dropped() -> None:
    assert parse_note(note_doc(url="https://evil.example/phish")).url is None
    assert parse_note(note_doc(url="https://MASTODON.example./@alice/1")).url == "https://MASTODON.example./@alice/1"
    assert parse_actor(actor_doc(url="https://evil.example/@alice")).url is None
    assert parse_note(note_doc(url="javascript:alert(1)")).url is None


def test_url_forms_prefer_html() -> None:
    links = [
        {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://mastodon.example/v/1.m3u8"},
        {"type": "Link", "mediaType": "text/html", "href": "https://mastodon.example/@alice/1"},
    ]
    assert parse_note(note_doc(url=links)).url == "https://mastodon.example/@alice/1"
    assert parse_note(note_doc(url=links[0])).url == "https://mastodon.example/v/1.m3u8"
    assert parse_note(note_doc(url=[12, None, "https://mastodon.example/x"])).url == "https://mastodon.example/x"


def test_actor_and_attributed_to_forms() -> None:
    peertube = [
        {"type": "Group", "id": "https://peertube.example/video-channels/news"},
        {"type": "Person", "id": "https://peertube.example/accounts/alice"},
    ]
    assert parse_note(note_doc(attributedTo=peertube)).attributed_to == "https://peertube.example/accounts/alice"
    assert parse_note(note_doc(attributedTo=[None, 3, ALICE])).attributed_to == ALICE
    assert parse_note(note_doc(attributedTo={"type": "Person", "id": ALICE})).attributed_to == ALICE
    assert (
        parse_activity({"type": "Like", "actor": [{"type": "Service", "id": ALICE}], "object": ALICE_STATUS}).actor
        == ALICE
    )
    assert parse_activity({"type": "Like", "actor": ALICE, "object": [ALICE_STATUS, BOB]}).object_id == ALICE_STATUS
    target = parse_activity(
        {
            "type": "Add",
            "actor": ALICE,
            "object": ALICE_STATUS,
            "target": {"id": ALICE + "/collections/featured"},
        }
    )
    assert target.target == ALICE + "/collections/featured"


def test_icon_forms() -> None:
    png = "https://files.mastodon.example/a.png"
    for icon in (
        png,
        {"type": "Image", "url": png},
        {"type": "Image", "url": {"type": "Link", "href": png}},
        {"type": "Image", "url": [{"type": "Link", "href": png, "mediaType": "image/png"}]},
        [{"type": "Image", "url": png}, {"type": "Image", "url": "https://files.mastodon.example/b.png"}],
        [12, {"type": "Image"}, png],
    ):
        assert parse_actor(actor_doc(icon=icon)).icon == png, icon
    assert parse_actor(actor_doc(icon={"type": "Image", "url": "data:image/png;base64,AAAA"})).icon is None


def test_junk_values_do_not_crash() -> None:
    junk: list[Any] = [None, 1, 1.5, True, "", "x", [], {}, [[]], [{}], {"@value": 3}]
    for value in junk:
        for key in (
            "tag",
            "attachment",
            "to",
            "cc",
            "url",
            "inReplyTo",
            "summary",
            "name",
            "contentMap",
            "content",
            "sensitive",
            "context",
            "published",
            "quote",
        ):
            note = parse_note(note_doc(**{key: value}))
            assert note.id == note_doc()["id"]
        for key in (
            "icon",
            "endpoints",
            "publicKey",
            "assertionMethod",
            "url",
            "name",
            "preferredUsername",
            "followers",
        ):
            assert parse_actor(actor_doc(**{key: value})).id == ALICE


def test_unhashable_junk_in_long_audiences() -> None:
    junk = [{"id": {}}, {"id": []}, [], {}, 3] * 200 + [{"id": "as:Public"}]
    activity = parse_activity({"type": "Create", "actor": ALICE, "object": ALICE_STATUS, "to": junk})
    assert activity.to == (PUBLIC,)


def test_content_map_languages() -> None:
    note = parse_note(note_doc(content=None, contentMap={"de": "<p>Hallo</p>", "en": "<p>Hello</p>"}))
    assert (note.content, note.language) == ("<p>Hallo</p>", "de")
    note = parse_note(note_doc(content="<p>Hello</p>", contentMap={"de": "<p>Hallo</p>", "en": "<p>Hello</p>"}))
    assert (note.content, note.language) == ("<p>Hello</p>", "en")
    assert parse_note(note_doc(contentMap={"und": "<p>hoi</p>"})).language is None
    assert parse_note(note_doc(contentMap={"<script>": "<p>hoi</p>"})).language is None
    assert parse_note(note_doc(summary=None, summaryMap={"nl": "CW"})).summary == "CW"
    assert parse_note(note_doc(sensitive="true")).sensitive is False  # only a JSON true counts


def test_handles() -> None:
    assert (
        parse_actor(actor_doc(id="https://Social.Example:8443/users/x", preferredUsername="x")).handle
        == "@x@social.example:8443"
    )
    assert (
        parse_actor(actor_doc(id="https://social.example:443/users/x", preferredUsername="x")).handle
        == "@x@social.example"
    )
    assert (
        parse_actor(actor_doc(id="https://bücher.example/users/x", preferredUsername="x")).handle
        == "@x@xn--bcher-kva.example"
    )
    # A username that would forge another handle is not used; the id's last segment is.
    forged = parse_actor(actor_doc(preferredUsername="admin@a2.example"))
    assert forged.handle == "@alice@mastodon.example"
    assert forged.preferred_username == "admin@a2.example"
    assert parse_actor(actor_doc(preferredUsername=None)).handle == "@alice@mastodon.example"
    with pytest.raises(ParseError):
        parse_actor(actor_doc(id="https://mastodon.example/", preferredUsername=None))


# --- origins -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://mastodon.example/users/alice", "https://mastodon.example/inbox", True),
        ("https://MASTODON.Example/users/alice", "https://mastodon.example/x", True),
        ("https://mastodon.example./users/alice", "https://mastodon.example/x", True),
        ("https://mastodon.example:443/users/alice", "https://mastodon.example/x", True),
        ("http://mastodon.example:80/a", "http://mastodon.example/b", True),
        ("https://mastodon.example:8443/a", "https://mastodon.example/b", False),
        ("http://mastodon.example/a", "https://mastodon.example/a", False),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/b", True),
        ("https://BÜCHER.example/a", "https://xn--bcher-kva.example/b", True),
        ("https://faß.example/a", "https://fass.example/b", False),
        ("https://mastodon.example.evil.example/a", "https://mastodon.example/a", False),
        ("https://evil.example/a", "https://mastodon.example/a", False),
        ("https://mastodon.example@evil.example/a", "https://evil.example/a", False),
        ("https://evil.example\\@mastodon.example/a", "https://mastodon.example/a", False),
        ("https://mastodon.example:99999/a", "https://mastodon.example/a", False),
        ("ftp://mastodon.example/a", "ftp://mastodon.example/b", False),
        ("mastodon.example/a", "mastodon.example/b", False),
        ("", "", False),
        ("https://[2001:db8::1]/a", "https://[2001:DB8::1]:443/b", True),
        ("https://mastodon..example/a", "https://mastodon..example/b", False),
    ],
)
def test_same_origin(a: str, b: str, expected: bool) -> None:
    assert same_origin(a, b) is expected
    assert same_origin(b, a) is expected


def test_same_origin_rejects_non_strings() -> None:
    assert same_origin(None, None) is False  # type: ignore[arg-type]
    assert same_origin(42, 42) is False  # type: ignore[arg-type]
