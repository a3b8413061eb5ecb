"""The store's side of erasing an account, on both backends: comments emptied with their answers
moved up (chains of erased comments too), posts emptied but kept by legacy id, the member row
keeping only its username, and what an export pages through."""

from __future__ import annotations

from fediverse_a2 import models
from fediverse_a2.activitypub.urls import Urls
from fediverse_a2.policy import Policy
from fediverse_a2.store import comments, events, idempotency, legacy, member_notes, members, posts, status_edits
from fediverse_a2.store.db import Database

URLS = Urls("http://a2.test")
OPEN = Policy("open", ())


async def _comment(db: Database, post: int, parent: int | None, member: int | None, ap_id: str) -> int:
    cid = await comments.add(
        db, ap_id=ap_id, url=None, post_id=post, parent_id=parent,
        author_uri=URLS.actor("alice") if member else "https://r.test/u/carol", member_id=member,
        domain="a2.test" if member else "r.test", content_html=f"<p>{ap_id}</p>", summary=None, published=1.0,
    )  # fmt: skip
    assert cid is not None
    return cid


async def test_erasing_comments_keeps_the_threads_of_others_whole(db: Database) -> None:
    alice = (await members.create(db, "alice", "Alice", "", "PEM", email="a@example.org")).id
    bob = (await members.create(db, "bob", "Bob", "", "PEM")).id
    post = await posts.create(db, bob, "Post van Bob", "tekst", "<p>tekst</p>")
    # carol -> alice -> alice -> carol: two erased comments in a row between two of carol's.
    top = await _comment(db, post, None, None, "https://r.test/c/1")
    first = await _comment(db, post, top, alice, "http://a2.test/comments/a1")
    second = await _comment(db, post, first, alice, "http://a2.test/comments/a2")
    answer = await _comment(db, post, second, None, "https://r.test/c/2")
    assert [c.id for c in await comments.page_of_member(db, alice, comments.VISIBLE, (-1e18, 0), 10)] == [first, second]

    erased = await comments.erase_by_member(db, alice)
    assert sorted(erased) == [(first, post), (second, post)]
    shown = {c.id: c for c in await comments.list_for_post(db, post, OPEN, URLS)}
    assert set(shown) == {top, answer}
    assert shown[answer].parent_id == top  # carol's answer hangs under carol's comment now
    assert await comments.by_id(db, first, URLS) is None
    assert await comments.state_of(db, first) == comments.ERASED
    assert await db.fetchval("SELECT content_html FROM comments WHERE id = ?", (second,)) == ""
    assert await comments.page_of_member(db, alice, comments.VISIBLE, (-1e18, 0), 10) == []


async def test_erasing_a_member_keeps_the_username_and_the_legacy_ids(db: Database) -> None:
    [alice] = await members.add_many(
        db, [members.NewMember("ning:alice", "alice", "Alice de Vries", "a@example.org", "admin", "active", False, 1.0)]
    )
    assert alice is not None
    await members.set_aliases(db, alice, ["https://old.example/users/alice"])
    await members.set_moved_to(db, alice, "https://new.example/users/alice")
    await members.set_key(db, alice, "PEM")
    [post] = await posts.add_many(
        db, [posts.NewPost("ning:post:1", alice, "Oud", "tekst", "<p>tekst</p>", 1.0, None, "published", "ning")]
    )
    assert await members.admins_left(db, but=0) == 1 and await members.admins_left(db, but=alice) == 0
    directory_text = "SELECT directory_text FROM members WHERE id = ?"
    assert "vries" in await db.fetchval(directory_text, (alice,))

    await posts.erase_for_member(db, alice, 5.0)
    await members.erase(db, alice, 5.0)
    erased = await members.by_id(db, alice)
    assert erased is not None and erased.is_deleted and erased.username == "alice"
    assert (erased.name, erased.email, erased.role, erased.also_known_as, erased.moved_to) == (
        "",
        None,
        "member",
        (),
        None,
    )
    assert await db.fetchval(directory_text, (alice,)) == ""  # the name is not kept for /members either
    assert erased.public_key_pem == "PEM"  # until the Delete went out
    assert await members.deleted_at(db, alice) == 5.0
    assert await members.erased_with_keys(db) == [(alice, "alice")]
    await members.retire_key(db, alice)
    assert await members.erased_with_keys(db) == []
    assert await members.count(db) == 0 and await members.admins_left(db, but=0) == 0
    # Importing the archive again finds both by their old ids: nothing comes back.
    assert await legacy.post_ids(db, ["ning:post:1"]) == {"ning:post:1": post}
    assert await members.add_many(
        db, [members.NewMember("ning:alice", "alice2", "A", None, "member", "active", False, 1.0)]
    ) == [None]
    gone = await posts.by_id(db, post)
    assert gone is not None and gone.deleted_at == 5.0 and (gone.title, gone.body_md, gone.content_html) == ("", "", "")


async def test_erasing_a_member_forgets_their_answers_and_their_events_place(db: Database) -> None:
    alice = (await members.create(db, "alice", "Alice", "", "PEM")).id
    bob = (await members.create(db, "bob", "Bob", "", "PEM")).id
    own = await posts.create(db, alice, "Borrel", "bij mij thuis", "<p>bij mij thuis</p>")
    other = await posts.create(db, bob, "Congres", "in Utrecht", "<p>in Utrecht</p>")
    await events.add(db, events.EventRow(own, 2.0e9, None, "Thuis", "Dorpsstraat 1, Ergens", "https://meet.example/a"))
    await events.add(db, events.EventRow(other, 2.0e9, None, "Jaarbeurs"))
    await events.set_answer(db, events.RsvpRow(other, URLS.actor("alice"), models.GOING, member_id=alice))
    await events.set_answer(db, events.RsvpRow(own, "https://r.test/u/carol", models.MAYBE))
    await events.set_answer(db, events.RsvpRow(other, URLS.actor("bob"), models.GOING, member_id=bob))
    # What her export lists: her own answer only, paged by its id.
    [answer] = await events.answers_of_member(db, alice, 0, 10)
    assert (answer.post_id, answer.title, answer.starts_at, answer.status) == (other, "Congres", 2.0e9, models.GOING)
    assert await events.answers_of_member(db, alice, answer.id, 10) == []

    await events.erase_for_member(db, alice, [own])
    assert await events.answer_of(db, other, URLS.actor("alice")) is None  # her answer to bob's event
    assert await events.answer_of(db, own, "https://r.test/u/carol") is None  # answers to her event
    assert await events.answer_of(db, other, URLS.actor("bob")) == models.GOING  # bob's own stays
    assert await events.answers_of_member(db, alice, 0, 10) == []
    place = await db.fetchone(
        "SELECT location_name, location_address, online_url FROM events WHERE post_id = ?", (own,)
    )
    assert place is not None and tuple(place) == ("", "", None)
    kept = await db.fetchval("SELECT location_name FROM events WHERE post_id = ?", (other,))
    assert kept == "Jaarbeurs"


async def test_erasing_forgets_what_apps_wrote(db: Database) -> None:
    alice = (await members.create(db, "alice", "Alice", "", "PEM")).id
    bob = (await members.create(db, "bob", "Bob", "", "PEM")).id
    notes: dict[int, int] = {}
    for who in (alice, bob):
        notes[who] = await member_notes.add(
            db, who, f"http://a2.test/notes/{who}", in_reply_to="https://r.test/n/1", visibility="followers",
            content_html="<p>alleen voor volgers</p>", source="alleen voor volgers", summary=None, language=None,
        )  # fmt: skip
        await status_edits.add(db, "note", notes[who], "<p>eerst</p>", None, [], 1.0)
        await idempotency.claim(db, who, "k-1")
    post = await posts.create(db, alice, "", "kort", "<p>kort</p>")
    await status_edits.add(db, "post", post, "<p>eerder</p>", None, [], 1.0)
    comment = await _comment(db, post, None, alice, "http://a2.test/comments/a1")
    await db.execute("UPDATE comments SET source = ? WHERE id = ?", ("wat ik typte", comment))

    assert await member_notes.delete_for_member(db, alice) == [notes[alice]]
    await status_edits.delete_for(db, "note", [notes[alice]])
    await status_edits.delete_for(db, "post", [post])
    await idempotency.delete_for_member(db, alice)
    await comments.erase_by_member(db, alice)

    assert await member_notes.by_id(db, notes[alice]) is None
    assert await status_edits.for_status(db, "note", notes[alice]) == []
    assert await status_edits.for_status(db, "post", post) == []
    assert await db.fetchval("SELECT COUNT(*) FROM idempotency_keys WHERE member_id = ?", (alice,)) == 0
    assert await db.fetchval("SELECT source FROM comments WHERE id = ?", (comment,)) is None
    # bob's stay
    assert await member_notes.by_id(db, notes[bob]) is not None
    assert len(await status_edits.for_status(db, "note", notes[bob])) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM idempotency_keys WHERE member_id = ?", (bob,)) == 1
