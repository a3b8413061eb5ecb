"""The pure protocol core: member -> Person, post -> Note, activities and collections."""

from __future__ import annotations

import dataclasses

from fediverse_a2.activitypub import build
from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.models import Member, Post

URLS = Urls("https://a2.example")
MEMBER = Member(1, "alice", "Alice de Vries", "Beleid & <b>innovatie</b>", "PEM", 1_700_000_000.0)
POST = Post(
    id=7,
    member_id=1,
    username="alice",
    author_name="Alice de Vries",
    title="Programma stopt <&>",
    body_md="Tekst",
    content_html="<p>Tekst</p>",
    published=1_700_000_000.0,
    updated=None,
    deleted_at=None,
    views=3,
)


def test_person_has_every_field_mastodon_needs() -> None:
    doc = build.person(MEMBER, URLS)
    assert doc["type"] == "Person"
    assert doc["id"] == "https://a2.example/users/alice"
    assert doc["preferredUsername"] == "alice"
    assert doc["inbox"] == "https://a2.example/users/alice/inbox"
    assert doc["outbox"] == "https://a2.example/users/alice/outbox"
    assert doc["followers"] == "https://a2.example/users/alice/followers"
    assert doc["following"] == "https://a2.example/users/alice/following"
    assert doc["endpoints"] == {"sharedInbox": "https://a2.example/inbox"}
    assert doc["publicKey"] == {
        "id": "https://a2.example/users/alice#main-key",
        "owner": "https://a2.example/users/alice",
        "publicKeyPem": "PEM",
    }
    assert doc["summary"] == "<p>Beleid &amp; &lt;b&gt;innovatie&lt;/b&gt;</p>"


def test_post_becomes_a_public_note_with_bold_title() -> None:
    note = build.post_note(POST, URLS, "nl", replies_total=2, first_replies=["https://m.example/s/1"])
    assert note["type"] == "Note"
    assert note["id"] == note["url"] == "https://a2.example/posts/7"
    assert note["attributedTo"] == "https://a2.example/users/alice"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == ["https://a2.example/users/alice/followers"]
    assert note["content"] == "<p><strong>Programma stopt &lt;&amp;&gt;</strong></p><p>Tekst</p>"
    assert note["contentMap"] == {"nl": note["content"]}
    assert note["published"] == "2023-11-14T22:13:20Z"
    assert "updated" not in note
    replies = note["replies"]
    assert replies["type"] == "OrderedCollection" and replies["totalItems"] == 2
    assert replies["first"]["orderedItems"] == ["https://m.example/s/1"]
    assert replies["first"]["next"] == "https://a2.example/posts/7/replies?page=2"


def test_create_update_delete_wrap_the_note() -> None:
    note = build.post_note(POST, URLS, "nl")
    create = build.create(note)
    assert create["type"] == "Create" and create["actor"] == note["attributedTo"]
    assert create["object"]["id"] == note["id"] and "@context" not in create["object"]
    assert create["to"] == note["to"] and create["cc"] == note["cc"]
    update = build.update({**note, "updated": "2024-01-01T00:00:00Z"}, 1_704_067_200.0)
    assert update["type"] == "Update" and update["id"] != create["id"]
    assert update["object"]["updated"] == "2024-01-01T00:00:00Z"
    delete = build.delete(note["attributedTo"], note["id"], [build.PUBLIC], [])
    assert delete["object"] == {"id": note["id"], "type": "Tombstone"}


def test_accept_echoes_the_follow() -> None:
    follow = {
        "id": "https://m.example/f/1",
        "type": "Follow",
        "actor": "https://m.example/u/b",
        "object": URLS.actor("alice"),
        "extra": 1,
    }
    accept = build.accept("https://a2.example/users/alice#accepts/1", URLS.actor("alice"), follow)
    assert accept["object"] == {k: follow[k] for k in ("id", "type", "actor", "object")}
    assert accept["to"] == ["https://m.example/u/b"]


def test_collection_pages_link_to_each_other() -> None:
    head = build.collection("https://a2.example/users/alice/followers", 120)
    assert head == {
        "@context": build.AS_CONTEXT,
        "id": "https://a2.example/users/alice/followers",
        "type": "OrderedCollection",
        "totalItems": 120,
        "first": "https://a2.example/users/alice/followers?page=1",
    }
    page = build.collection_page(head["id"], 2, ["x"], has_next=True)
    assert page["next"].endswith("?page=3") and page["prev"].endswith("?page=1")
    assert page["partOf"] == head["id"] and page["orderedItems"] == ["x"]


def test_urls_recognise_only_their_own_objects() -> None:
    assert URLS.post_id("https://a2.example/posts/7") == 7
    assert URLS.post_id("https://other.example/posts/7") is None
    assert URLS.post_id("https://a2.example/posts/7?x=1") is None
    assert URLS.comment_id("https://a2.example/comments/3") == 3
    assert URLS.username("https://a2.example/users/alice") == "alice"
    assert URLS.username("https://a2.example/users/../etc") is None


def test_person_names_its_other_accounts_and_where_it_moved_only_when_it_has() -> None:
    assert "alsoKnownAs" not in build.person(MEMBER, URLS) and "movedTo" not in build.person(MEMBER, URLS)
    moved = dataclasses.replace(
        MEMBER, also_known_as=("https://old.example/users/alice",), moved_to="https://new.example/users/alice"
    )
    doc = build.person(moved, URLS)
    assert doc["alsoKnownAs"] == ["https://old.example/users/alice"]
    assert doc["movedTo"] == "https://new.example/users/alice"
    # Both terms are defined in the context, as ids (Mastodon's definitions).
    assert build.EXTENSIONS["alsoKnownAs"] == {"@id": "as:alsoKnownAs", "@type": "@id"}
    assert build.EXTENSIONS["movedTo"] == {"@id": "as:movedTo", "@type": "@id"}


def test_move_and_the_delete_of_an_actor() -> None:
    old, new = "https://a2.example/users/alice", "https://new.example/users/alice"
    move = build.move(f"{old}#moves/1", old, new, f"{old}/followers")
    assert (move["type"], move["actor"], move["object"], move["target"]) == ("Move", old, old, new)
    assert move["to"] == [f"{old}/followers"]
    delete = build.delete_actor(old)
    assert (delete["type"], delete["actor"], delete["object"], delete["to"]) == ("Delete", old, old, [build.PUBLIC])
    gone = build.actor_tombstone(old, 1_700_000_000.0)
    assert gone["type"] == "Tombstone" and gone["formerType"] == "Person" and gone["deleted"] == "2023-11-14T22:13:20Z"
