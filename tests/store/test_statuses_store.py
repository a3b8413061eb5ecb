"""The stores behind statuses from apps on SQLite and PostgreSQL: members' notes, earlier versions,
idempotency keys, unlisted activities, who may see a comment, remote posts by date and by
address, members' reactions, notifications by kind and id, tags by the start of their name."""

from __future__ import annotations

import time

import pytest

from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import (
    activities,
    comments,
    follows,
    idempotency,
    media,
    member_notes,
    member_reactions,
    notifications,
    posts,
    reactions,
    remote_posts,
    status_edits,
    tags,
)

NOW = 1_800_000_000.0


async def test_member_notes_and_their_versions(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    ids = [
        await member_notes.add(
            rt.db,
            alice.id,
            f"http://a2.test/notes/{i}",
            in_reply_to="https://r.test/s/1" if i else None,
            visibility=("public", "followers", "direct")[i],
            content_html=f"<p>{i}</p>",
            source=str(i),
            summary=None,
            language="nl",
            published=NOW + i,
        )
        for i in range(3)
    ]
    note = await member_notes.by_ap_id(rt.db, "http://a2.test/notes/1")
    assert note is not None and note.id == ids[1] and note.visibility == "followers" and note.source == "1"
    assert await member_notes.by_id(rt.db, ids[0]) == (await member_notes.by_ids(rt.db, ids))[ids[0]]
    everything = await member_notes.page_by_member(rt.db, alice.id, before=None, after=None, limit=10)
    assert [n.id for n in everything] == list(reversed(ids))
    shown = await member_notes.page_by_member(rt.db, alice.id, before=None, after=None, limit=10, shown_only=True)
    assert [n.id for n in shown] == [ids[0]]
    between = await member_notes.page_by_member(rt.db, alice.id, before=NOW + 2, after=NOW, limit=10)
    assert [n.id for n in between] == [ids[1]]
    oldest = await member_notes.page_by_member(rt.db, alice.id, before=None, after=None, limit=2, oldest_first=True)
    assert [n.id for n in oldest] == ids[:2]
    assert [n.id for n in await member_notes.replies_to(rt.db, "https://r.test/s/1")] == ids[1:]

    updated = await member_notes.update(rt.db, ids[1], "<p>een</p>", "een", "cw")
    again = await member_notes.by_id(rt.db, ids[1])
    assert again is not None and (again.content_html, again.source, again.summary, again.updated) == (
        "<p>een</p>", "een", "cw", updated)  # fmt: skip
    await status_edits.add(rt.db, "note", ids[1], "<p>1</p>", None, [3, 4], NOW + 1)
    await status_edits.add(rt.db, "note", ids[1], "<p>1b</p>", "cw", [], NOW + 5)
    await status_edits.add(rt.db, "post", ids[1], "<p>other</p>", None, [], NOW)
    versions = await status_edits.for_status(rt.db, "note", ids[1])
    assert [(v.content_html, v.summary, v.media_ids, v.created_at) for v in versions] == [
        ("<p>1</p>", None, (3, 4), NOW + 1), ("<p>1b</p>", "cw", (), NOW + 5)]  # fmt: skip
    with pytest.raises(ValueError):
        await status_edits.add(rt.db, "poll", 1, "", None, [], NOW)
    await member_notes.delete(rt.db, ids[1])
    assert await member_notes.by_id(rt.db, ids[1]) is None


async def test_idempotency_keys(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    bob = await add_member(rt, "bob", "Bob")
    assert await idempotency.claim(rt.db, alice.id, "k") == idempotency.Claim(ours=True)
    assert await idempotency.claim(rt.db, alice.id, "k") == idempotency.Claim(ours=False)  # still writing
    assert (await idempotency.claim(rt.db, bob.id, "k")).ours  # another member's key is theirs
    await idempotency.complete(rt.db, alice.id, "k", "123")
    assert await idempotency.claim(rt.db, alice.id, "k") == idempotency.Claim(ours=False, status_id="123")
    await idempotency.release(rt.db, alice.id, "k")  # a completed key stays
    assert (await idempotency.claim(rt.db, alice.id, "k")).status_id == "123"
    await idempotency.release(rt.db, bob.id, "k")
    assert (await idempotency.claim(rt.db, bob.id, "k")).ours  # a released key may be used again
    # a day later the key is forgotten
    later = time.time() + idempotency.KEEP_SECONDS + 10
    assert (await idempotency.claim(rt.db, alice.id, "k", now=later)).ours


async def test_unlisted_activities_stay_out_of_the_outbox(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    await activities.add(rt.db, "http://a2.test/a/1", alice.id, "Create", "http://a2.test/notes/1", '{"n": 1}')
    await activities.add(rt.db, "http://a2.test/a/2", alice.id, "Create", "http://a2.test/notes/2", '{"n": 2}',
                         listed=False)  # fmt: skip
    assert await activities.count_for_member(rt.db, alice.id) == 1
    assert await activities.for_member(rt.db, alice.id, 10, 0) == ['{"n": 1}']
    hidden = await activities.latest_version(rt.db, "http://a2.test/notes/2")
    assert hidden is not None and not hidden.listed
    created = await activities.create_of(rt.db, "http://a2.test/notes/1")
    assert created is not None and created.listed


async def test_who_may_see_a_comment(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    bob = await add_member(rt, "bob", "Bob")
    carol = await add_member(rt, "carol", "Carol")
    post = await posts.create(rt.db, alice.id, "T", "b", "<p>b</p>", NOW)
    made = {}
    for name, visibility, member_id, parent in (
        ("public", "public", None, None), ("bobs", "direct", bob.id, None), ("remote", "followers", None, "public"),
        ("reply", "public", carol.id, "bobs"),
    ):  # fmt: skip
        made[name] = await comments.add(
            rt.db, ap_id=f"http://x.test/{name}", url=None, post_id=post, parent_id=made.get(parent or ""),
            author_uri=f"http://x.test/u/{name}", member_id=member_id, domain="x.test", content_html=name,
            summary=None, published=NOW + len(made), visibility=visibility, source=f"typed {name}", language="en",
        )  # fmt: skip
    ids = list(made.values())

    async def seen(viewer: int | None) -> list[int]:
        return sorted((await comments.viewable(rt.db, ids, rt.policy, rt.urls, viewer)).keys())

    assert await seen(None) == sorted([made["public"], made["reply"]])
    assert await seen(alice.id) == sorted(ids)  # the post's author, told of every reply
    assert await seen(bob.id) == sorted([made["public"], made["bobs"], made["reply"]])  # his own
    assert await seen(carol.id) == sorted([made["public"], made["reply"]])  # not bob's: it answers alice's post
    thread = await comments.thread(rt.db, post, rt.policy, rt.urls, None)
    assert [c.id for c in thread] == [made["public"], made["reply"]]
    assert thread[0].visibility == "public" and thread[0].source == "typed public" and thread[0].language == "en"
    assert len(await comments.thread(rt.db, post, rt.policy, rt.urls, alice.id)) == 4
    assert await comments.reply_counts(rt.db, [made["public"], made["bobs"]]) == {made["bobs"]: 1}
    mine = await comments.page_by_member(rt.db, bob.id, rt.urls, before=None, after=None, limit=5)
    assert mine == []  # his direct comment: not for anyone else's list
    own = await comments.page_by_member(rt.db, bob.id, rt.urls, before=None, after=None, limit=5, shown_only=False)
    assert [c.id for c in own] == [made["bobs"]]
    await comments.update_content(rt.db, made["reply"], "<p>new</p>", None, NOW + 9, source="new")
    assert (await comments.viewable(rt.db, [made["reply"]], rt.policy, rt.urls, None))[made["reply"]].source == "new"
    await posts.mark_deleted(rt.db, post)
    assert await seen(alice.id) == []  # nothing under a deleted post


async def test_remote_posts_reactions_notifications_and_tags(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    bob = await add_member(rt, "bob", "Bob")
    for i, (actor, public) in enumerate([("https://r.test/u/a", True), ("https://r.test/u/b", True),
                                         ("https://r.test/u/a", False)]):  # fmt: skip
        await remote_posts.add(rt.db, ap_id=f"https://r.test/s/{i}", actor_uri=actor, content_html=f"<p>{i}</p>",
                               summary=None, url=None, in_reply_to="https://r.test/s/0" if i == 2 else None,
                               published=NOW + i, attachments=[{"url": "https://r.test/i.png"}] if i == 1 else [],
                               public=public)  # fmt: skip
    await follows.add_following(rt.db, alice.id, "https://r.test/u/a", "http://a2.test/f/1")
    home = await remote_posts.home_page(rt.db, alice.id, before=None, after=None, limit=10)
    assert [p.ap_id for p in home] == ["https://r.test/s/2", "https://r.test/s/0"]
    page = await remote_posts.home_page(rt.db, alice.id, before=NOW + 2, after=None, limit=10, oldest_first=True)
    assert [p.ap_id for p in page] == ["https://r.test/s/0"]
    public = await remote_posts.public_page(rt.db, before=None, after=None, limit=10)
    assert [p.ap_id for p in public] == ["https://r.test/s/1", "https://r.test/s/0"]
    media_only = await remote_posts.public_page(rt.db, before=None, after=None, limit=10, only_media=True)
    assert [p.ap_id for p in media_only] == ["https://r.test/s/1"]
    one = await remote_posts.by_ap_id(rt.db, "https://r.test/s/2")
    assert one is not None and not one.public and (await remote_posts.by_ids(rt.db, [one.id]))[one.id] == one
    assert [p.ap_id for p in await remote_posts.replies_to(rt.db, "https://r.test/s/0")] == ["https://r.test/s/2"]

    for member in (alice, bob):
        await member_reactions.add(rt.db, member.id, "Like", "https://r.test/s/0", f"http://a2.test/l/{member.id}")
    assert await member_reactions.counts(rt.db, ["https://r.test/s/0", "https://r.test/s/1"]) == {
        ("Like", "https://r.test/s/0"): 2}  # fmt: skip
    assert set(await member_reactions.members_of(rt.db, "Like", "https://r.test/s/0", 10)) == {alice.id, bob.id}
    post = await posts.create(rt.db, alice.id, "T", "b", "<p>b</p>", NOW)
    await reactions.add(rt.db, "https://r.test/l/1", "like", "https://r.test/u/a", post)
    await reactions.add(rt.db, "http://a2.test/users/bob#likes/1", "like", "http://a2.test/users/bob", post)
    assert set(await reactions.actors(rt.db, post, "like", 10)) == {"https://r.test/u/a", "http://a2.test/users/bob"}
    assert await reactions.actors(rt.db, post, "announce", 10) == []

    for kind in ("reply", "like", "follow", "like"):
        await notifications.add(rt.db, alice.id, kind, "https://r.test/u/a", "A", None, "http://a2.test/posts/1")
    await notifications.add(rt.db, bob.id, "like", "https://r.test/u/a", "A", None, "http://a2.test/posts/1")
    likes = await notifications.page_between(rt.db, alice.id, ["like"], below=None, above=None, limit=10)
    assert [n.kind for n in likes] == ["like", "like"] and likes[0].id > likes[1].id
    every = await notifications.page_between(rt.db, alice.id, ["reply", "like", "follow"], below=likes[0].id,
                                             above=None, limit=2)  # fmt: skip
    assert [n.kind for n in every] == ["follow", "like"]
    assert await notifications.page_between(rt.db, alice.id, [], below=None, above=None, limit=10) == []
    assert await notifications.by_id(rt.db, bob.id, likes[0].id) is None  # not bob's
    assert await notifications.dismiss(rt.db, bob.id, likes[0].id) == 0
    assert await notifications.dismiss(rt.db, alice.id, likes[0].id) == 1
    assert await notifications.dismiss(rt.db, alice.id) == 3
    assert await notifications.unread_count(rt.db, bob.id) == 1

    draft = await posts.create(rt.db, alice.id, "D", "b", "<p>b</p>", NOW, state="draft")
    await tags.set_for_post(rt.db, post, [("Omgevingswet", "omgevingswet"), ("Omroep", "omroep"), ("x_y", "x_y")])
    await tags.set_for_post(rt.db, draft, [("Ommetje", "ommetje")])
    assert await tags.starting_with(rt.db, "om", 10) == [("Omgevingswet", "omgevingswet"), ("Omroep", "omroep")]
    assert await tags.starting_with(rt.db, "om", 1, 1) == [("Omroep", "omroep")]
    assert await tags.starting_with(rt.db, "x_", 10) == [("x_y", "x_y")]
    assert await tags.starting_with(rt.db, "%", 10) == []  # a wildcard is a character
    page_by_tag = await posts.page(rt.db, before=None, after=None, limit=10, tag="omroep")
    assert [p.id for p in page_by_tag] == [post]

    image = await media.add(rt.db, alice.id, "f.jpg", "image/jpeg", 1, 1, 10, "")
    assert not await media.is_attached(rt.db, image.id)
    await media.attach(rt.db, post, [image.id])
    assert await media.is_attached(rt.db, image.id)
