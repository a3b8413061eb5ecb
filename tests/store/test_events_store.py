"""The events store and the importer's way in, on SQLite and PostgreSQL: an event written with its legacy id
and original dates is never announced or delivered; answers and comments go under it; listings by date."""

from __future__ import annotations

import pytest

from event_samples import utc
from fediverse_a2.models import EVENT, GOING, MAYBE, NOT_GOING
from fediverse_a2.runtime import Runtime
from fediverse_a2.services.events import NewEvent, event_document, store_event
from fediverse_a2.services.members import add_member
from fediverse_a2.store import account_stats, actor_blocks, comments, events, legacy, members, posts
from fediverse_a2.store.comments import NewComment
from fediverse_a2.store.events import EventRow, RsvpRow
from fediverse_a2.store.posts import NewPost


async def _imported(rt: Runtime, legacy_id: str, starts: float, ends: float | None) -> int:
    author = await members.by_username(rt.db, "archief") or await add_member(rt, "archief", "Archief Auteur")
    new = NewEvent(
        author.id, "Dag van de Ambtenaar 2012", "", "<p>Het netwerkfeest</p>", starts, ends, "Beurs van Berlage",
        "Damrak 243, Amsterdam", published=utc(2012, 3, 1), updated=utc(2012, 3, 2), legacy_id=legacy_id,
    )  # fmt: skip
    async with rt.db.transaction() as tx:
        return await store_event(tx, new)


async def test_an_imported_event_is_stored_and_never_delivered(rt: Runtime) -> None:
    event_id = await _imported(rt, "2200209:Event:12", utc(2012, 5, 15, 8), utc(2012, 5, 15, 16))
    event = await events.by_id(rt.db, event_id)
    assert event is not None and event.post.is_event and event.post.published == utc(2012, 3, 1)
    assert (event.starts_at, event.ends_at, event.location_name) == (utc(2012, 5, 15, 8), utc(2012, 5, 15, 16),
                                                                       "Beurs van Berlage")  # fmt: skip
    assert await legacy.post_ids(rt.db, ["2200209:Event:12"]) == {"2200209:Event:12": event_id}
    assert await rt.db.fetchval("SELECT COUNT(*) FROM activities") == 0
    assert await rt.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    # Not a blog post: not in the posts' listings, nor among the author's statuses (client API).
    assert await posts.recent(rt.db, 10) == [] and await posts.count_live(rt.db) == 0
    author = event.post.member_id
    assert await posts.page_by_member(rt.db, author, before=None, after=None, limit=10) == []
    assert (await account_stats.for_members(rt.db, [author]))[author].statuses == 0
    # Its old answers (a member and a remote actor) and comments go under it; a second run changes nothing.
    member = f"{rt.urls.base}/users/{event.post.username}"
    rows = [RsvpRow(event_id, member, GOING, member_id=event.post.member_id, at=utc(2012, 4, 1)),
            RsvpRow(event_id, "https://elders.example/users/kees", MAYBE)]  # fmt: skip
    for _ in range(2):
        await events.set_answers(rt.db, rows)
    assert await events.count_by_status(rt.db, event_id) == {GOING: 1, MAYBE: 1, NOT_GOING: 0}
    answers = await events.rsvps(rt.db, event_id, rt.urls)
    assert [(a.name, a.status) for a in answers] == [
        ("Archief Auteur", GOING),
        ("https://elders.example/users/kees", MAYBE),
    ]
    old = NewComment("2200209:Comment:1", event_id, event.post.member_id, member, "a2.test", "<p>Tot dan!</p>",
                     utc(2012, 4, 2))  # fmt: skip
    [comment_id] = await comments.add_many(rt.db, [old])
    await comments.set_ap_ids(rt.db, [(comment_id, rt.urls.comment(comment_id))])
    listed = await comments.list_for_post(rt.db, event_id, rt.policy, rt.urls)
    assert [c.content_html for c in listed] == ["<p>Tot dan!</p>"]
    doc = await event_document(rt, rt.db, event)
    assert doc["replies"]["first"]["orderedItems"] == [rt.urls.comment(comment_id)]
    assert doc["participantCount"] == 1 and doc["published"] == "2012-03-01T00:00:00Z"
    # A blocked actor's answer stays stored but is not listed or counted.
    await actor_blocks.add(rt.db, "https://elders.example/users/kees")
    assert await events.count_by_status(rt.db, event_id) == {GOING: 1, MAYBE: 0, NOT_GOING: 0}


async def test_a_second_event_with_the_same_legacy_id_is_refused(rt: Runtime) -> None:
    await _imported(rt, "2200209:Event:7", utc(2012, 5, 15, 8), None)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await _imported(rt, "2200209:Event:7", utc(2012, 5, 16, 8), None)


async def test_upcoming_and_past_by_their_dates(rt: Runtime) -> None:
    now = utc(2030, 1, 1)
    ended = await _imported(rt, "e1", utc(2029, 12, 1), utc(2029, 12, 1, 2))
    running = await _imported(rt, "e2", utc(2029, 12, 31, 20), utc(2030, 1, 1, 2))  # not over yet
    soon = await _imported(rt, "e3", utc(2030, 1, 5), None)
    later = await _imported(rt, "e4", utc(2030, 2, 1), utc(2030, 2, 1, 3))
    started_without_end = await _imported(rt, "e5", utc(2029, 12, 31, 23), None)
    assert [e.id for e in await events.upcoming(rt.db, now, 10)] == [running, soon, later]
    assert [e.id for e in await events.past(rt.db, now, 10)] == [started_without_end, ended]
    await posts.mark_deleted(rt.db, soon)  # cancelled: in neither
    assert [e.id for e in await events.upcoming(rt.db, now, 10)] == [running, later]
    # Answers: one per person, the latest counts; the activity it came in names it for an Undo.
    actor = "https://m.example/users/carol"
    await events.set_answer(rt.db, RsvpRow(later, actor, GOING, activity_id="https://m.example/join/1"))
    await events.set_answer(rt.db, RsvpRow(later, actor, NOT_GOING, activity_id="https://m.example/leave/1"))
    assert await events.answer_of(rt.db, later, actor) == NOT_GOING
    assert await events.rsvp_owner(rt.db, "https://m.example/leave/1") == actor
    assert not await events.remove_answer_by_activity(rt.db, "https://m.example/join/1", actor)
    assert not await events.remove_answer_by_activity(rt.db, "https://m.example/leave/1", "https://x.example/u")
    assert await events.remove_answer_by_activity(rt.db, "https://m.example/leave/1", actor)
    assert await events.answer_of(rt.db, later, actor) is None
    with pytest.raises(ValueError, match="unknown answer"):
        await events.set_answer(rt.db, RsvpRow(later, actor, "attending"))


async def test_events_in_a_batch_as_the_archive_brings_them(rt: Runtime) -> None:
    author = await add_member(rt, "archief", "Archief Auteur")
    rows = [
        NewPost(f"Event:{n}", author.id, f"Dag {n}", "", "<p>x</p>", utc(2012, 1, n), None, "published", "ning",
                kind=EVENT)
        for n in (1, 2)
    ]  # fmt: skip
    async with rt.db.transaction() as tx:
        ids = await posts.add_many(tx, rows)
        await events.add_many(tx, [EventRow(i, utc(2012, 5, n), None) for n, i in enumerate(ids, 1)])
    found = [await events.by_id(rt.db, i) for i in ids]
    assert [(e.post.title, e.post.is_event, e.starts_at) for e in found if e] == [
        ("Dag 1", True, utc(2012, 5, 1)),
        ("Dag 2", True, utc(2012, 5, 2)),
    ]
    assert [e.id for e in await events.past(rt.db, utc(2020, 1, 1), 10)] == ids[::-1]
    assert await rt.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
