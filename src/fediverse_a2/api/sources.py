"""Where timelines and account lists read their statuses: one `Source` per store, for `paging.gather`.

Each reads by publication time (see paging.py) and yields the items status_views.py presents.
"""

from __future__ import annotations

from ..runtime import Runtime
from ..store import comments, member_notes, posts, remote_posts
from .paging import Source
from .status_views import Item

__all__ = ["StatusSources"]

Bound = float | None


class StatusSources:
    """Sources of statuses, read by publication time."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def posts(self, *, member_id: int | None = None, tag: str | None = None, only_media: bool = False) -> Source[Item]:
        """Live posts: every member's, one member's, or those with a tag (its folded name)."""
        db = self.rt.db

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await posts.page(db, before=before, after=after, limit=size, only_media=only_media,
                                         oldest_first=oldest_first, member_id=member_id, tag=tag))  # fmt: skip

        return read

    def comments_of(self, member_id: int, *, shown_only: bool) -> Source[Item]:
        """A member's comments (`shown_only`: not their followers-only and direct ones)."""
        db, urls = self.rt.db, self.rt.urls

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await comments.page_by_member(
                db, member_id, urls, before=before, after=after, limit=size, oldest_first=oldest_first,
                shown_only=shown_only,
            ))  # fmt: skip

        return read

    def notes_of(self, member_id: int, *, shown_only: bool) -> Source[Item]:
        """A member's notes: replies to other servers, followers-only statuses."""
        db = self.rt.db

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await member_notes.page_by_member(
                db, member_id, before=before, after=after, limit=size, oldest_first=oldest_first, shown_only=shown_only
            ))  # fmt: skip

        return read

    def remote_by(self, actor_uri: str) -> Source[Item]:
        """An account's stored public posts."""
        db = self.rt.db

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await remote_posts.page_by_actor(db, actor_uri, before=before, after=after, limit=size,
                                                         oldest_first=oldest_first))  # fmt: skip

        return read

    def followed_by(self, member_id: int) -> Source[Item]:
        """Posts of the accounts a member follows (the web's /timeline)."""
        db = self.rt.db

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await remote_posts.home_page(db, member_id, before=before, after=after, limit=size,
                                                     oldest_first=oldest_first))  # fmt: skip

        return read

    def remote_public(self, *, only_media: bool = False) -> Source[Item]:
        """Every stored public post from other servers."""
        db = self.rt.db

        async def read(before: Bound, after: Bound, size: int, oldest_first: bool) -> list[Item]:
            return list(await remote_posts.public_page(db, before=before, after=after, limit=size,
                                                       oldest_first=oldest_first, only_media=only_media))  # fmt: skip

        return read
