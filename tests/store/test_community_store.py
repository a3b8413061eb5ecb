"""What the community pages read, on both backends: the member directory (search over name and
profile fields, folded), the newest members, recent comments, comment counts, the group overview
and members' avatars; and the directory text of members stored before it existed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_a2.policy import DomainRule, Policy
from fediverse_a2.store import actor_blocks, comments, follows, groups, media, members, meta, posts
from fediverse_a2.store import migrations as migrations_module
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database
from fediverse_a2.web.directory import query_words

OPEN = Policy("open", ())
NOW = 1_800_000_000.0


async def _person(db: Database, username: str, name: str, *fields: tuple[str, str], created: float = NOW) -> int:
    member = await members.create(db, username, name, "", "PEM", created_at=created)
    if fields:
        await members.set_profile(db, member.id, name=name, summary="", fields=fields, avatar_id=None, locked=False)
    return member.id


async def _found(db: Database, query: str) -> list[str]:
    return [m.username for m in await members.directory(db, query_words(query), 50)]


async def test_the_directory_searches_names_and_profile_field_values(db: Database) -> None:
    await _person(db, "rene", "René Dijkstra", ("Organisatie", "Gemeente Utrecht"), ("Functie", "Datasteward"))
    await _person(db, "anna", "Anna de Boer", ("Organisatie", "Provincie Utrecht"), ("Functie", "Jurist"))
    await _person(db, "kees", "Kees 100%_zeker", ("Organisatie", "Rijkswaterstaat"))
    suspended = await members.create(db, "weg", "Utrecht Weg", "", "PEM", state="suspended")
    disabled = await _person(db, "uit", "Utrecht Uit")
    await members.set_disabled(db, disabled, True)
    await groups.create(db, "utrecht", "Utrecht", "", "followers")

    assert await _found(db, "") == ["anna", "kees", "rene"]  # by name; groups and those who left are not listed
    assert await _found(db, "utrecht") == ["anna", "rene"]
    assert await _found(db, "RENE") == ["rene"]  # accents and case folded
    assert await _found(db, "gemeente utrecht") == ["rene"]  # every word must match
    assert await _found(db, "datasteward") == ["rene"]
    assert await _found(db, "organisatie") == []  # a field's name is not what it says
    assert await _found(db, "100%") == ["kees"]
    assert await _found(db, "%") == ["kees"] and await _found(db, "_") == ["kees"]  # LIKE's wildcards are literal
    assert suspended.id not in [m.id for m in await members.directory(db, [], 50)]

    # A changed profile is found by its new words at once.
    anna = await members.by_username(db, "anna")
    assert anna is not None
    await members.set_profile(
        db, anna.id, name="Anna de Boer", summary="", fields=(("Organisatie", "Waterschap Vallei"),), avatar_id=None,
        locked=False,
    )  # fmt: skip
    assert await _found(db, "utrecht") == ["rene"] and await _found(db, "vallei") == ["anna"]
    # Paging.
    assert [m.username for m in await members.directory(db, [], 2, 2)] == ["rene"]


async def test_newest_members_and_avatars(db: Database) -> None:
    old = await _person(db, "oud", "Oud Lid", created=NOW - 1000)
    new = await _person(db, "nieuw", "Nieuw Lid", created=NOW)
    gone = await _person(db, "weg", "Weg", created=NOW + 10)
    await members.set_disabled(db, gone, True)
    assert [m.id for m in await members.newest(db, 5)] == [new, old]
    picture = await media.add(db, new, "abc.png", "image/png", 64, 64, 100, "")
    await members.set_avatar(db, new, picture.id)
    assert await members.avatars(db, [old, new, new]) == {new: "abc.png"}
    assert await members.avatars(db, []) == {}


async def _comment(db: Database, post_id: int, n: int, domain: str = "remote.example", **extra: object) -> int:
    comment_id = await comments.add(
        db, ap_id=f"https://{domain}/notes/{n}", url=None, post_id=post_id, parent_id=None,
        author_uri=f"https://{domain}/users/u{n}", member_id=None, domain=domain, content_html=f"<p>Reactie {n}</p>",
        summary=None, published=NOW + n, **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    assert comment_id is not None
    return comment_id


async def test_recent_comments_and_counts_leave_out_what_is_not_shown(db: Database) -> None:
    author = await _person(db, "alice", "Alice")
    post = await posts.create(db, author, "Open data", "x", "<p>x</p>", NOW)
    other = await posts.create(db, author, "Tweede", "y", "<p>y</p>", NOW)
    draft = await posts.create(db, author, "Concept", "z", "<p>z</p>", NOW, state="draft")
    deleted = await posts.create(db, author, "Weg", "w", "<p>w</p>", NOW)
    shown = [await _comment(db, post, 1), await _comment(db, other, 2)]
    await _comment(db, post, 3, state=comments.HELD)
    await _comment(db, post, 4, state=comments.HIDDEN)
    await _comment(db, post, 5, domain="blocked.example")
    await _comment(db, post, 6, domain="actor.example")
    await actor_blocks.add(db, "https://actor.example/users/u6")
    await _comment(db, draft, 7)
    await _comment(db, deleted, 8)
    await posts.mark_deleted(db, deleted)
    policy = Policy("open", (DomainRule("blocked.example", "block"),))

    recent = await comments.recent(db, policy, 10)
    assert [c.id for c in recent] == shown[::-1]  # newest first
    assert recent[0].post_title == "Tweede" and recent[0].content_html == "<p>Reactie 2</p>"
    assert recent[0].author_name == "https://remote.example/users/u2"  # no actor known: its address
    assert [c.id for c in await comments.recent(db, policy, 1)] == [shown[1]]
    assert await comments.counts_for_posts(db, [post, other, draft], policy) == {post: 1, other: 1, draft: 1}
    assert await comments.counts_for_posts(db, [post]) == {post: 2}  # the blocked domain counts when open
    assert await comments.counts_for_posts(db, [], OPEN) == {}


async def test_group_overview_counts_and_latest_post(db: Database) -> None:
    author = await _person(db, "alice", "Alice")
    network = await groups.create(db, "netwerk", "Het netwerk", "", "members")
    data = await groups.create(db, "opendata", "Open data", "Over data", "followers")
    quiet = await groups.create(db, "stil", "Stille groep", "", "followers")
    assert network and data and quiet
    first = await posts.create(db, author, "Eerste", "a", "<p>a</p>", NOW)
    second = await posts.create(db, author, "Tweede", "b", "<p>b</p>", NOW + 1)
    third = await posts.create(db, author, "Derde", "c", "<p>c</p>", NOW + 2)
    for n, (post_id, when) in enumerate([(first, NOW), (second, NOW + 1), (third, NOW + 2)]):
        await groups.record_post(
            db, data.id, f"https://a2.test/posts/{post_id}", f"https://a2.test/a/{n}", "https://a2.test/users/alice",
            post_id=post_id, created_at=when,
        )  # fmt: skip
    await groups.record_post(
        db, network.id, "https://x.example/n/1", "https://a2.test/a/9", "https://x.example/u",
        content_html="<p>elders</p>", url="https://x.example/@u/1", created_at=NOW - 10,
    )  # fmt: skip
    shown = await groups.shown_in(db, f"https://a2.test/posts/{third}")
    await groups.mark_removed(db, shown[0].id)  # taken out by a moderator
    await posts.mark_deleted(db, second)  # deleted by its author
    await follows.add_follower(db, data.id, "https://x.example/u/1", "https://x.example/inbox", None, "x.example", None)
    await follows.add_follower(db, data.id, "https://x.example/u/2", "https://x.example/inbox", None, "x.example", None)

    listed = await groups.overview(db, leave_out="netwerk")
    assert [g.group.username for g in listed] == ["opendata", "stil"]  # by name, the network left out
    data_row, quiet_row = listed
    assert (data_row.followers, data_row.post_count) == (2, 1)
    assert data_row.group.summary == "Over data" and data_row.group.rule == "followers"
    assert data_row.latest is not None and data_row.latest.post_id == first and data_row.latest_title == "Eerste"
    assert quiet_row.latest is None and quiet_row.post_count == 0 and quiet_row.latest_title is None
    active = await groups.overview(db, active=True, limit=5)
    assert [g.group.username for g in active] == ["opendata", "netwerk"]  # only groups with posts, newest first
    remote = active[1].latest
    assert remote is not None and remote.post_id is None and remote.url == "https://x.example/@u/1"
    assert active[1].latest_title is None


async def test_members_from_before_the_directory_get_their_text_on_open(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = database_url or str(tmp_path / "db.sqlite3")
    with monkeypatch.context() as patch:
        patch.setattr(migrations_module, "MIGRATIONS", [m for m in migrations_module.MIGRATIONS if m[0] < 16])
        db = await open_database(target)
        try:
            await db.execute(
                "INSERT INTO members (username, name, public_key_pem, created_at, fields) "
                """VALUES ('ada', 'Adá Öztürk', '', 0, '[["Organisatie", "Gemeente Zwolle"]]')"""
            )
        finally:
            await db.close()
    db = await open_database(target)  # migration 16, then the directory text once
    try:
        assert await meta.get(db, members.DIRECTORY_REINDEX_KEY) is None
        assert await _found(db, "ada ozturk") == ["ada"] and await _found(db, "zwolle") == ["ada"]
    finally:
        await db.close()
