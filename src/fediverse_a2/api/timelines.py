"""Timelines: home, public (local, remote) and a tag's.

* home: the posts of every member (the network's blog, what the front page lists), the posts of
  the accounts the member follows (the web's /timeline), and the member's own comments and notes;
* public: the members' posts; with them, for a member, the public posts from other servers that
  reached this instance (what members follow, what relays brought: the web's /network);
  `local=true` only the first, `remote=true` only the second;
* tag/:tag: the members' posts with that tag.

Comments are not timeline entries (they are in their post's `/context`), except one's own in home.
"""

from __future__ import annotations

from starlette.responses import Response

from ..runtime import Runtime
from ..services.posts import fold_tag
from .frame import ApiCall
from .paging import Page, Source, gather, paged
from .sources import StatusSources
from .status_views import Item, StatusViews, item_status_id

__all__ = ["TimelinePages"]


def _key(item: Item) -> int:
    return int(item_status_id(item))


class TimelinePages:
    """Handlers of /api/v1/timelines/…."""

    def __init__(self, rt: Runtime, views: StatusViews) -> None:
        self.rt = rt
        self.views = views
        self.sources = StatusSources(rt)

    async def _answer(self, call: ApiCall, sources: list[Source[Item]]) -> Response:
        chosen = await gather(Page.of(call.params), sources, _key) if sources else []
        statuses = await self.views.render(chosen, call.viewer)
        return paged(call, statuses, [int(s["id"]) for s in statuses])

    async def home(self, call: ApiCall) -> Response:
        """GET /api/v1/timelines/home."""
        member = call.member
        return await self._answer(call, [
            self.sources.posts(), self.sources.followed_by(member.id),
            self.sources.comments_of(member.id, shown_only=False), self.sources.notes_of(member.id, shown_only=False),
        ])  # fmt: skip

    async def public(self, call: ApiCall) -> Response:
        """GET /api/v1/timelines/public (local, remote, only_media)."""
        params = call.params
        only_media = params.flag("only_media")
        local, remote = params.flag("local"), params.flag("remote")
        sources: list[Source[Item]] = []
        if not remote:
            sources.append(self.sources.posts(only_media=only_media))
        # What other servers sent is shown to members, as the web's /network is.
        if not local and call.viewer is not None:
            sources.append(self.sources.remote_public(only_media=only_media))
        return await self._answer(call, sources)

    async def tag(self, call: ApiCall) -> Response:
        """GET /api/v1/timelines/tag/:hashtag: the members' posts with the tag (only_media)."""
        params = call.params
        if params.flag("remote"):
            return paged(call, [], [])  # remote posts' tags are not kept
        norm = fold_tag(str(call.path["hashtag"]).lstrip("#"))[:60]
        return await self._answer(call, [self.sources.posts(tag=norm, only_media=params.flag("only_media"))])
