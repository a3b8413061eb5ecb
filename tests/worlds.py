"""The common test world: this service with members who can sign in, beside a Mastodon-shaped server.

Most web, API and browser tests need the same stage: a live instance (workers running), a member
or two with a password, and people on a remote Mastodon-shaped server, one of whom may already
follow the first member. `mastodon_world` builds it once for all of them; a test module's
`world` fixture only says who is on stage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fake_mastodon import FakeMastodon, received, running
from helpers import LiveServer, live_server
from webclient import member_with_password

__all__ = ["PASSWORD", "mastodon_world"]

PASSWORD = "correct horse battery"

# (username, display name) or (username, display name, role)
Person = tuple[str, str] | tuple[str, str, str]


@asynccontextmanager
async def mastodon_world(
    folder: Path,
    *,
    members: Sequence[Person] = (("alice", "Alice de Vries"),),
    remote: Sequence[tuple[str, str]] = (("carol", "Carol Mastodon"),),
    followed_by: str | None = None,
    database: str | None = None,
    run_workers: bool = True,
) -> AsyncIterator[tuple[LiveServer, FakeMastodon]]:
    """A live instance with `members` (password PASSWORD) and a fake Mastodon with `remote` users.

    With `followed_by`, that remote user follows the first member before the block starts, and
    the block starts only once the member's Accept has arrived.
    """
    async with live_server(folder / "a2", run_workers=run_workers, database=database) as a2:
        for username, name, *role in members:
            await member_with_password(a2, username, name, PASSWORD, role=role[0] if role else "member")
        fake = FakeMastodon()
        for username, name in remote:
            fake.add_user(username, name)
        async with running(fake):
            if followed_by is not None:
                follow = {
                    "id": f"{fake.base}/follows/1",
                    "type": "Follow",
                    "actor": fake.uri(followed_by),
                    "object": f"{a2.base_url}/users/{members[0][0]}",
                }
                answer = await fake.send(followed_by, f"{a2.base_url}/users/{members[0][0]}/inbox", follow)
                assert answer.status_code == 202, answer.text
                await received(fake, "Accept")
            yield a2, fake
