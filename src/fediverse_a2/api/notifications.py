"""A member's notifications as apps read them: list (types[], exclude_types[]), one, dismiss, clear.

The web's notifications, in Mastodon's types: a reply or mention is `mention` (with the comment
or note as its status), a like `favourite`, a boost `reblog`, `follow` and `follow_request`.
A note known only from its notification (a direct mention, a mention in a post nobody here
follows) is shown as a status of its own, with the text it carried; it can be opened and
answered like any (finder.py, status_views.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from ..models import Member
from ..notices import Notification
from ..runtime import Runtime
from ..store import markers
from ..store import notifications as store
from ..web.ids import parse_id
from . import entities
from .finder import NOTE_KINDS, StatusFinder
from .frame import ApiCall, ApiError, json
from .paging import Page, paged, paged_object
from .present import Presenter
from .status_views import Item, StatusViews, item_status_id

__all__ = ["NotificationPages"]

# Our kinds (notices.KINDS) -> Mastodon's types.
TYPES = {"reply": "mention", "mention": "mention", "like": "favourite", "boost": "reblog", "follow": "follow",
         "follow_request": "follow_request"}  # fmt: skip
_WITH_STATUS = ("reply", "mention", "like", "boost")


class NotificationPages:
    """Handlers of /api/v1/notifications…."""

    def __init__(self, rt: Runtime, accounts: Presenter, views: StatusViews, finder: StatusFinder) -> None:
        self.rt = rt
        self.accounts = accounts
        self.views = views
        self.finder = finder

    def _kinds(self, call: ApiCall) -> list[str]:
        wanted = set(call.params.strings("types"))
        unwanted = set(call.params.strings("exclude_types"))
        return [kind for kind, name in TYPES.items() if (not wanted or name in wanted) and name not in unwanted]

    async def _page(self, call: ApiCall) -> list[tuple[Notification, dict[str, Any]]]:
        """The page of notifications a request asks for, newest first, with their entities."""
        page = Page.of(call.params, default=40, maximum=80)
        found = await store.page_between(
            self.rt.db, call.member.id, self._kinds(call), below=page.max_id, above=page.lower, limit=page.limit,
            oldest_first=page.ascending,
        )  # fmt: skip
        found.sort(key=lambda n: n.id, reverse=True)
        return await self._entities(found, call.member)

    async def index(self, call: ApiCall) -> Response:
        """GET /api/v1/notifications: newest first, paged by notification id."""
        shown = await self._page(call)
        return paged(call, [entity for _, entity in shown], [n.id for n, _ in shown])

    async def grouped(self, call: ApiCall) -> Response:
        """GET /api/v2/notifications (Mastodon 4.3's grouped notifications): each notification a group of its own."""
        shown = await self._page(call)
        accounts: dict[str, Any] = {}
        statuses: dict[str, Any] = {}
        groups = []
        for _, entity in shown:
            accounts[entity["account"]["id"]] = entity["account"]
            status = entity.get("status")
            if status is not None:
                statuses[status["id"]] = status
            groups.append(entities.notification_group(entity, status["id"] if status is not None else None))
        body = {"accounts": list(accounts.values()), "statuses": list(statuses.values()), "notification_groups": groups}
        return paged_object(call, body, [n.id for n, _ in shown])

    async def unread_count(self, call: ApiCall) -> Response:
        """GET /api/v1/notifications/unread_count: how many came after the `notifications` marker (at most 1000)."""
        marked = await markers.for_member(self.rt.db, call.member.id, ("notifications",))
        last = marked[0].last_read_id if marked else "0"
        above = parse_id(last) or 0
        found = await store.page_between(self.rt.db, call.member.id, self._kinds(call), below=None, above=above,
                                         limit=1000)  # fmt: skip
        return json({"count": len(found)})

    async def _one(self, call: ApiCall) -> Notification:
        number = parse_id(str(call.path["id"]))
        found = await store.by_id(self.rt.db, call.member.id, number) if number is not None else None
        if found is None:
            raise ApiError(404, "Record not found")
        return found

    async def show(self, call: ApiCall) -> Response:
        """GET /api/v1/notifications/:id."""
        shown = await self._entities([await self._one(call)], call.member)
        if not shown:
            raise ApiError(404, "Record not found")
        return json(shown[0][1])

    async def dismiss(self, call: ApiCall) -> Response:
        """POST /api/v1/notifications/:id/dismiss."""
        await store.dismiss(self.rt.db, call.member.id, (await self._one(call)).id)
        return json({})

    async def clear(self, call: ApiCall) -> Response:
        """POST /api/v1/notifications/clear: every notification of the member goes."""
        await store.dismiss(self.rt.db, call.member.id)
        return json({})

    async def _entities(self, found: Sequence[Notification], member: Member) -> list[tuple[Notification, Any]]:
        """Each notification with its Notification entity; left out: those whose actor is not known here, and a
        like's or boost's of what is gone."""
        people = await self.accounts.accounts_by_uri([n.actor_uri for n in found])
        items: dict[int, Item] = {}
        for n in found:
            if n.kind in _WITH_STATUS:
                item = await self._status_of(n, member)
                if item is None and n.kind in NOTE_KINDS:
                    item = n  # a note known only from this notification
                if item is not None:
                    items[n.id] = item
        pairs = await self.views.pairs(list(items.values()), member)
        rendered = {item_status_id(item): status for item, status in pairs}
        out = []
        for n in found:
            account = people.get(n.actor_uri)
            status: dict[str, Any] | None = None
            if n.kind in _WITH_STATUS:
                item = items.get(n.id)
                status = rendered.get(item_status_id(item)) if item is not None else None
                if status is None:
                    continue
            if account is not None:
                out.append((n, entities.notification(str(n.id), TYPES[n.kind], n.created_at, account, status)))
        return out

    async def _status_of(self, n: Notification, member: Member) -> Item | None:
        """The comment, post or remote post a notification is about, when it is stored and the member may see it."""
        note = n.activity_id if n.kind in NOTE_KINDS else None
        for ap_id in dict.fromkeys(x for x in (note, n.object_url) if x):
            found = await self.finder.by_ap_id(ap_id, member)
            if found is not None:
                return found
        return None
