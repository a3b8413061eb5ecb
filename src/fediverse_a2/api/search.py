"""`GET /api/v2/search`: accounts, statuses and hashtags.

Accounts as `/api/v1/accounts/search` finds them; statuses from the full-text index (the
web's search: posts, and the public comments under them); hashtags of members' posts by the
start of their name. With `resolve=true` a member's query that is a handle or the address of
something on another server is looked up there, through the guarded client.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Member
from ..runtime import Runtime
from ..search_text import query_terms
from ..services.lookup import look_up_post
from ..services.posts import fold_tag
from ..store import comments, posts, search, tags
from .accounts import AccountPages
from .finder import StatusFinder
from .frame import ApiCall, ApiError, json
from .present import Account, Presenter
from .status_views import Item, StatusViews

__all__ = ["SearchPages"]

TYPES = ("accounts", "statuses", "hashtags")


class SearchPages:
    """The handler of /api/v2/search."""

    def __init__(
        self, rt: Runtime, directory: ActorDirectory, accounts: AccountPages, present: Presenter, views: StatusViews,
        finder: StatusFinder,
    ) -> None:  # fmt: skip
        self.rt = rt
        self.directory = directory
        self.accounts = accounts
        self.present = present
        self.views = views
        self.finder = finder

    async def search(self, call: ApiCall) -> Response:
        """GET /api/v2/search?q=…&type=…&resolve=…&limit=…&offset=…."""
        params = call.params
        query = (params.text("q", 500) or "").strip()
        kind = params.get("type")
        if kind is not None and kind not in TYPES:
            raise ApiError(422, "type must be accounts, statuses or hashtags")
        limit = min(max(params.integer("limit", 20) or 20, 1), 40)
        offset = max(params.integer("offset", 0) or 0, 0)
        viewer = call.viewer
        resolve = params.flag("resolve") and viewer is not None  # looking up elsewhere is for members
        found_accounts: list[Account] = []
        found_statuses: list[Item] = []
        found_tags: list[tuple[str, str]] = []
        if query.startswith(("http://", "https://")):
            if kind in (None, "statuses"):
                found_statuses = await self._status_at(query, viewer, resolve)
            if kind in (None, "accounts") and not found_statuses:
                found_accounts = await self._account_at(query, resolve)
        elif query:
            if kind in (None, "accounts"):
                found_accounts = await self.accounts.find(query, limit, resolve=resolve, offset=offset)
            if kind in (None, "statuses"):
                found_statuses = await self._statuses(query, limit, offset, viewer)
            if kind in (None, "hashtags"):
                found_tags = await tags.starting_with(self.rt.db, fold_tag(query.lstrip("#")), limit, offset)
        return json({
            "accounts": await self.present.accounts(found_accounts),
            "statuses": await self.views.render(found_statuses, viewer),
            "hashtags": [_hashtag(name, self.rt.urls.tag(norm)) for name, norm in found_tags],
        })  # fmt: skip

    async def _statuses(self, query: str, limit: int, offset: int, viewer: Member | None) -> list[Item]:
        hits = await search.search(self.rt.db, query_terms(query), self.rt.policy, limit, offset)
        by_post = {p.id: p for p in await posts.by_ids(self.rt.db, [h.post_id for h in hits if h.comment_id is None])}
        shown = await comments.viewable(self.rt.db, [h.comment_id for h in hits if h.comment_id is not None],
                                        self.rt.policy, self.rt.urls, viewer.id if viewer else None)  # fmt: skip
        out: list[Item] = []
        for hit in hits:
            item = by_post.get(hit.post_id) if hit.comment_id is None else shown.get(hit.comment_id)
            if item is not None:
                out.append(item)
        return out

    async def _status_at(self, url: str, viewer: Member | None, resolve: bool) -> list[Item]:
        """The status at an address: ours, one stored here, or (resolve) one fetched from its server."""
        found = await self.finder.by_ap_id(url, viewer)
        if found is None and resolve and not self.rt.urls.is_local(url):
            try:
                found = await look_up_post(self.rt, self.directory, url)
            except UserError:
                found = None
        return [found] if found is not None else []

    async def _account_at(self, url: str, resolve: bool) -> list[Account]:
        found = await self.present.by_uri(url)
        if found is None and resolve and not self.rt.urls.is_local(url):
            try:
                found = await self.directory.resolve(url)
            except UserError:
                found = None
        return [found] if found is not None else []


def _hashtag(name: str, url: str) -> dict[str, Any]:
    """A Tag entity."""
    return {"name": name, "url": url, "history": [], "following": False}
