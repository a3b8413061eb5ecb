"""The scene the real-client tests play in: a member, alice, with a blog post that carol (on a
Mastodon-shaped server) commented on; carol follows alice and alice follows carol; carol posted
something that reached alice's home timeline. Each client then signs in and does what a member
does on a phone, and the tests check what reached carol's server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api_client import follows_member, member_follows, token_for
from fake_mastodon import FakeMastodon
from fediverse_a2.services.posts import Draft, save_post
from fediverse_a2.store import comments, members, remote_posts
from helpers import LiveServer, wait_for
from worlds import PASSWORD, mastodon_world

__all__ = ["PASSWORD", "Scene", "scene_world", "set_scene"]


@dataclass(frozen=True)
class Scene:
    blog_url: str  # alice's blog post
    remark: dict[str, Any]  # carol's comment on it (a Note)
    carols_post: dict[str, Any]  # carol's post in alice's home timeline (a Note)
    carol_handle: str


async def set_scene(a2: LiveServer, fake: FakeMastodon) -> Scene:
    """Alice's and carol's follows, alice's blog post with carol's comment, and carol's own post."""
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


@asynccontextmanager
async def scene_world(folder: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Scene]]:
    """The common world (alice here, carol on a Mastodon-shaped server) with the scene set."""
    async with mastodon_world(folder, remote=(("carol", "Carol"),)) as (a2, fake):
        yield a2, fake, await set_scene(a2, fake)
