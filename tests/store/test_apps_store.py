"""The stores behind the client API on SQLite and PostgreSQL: apps, codes and tokens (hashes only),
markers, remote account ids, relationships, account counts and the account statuses' pages."""

from __future__ import annotations

import time

from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import (
    account_stats,
    comments,
    follows,
    markers,
    oauth_apps,
    oauth_tokens,
    posts,
    relationships,
    remote_account_ids,
)


async def _app(rt: Runtime, client_id: str = "cid") -> oauth_apps.OAuthApp:
    return await oauth_apps.create(
        rt.db, client_id=client_id, secret_hash="h" * 64, name="App", website=None,
        redirect_uris=("app://cb", "urn:ietf:wg:oauth:2.0:oob"), scopes=("read", "write"),
    )  # fmt: skip


async def test_apps_codes_and_tokens(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    app = await _app(rt)
    assert await oauth_apps.by_client_id(rt.db, "cid") == app == await oauth_apps.by_id(rt.db, app.id)
    assert app.redirect_uris == ("app://cb", "urn:ietf:wg:oauth:2.0:oob") and app.scopes == ("read", "write")
    assert await oauth_apps.by_client_id(rt.db, "other") is None

    for code, lifetime in (("c1", 600.0), ("old", -1.0)):
        await oauth_tokens.add_code(rt.db, code, app_id=app.id, member_id=alice.id, redirect_uri="app://cb",
                                    scopes=("read",), challenge="x" * 43, challenge_method="S256",
                                    lifetime=lifetime)  # fmt: skip
    other = await _app(rt, "cid2")
    assert await oauth_tokens.take_code(rt.db, "c1", other.id) is None  # another app's code
    taken = await oauth_tokens.take_code(rt.db, "c1", app.id)
    assert taken is not None and taken.member_id == alice.id and taken.challenge_method == "S256"
    assert await oauth_tokens.take_code(rt.db, "c1", app.id) is None  # once
    assert await oauth_tokens.take_code(rt.db, "old", app.id) is None  # expired

    first = await oauth_tokens.add_token(rt.db, "t1", app_id=app.id, member_id=alice.id, scopes=("read",))
    await oauth_tokens.add_token(rt.db, "t2", app_id=app.id, member_id=alice.id, scopes=("write", "read"))
    await oauth_tokens.add_token(rt.db, "t3", app_id=other.id, member_id=None, scopes=("read",))
    token = await oauth_tokens.by_hash(rt.db, "t1")
    assert token is not None and token.id == first and token.member_id == alice.id
    assert (await oauth_tokens.by_hash(rt.db, "t3")).member_id is None  # type: ignore[union-attr]
    listed = await oauth_tokens.authorised_apps(rt.db, alice.id)
    assert [(a.app_id, a.scopes) for a in listed] == [(app.id, ("read", "write"))]

    assert await oauth_tokens.delete_token(rt.db, "t1", other.id) == 0  # not its token
    assert await oauth_tokens.delete_token(rt.db, "t1", app.id) == 1
    assert await oauth_tokens.by_hash(rt.db, "t1") is None
    assert await oauth_tokens.delete_for_member_app(rt.db, alice.id, app.id) == 1
    assert await oauth_tokens.authorised_apps(rt.db, alice.id) == []
    await oauth_tokens.add_token(rt.db, "t4", app_id=app.id, member_id=alice.id, scopes=("read",))
    assert await oauth_tokens.delete_for_member(rt.db, alice.id) == 1
    assert await oauth_tokens.by_hash(rt.db, "t3") is not None  # the app's own token stays


async def test_markers_and_remote_account_ids(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    assert await markers.for_member(rt.db, alice.id, ("home",)) == []
    assert (await markers.save(rt.db, alice.id, "home", "10")).version == 1
    assert (await markers.save(rt.db, alice.id, "home", "12")).version == 2
    found = await markers.for_member(rt.db, alice.id, ("home", "notifications"))
    assert [(m.timeline, m.last_read_id, m.version) for m in found] == [("home", "12", 2)]

    ids = await remote_account_ids.ids_for(rt.db, ["https://a.test/u/1", "https://b.test/u/2", "https://a.test/u/1"])
    assert len(set(ids.values())) == 2
    again = await remote_account_ids.ids_for(rt.db, ["https://b.test/u/2", "https://c.test/u/3"])
    assert again["https://b.test/u/2"] == ids["https://b.test/u/2"]
    assert await remote_account_ids.uri_of(rt.db, again["https://c.test/u/3"]) == "https://c.test/u/3"
    assert await remote_account_ids.uri_of(rt.db, 999_999) is None


async def test_relationships_counts_and_pages(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    carol, dave = "https://m.test/users/carol", "https://m.test/users/dave"
    await follows.add_follower(rt.db, alice.id, carol, f"{carol}/inbox", None, "m.test", "f1")
    await follows.add_follower(rt.db, alice.id, dave, f"{dave}/inbox", None, "m.test", "f2")
    await follows.add_following(rt.db, alice.id, carol, "g1")
    standing = await relationships.standings(rt.db, alice.id, [carol, dave])
    assert standing[carol] == relationships.Standing("pending", True, False)
    assert standing[dave] == relationships.Standing(None, True, False)
    page = await relationships.followers(rt.db, alice.id, None, None, 1)
    assert [e.actor_uri for e in page] == [dave]
    older = await relationships.followers(rt.db, alice.id, page[0].row_id, None, 5)
    assert [e.actor_uri for e in older] == [carol]
    assert await relationships.following(rt.db, alice.id, None, None, 5) == []  # not accepted yet

    now = time.time()
    post_ids = [await posts.create(rt.db, alice.id, f"T{i}", "b", "<p>b</p>", now - 100 + i) for i in range(3)]
    await comments.add(rt.db, ap_id="https://x.test/c/1", url=None, post_id=post_ids[0], parent_id=None,
                       author_uri=rt.urls.actor("alice"), member_id=alice.id, domain="a2.test",
                       content_html="<p>c</p>", summary=None, published=now - 50)  # fmt: skip
    stats = (await account_stats.for_members(rt.db, [alice.id]))[alice.id]
    assert stats == account_stats.AccountStats(statuses=4, followers=2, following=0, last_status_at=now - 50)
    assert await comments.counts_for_posts(rt.db, post_ids) == {post_ids[0]: 1}
    newest = await posts.page_by_member(rt.db, alice.id, before=None, after=None, limit=2)
    assert [p.id for p in newest] == [post_ids[2], post_ids[1]]
    assert [p.id for p in await posts.page_by_member(rt.db, alice.id, before=now - 99, after=None, limit=5)] == [
        post_ids[0]
    ]
    mine = await comments.page_by_member(rt.db, alice.id, rt.urls, before=None, after=now - 60, limit=5)
    assert [c.ap_id for c in mine] == ["https://x.test/c/1"]
    instance = await account_stats.for_instance(rt.db)
    assert instance.members == 1 and instance.statuses == 4
