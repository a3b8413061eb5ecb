"""Two real instances on 127.0.0.1, driven by the CLI and real HTTP.

B's member follows A's member, A posts, B receives the post, B comments on it, A shows the
comment, A's member answers, B receives the answer, B deletes its comment, A no longer
shows it. Then the post is edited and deleted, and B follows along.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from helpers import AP, ServiceProcess, last_line, wait_for
from pg import DatabaseFactory

BROWSER = "text/html"


@pytest.fixture
async def pair(
    tmp_path: Path, database_factory: DatabaseFactory
) -> AsyncIterator[tuple[ServiceProcess, ServiceProcess]]:
    a = ServiceProcess(tmp_path / "a", database=await database_factory())
    b = ServiceProcess(tmp_path / "b", database=await database_factory())
    try:
        a.cli("member", "add", "alice", "--name", "Alice van A")
        b.cli("member", "add", "bob", "--name", "Bob van B")
        await a.start()
        await b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


async def _get(url: str, accept: str = AP) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url, headers={"Accept": accept, "User-Agent": "Mozilla/5.0"})


async def _followers(server: ServiceProcess, username: str) -> list[str]:
    r = await _get(f"{server.base_url}/users/{username}/followers?page=1")
    return r.json()["orderedItems"]


async def test_follow_post_comment_answer_delete(pair: tuple[ServiceProcess, ServiceProcess]) -> None:
    a, b = pair
    alice = f"{a.base_url}/users/alice"
    bob = f"{b.base_url}/users/bob"

    # B's member follows A's member, by handle (WebFinger) — and A accepts.
    b.cli("follow", "bob", f"@alice@{a.base_url.removeprefix('http://')}")

    async def followed() -> bool:
        return bob in await _followers(a, "alice")

    await wait_for(followed, what="A to record bob as follower")

    async def accepted() -> bool:
        r = await _get(f"{b.base_url}/users/bob/following?page=1")
        return alice in r.json()["orderedItems"]

    await wait_for(accepted, what="B to receive the Accept")

    # A posts; B receives it in bob's timeline.
    post_url = last_line(a.cli("post", "alice", "--title", "Netwerk gaat door", "--body", "Wat vinden jullie?"))

    async def in_timeline() -> bool:
        return post_url in b.cli("timeline", "bob").stdout

    await wait_for(in_timeline, what="the post in bob's timeline")

    # B comments on the post; A shows it as a comment.
    comment_url = last_line(b.cli("comment", "bob", post_url, "--body", "Goed *idee*, ik doe mee."))
    assert comment_url.startswith(f"{b.base_url}/notes/")

    async def commented() -> str | None:
        page = (await _get(post_url, BROWSER)).text
        return page if "Reactie van Bob van B op" in page else None

    page = await wait_for(commented, what="the comment on A's post page")
    assert "<em>idee</em>" in page
    assert comment_url in page  # link to the original
    note = (await _get(post_url)).json()
    assert note["replies"]["totalItems"] == 1
    assert note["replies"]["first"]["orderedItems"] == [comment_url]

    # A's member answers the comment; B receives the answer, which mentions bob.
    answer_url = last_line(a.cli("comment", "alice", comment_url, "--body", "Dank je, Bob!"))
    assert answer_url.startswith(f"{a.base_url}/comments/")

    async def answered() -> bool:
        return answer_url in b.cli("timeline", "bob").stdout

    await wait_for(answered, what="the answer at B")
    answer = (await _get(answer_url)).json()
    assert answer["inReplyTo"] == comment_url
    assert {"type": "Mention", "href": bob, "name": f"@bob@{b.base_url.removeprefix('http://')}"} in answer["tag"]
    page = (await _get(post_url, BROWSER)).text
    assert page.index("Reactie van Bob van B") < page.index("Reactie van Alice van A")

    # B deletes its comment; A no longer shows it (the answer stays, moved up a level).
    b.cli("delete", comment_url)

    async def removed() -> bool:
        return "Reactie van Bob van B" not in (await _get(post_url, BROWSER)).text

    await wait_for(removed, what="the comment to disappear at A")
    assert (await _get(comment_url)).status_code == 410

    # Edit and delete of the post reach B.
    a.cli("edit", post_url, "--body", "Bijgewerkte tekst")

    async def edited() -> bool:
        return "Bijgewerkte tekst" in b.cli("timeline", "bob").stdout

    await wait_for(edited, what="the Update at B")
    a.cli("delete", post_url)

    async def deleted() -> bool:
        return post_url not in b.cli("timeline", "bob").stdout

    await wait_for(deleted, what="the Delete at B")
    assert (await _get(post_url)).status_code == 410

    # Unfollow removes bob from alice's followers.
    b.cli("unfollow", "bob", alice)

    async def unfollowed() -> bool:
        return bob not in await _followers(a, "alice")

    await wait_for(unfollowed, what="the Undo{Follow} at A")
    queue = a.cli("queue").stdout
    assert "sent" in queue and "failed" not in queue.split("recent failures")[0]
