"""The scene the real-client tests play in: a member, alice, with a blog post that carol (on a
Mastodon-shaped server) commented on; carol follows alice and alice follows carol; carol posted
something that reached alice's home timeline. Each client then signs in and does what a member
does on a phone, and the tests check what reached carol's server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api_client import follows_member, member_follows, token_for
from fake_mastodon import FakeMastodon
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.store import comments, members, remote_posts
from helpers import LiveServer, wait_for
from webclient import member_with_password

__all__ = ["PASSWORD", "Scene", "arrived", "set_scene"]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Scene:
    blog_url: str  # alice's blog post
    remark: dict[str, Any]  # carol's comment on it (a Note)
    carols_post: dict[str, Any]  # carol's post in alice's home timeline (a Note)
    carol_handle: str


async def set_scene(a2: LiveServer, fake: FakeMastodon) -> Scene:
    """Alice, carol, their follows, alice's blog post with carol's comment, and carol's own post."""
    await member_with_password(a2, "alice", "Alice de Vries", PASSWORD)
    fake.add_user("carol", "Carol")
    await follows_member(a2, fake, "carol", "alice")
    await member_follows(a2, fake, "carol", await token_for(a2.base_url, "alice", PASSWORD))
    alice = await members.by_username(a2.rt.db, "alice")
    assert alice is not None
    post = await save_post(a2.rt, alice, Draft("Thuiswerken", "Hoe doen jullie dat?"), publish=True)
    blog_url = a2.rt.urls.post(post.id)
    remark = fake.note("carol", "<p>Met een goede stoel!</p>", blog_url)
    carols_post = fake.note("carol", "<p>Goedemorgen, ambtenaren!</p>", None)
    for note in (remark, carols_post):
        assert (await fake.send("carol", a2.rt.urls.inbox("alice"), fake.create("carol", note))).status_code == 202

    async def stored() -> bool:
        return (
            await comments.by_ap_id(a2.rt.db, remark["id"]) is not None
            and await remote_posts.by_ap_id(a2.rt.db, carols_post["id"]) is not None
        )

    await wait_for(stored, what="carol's comment and post stored")
    return Scene(blog_url, remark, carols_post, f"carol@{fake.base.removeprefix('http://')}")


async def arrived(fake: FakeMastodon, kind: str, object_id: str) -> dict[str, Any]:
    """The activity of a kind about an object (embedded or named) that reached carol's server."""

    async def found() -> dict[str, Any] | None:
        for activity in fake.received_of(kind):
            obj = activity["object"]
            if (obj.get("id") if isinstance(obj, dict) else obj) == object_id:
                return activity
        return None

    return await wait_for(found, what=f"a {kind} of {object_id} at carol's server")
