"""The stores of issue 21 on both backends: members-only groups (visibility, members, requests to
join), pages of the site, private profile fields, and the live-post condition leaving a
members-only post out of every listing."""

from __future__ import annotations

from fediverse_a2.store import group_members, groups, members, posts, site_pages
from fediverse_a2.store.db import Database
from fediverse_a2.store.members import NewMember
from fediverse_a2.store.site_pages import NewSitePage

NOW = 1_700_000_000.0


async def _people(db: Database) -> tuple[int, int]:
    ids = await members.add_many(
        db,
        [
            NewMember("cn-a", "anna", "Anna", None, "member", "active", False, NOW, "Over Anna",
                      (("Organisatie", "Gemeente"), ("Regio", "Oost"))),
            NewMember("cn-b", "bert", "Bert", None, "member", "active", False, NOW),
        ],
    )  # fmt: skip
    anna, bert = ids
    assert anna is not None and bert is not None
    return anna, bert


async def test_members_only_groups_members_and_requests(db: Database) -> None:
    anna, bert = await _people(db)
    public = await groups.create(db, "open", "Open", "", "followers")
    kring = await groups.create(db, "kring", "Kring", "", "followers", groups.MEMBERS_ONLY)
    assert public is not None and kring is not None
    assert (public.visibility, public.members_only) == ("public", False)
    assert (kring.visibility, kring.members_only) == ("members", True)
    assert await groups.is_members_only(db, kring.id) and not await groups.is_members_only(db, public.id)
    assert not await groups.is_members_only(db, anna)  # a person is no group
    assert [g.username for g in await groups.listed_for(db, None)] == ["open"]
    assert await group_members.add(db, kring.id, anna) and not await group_members.add(db, kring.id, anna)
    assert [g.username for g in await groups.listed_for(db, anna)] == ["open", "kring"]
    assert [g.username for g in await groups.listed_for(db, bert)] == ["open"]
    assert await group_members.member_of(db, anna, [public.id, kring.id]) == {kring.id}
    # The group list and the front page's active groups (store.groups.overview) by the same rule,
    # the members-only group with its state-'group' posts counted for its members.
    post = await posts.create(db, anna, "Binnen de kring", "b", "<p>b</p>", state="group")
    url = f"https://a2.test/posts/{post}"
    await groups.record_post(db, kring.id, url, f"{url}#archived/1", "https://a2.test/users/anna", post_id=post)
    assert [o.group.username for o in await groups.overview(db)] == ["open"]
    assert [o.group.username for o in await groups.overview(db, member_id=bert)] == ["open"]
    listed = {o.group.username: o for o in await groups.overview(db, member_id=anna)}
    assert list(listed) == ["kring", "open"]  # by name
    assert listed["kring"].group.members_only and listed["kring"].post_count == 1
    assert listed["kring"].latest_title == "Binnen de kring"
    assert [o.group.username for o in await groups.overview(db, member_id=anna, active=True)] == ["kring"]
    assert [m.username for m in await group_members.list_members(db, kring.id)] == ["anna"]

    # bert asks, is rejected, asks again (the request opens again), is approved.
    assert await group_members.request(db, kring.id, bert, "mag ik?")
    assert not await group_members.request(db, kring.id, bert, "nogmaals")  # one pending request
    [waiting] = await group_members.pending(db, kring.id)
    assert (waiting.username, waiting.message, waiting.state) == ("bert", "mag ik?", group_members.PENDING)
    assert await group_members.decide(db, waiting.id, False, anna)
    assert not await group_members.decide(db, waiting.id, True, anna)  # decided already
    assert await group_members.pending(db, kring.id) == []
    assert await group_members.request(db, kring.id, bert, "toch?")
    again = await group_members.request_of(db, kring.id, bert)
    assert again is not None and again.state == group_members.PENDING and again.decided_by is None
    assert await group_members.decide(db, again.id, True, anna)
    decided = await group_members.request_by_id(db, kring.id, again.id)
    assert decided is not None and (decided.state, decided.decided_by) == (group_members.APPROVED, anna)
    assert await group_members.request_by_id(db, public.id, again.id) is None  # another group's id


async def test_members_only_posts_stay_out_of_public_listings(db: Database) -> None:
    anna, _ = await _people(db)
    public = await posts.create(db, anna, "Open", "b", "<p>b</p>", NOW)
    private = await posts.create(db, anna, "Kring", "b", "<p>b</p>", NOW + 1, state="group")
    draft = await posts.create(db, anna, "Klad", "b", "<p>b</p>", NOW + 2, state="draft")
    assert await posts.live_ids(db, 10) == [public]
    assert [p.id for p in await posts.recent(db, 10)] == [public]
    assert await posts.count_live(db) == 1
    found = await posts.by_id(db, private)
    assert found is not None and found.in_private_group and not found.is_public and not found.is_draft
    # A draft in a members-only group is published into it, as a members-only post.
    await posts.publish(db, draft, NOW + 3, state="group")
    published = await posts.by_id(db, draft)
    assert published is not None and published.state == "group"


async def test_site_pages_and_hidden_fields(db: Database) -> None:
    anna, _ = await _people(db)
    member = await members.by_id(db, anna)
    assert member is not None and member.summary == "Over Anna"
    assert member.fields == () and member.hidden_fields == (("Organisatie", "Gemeente"), ("Regio", "Oost"))
    await members.set_hidden_fields(db, anna, [("Regio", "Oost")])
    member = await members.by_id(db, anna)
    assert member is not None and member.hidden_fields == (("Regio", "Oost"),)

    rows = [
        NewSitePage("over", "Over ons", "<p>a</p>", "pg:1", NOW, NOW + 5, 1),
        NewSitePage("regels", "Huisregels", "<p>b</p>", "pg:2", NOW, None, 0),
    ]
    first = await site_pages.add_many(db, rows)
    assert all(i is not None for i in first)
    assert await site_pages.add_many(db, rows) == [None, None]  # found again by legacy id
    assert [(link.slug, link.title) for link in await site_pages.links(db)] == [
        ("regels", "Huisregels"), ("over", "Over ons")
    ]  # fmt: skip
    page = await site_pages.by_slug(db, "over")
    assert page is not None and (page.title, page.updated_at) == ("Over ons", NOW + 5)
    assert await site_pages.by_slug(db, "nergens") is None
    assert await site_pages.slugs(db) == {"over", "regels"}
    assert await site_pages.legacy_ids(db, ["pg:1", "pg:9"]) == {"pg:1": "over"}
