"""URLs that are both ActivityPub objects and pages: actors, posts, comments, collections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..activitypub import build
from ..models import Member
from ..runtime import Runtime
from ..services.groups import page_url
from ..services.members import ensure_key
from ..services.posts import note_of
from ..store import activities, comments, follows, groups, members, posts, tombstones
from .negotiation import activity_response, wants_activity_json
from .pages import Pages
from .paging import parse_page

__all__ = ["Objects"]

COLLECTION_PAGE = 50
MAX_COLLECTION_PAGE = 1_000_000
FetchGuard = Callable[[Request], Awaitable[Response | None]]


def _page_param(request: Request) -> int | None:
    """The ?page=N of a collection request; None for the collection head."""
    raw = request.query_params.get("page")
    return None if raw is None else parse_page(raw, MAX_COLLECTION_PAGE)


class Objects:
    """Serves our ActivityPub documents, negotiating with HTML where a page exists.

    `guard` is called before any ActivityPub JSON is served; authorized fetch plugs in
    there and answers 401 for unsigned or refused requests.
    """

    def __init__(self, rt: Runtime, pages: Pages, guard: FetchGuard) -> None:
        self.rt = rt
        self.pages = pages
        self.guard = guard

    async def instance_actor(self, request: Request) -> Response:
        """The instance's Application actor: always open, so peers can verify our fetches."""
        doc = build.instance_actor(self.rt.urls, self.rt.config.instance.name, self.rt.instance_public_pem)
        return activity_response(doc)

    async def actor(self, request: Request) -> Response:
        """A member: Person JSON or the profile page."""
        member = await members.by_username(self.rt.db, request.path_params["username"])
        as_json = wants_activity_json(request)
        if member is None:
            return await self._missing(request, as_json, 404)
        if member.is_deleted:
            return await self._erased(request, as_json, member)
        is_group = await groups.by_id(self.rt.db, member.id) is not None
        if not as_json and is_group:
            return RedirectResponse(page_url(self.rt, member.username), status_code=303)
        if not as_json:
            return await self.pages.profile(request, member)
        if (refusal := await self.guard(request)) is not None:
            return refusal
        # Archive members get their key pair when they first need one: now.
        member = await ensure_key(self.rt, member)
        if is_group:
            return activity_response(build.group_actor(member, self.rt.urls, page_url(self.rt, member.username)))
        return activity_response(build.person(member, self.rt.urls))

    async def post(self, request: Request) -> Response:
        """A blog post: Note JSON or the post page; 410 with a Tombstone once deleted."""
        post = await posts.by_id(self.rt.db, request.path_params["post_id"])
        as_json = wants_activity_json(request)
        if post is None or (post.is_draft and as_json):
            return await self._missing(request, as_json, 404)
        if post.is_event:  # one URL per object: an event's is /events/ID
            return RedirectResponse(self.rt.urls.event(post.id), status_code=301)
        if post.deleted_at is not None:
            if as_json:
                return activity_response(build.tombstone(self.rt.urls.post(post.id), post.deleted_at), 410)
            return await self.pages.error(request, 410)
        if not as_json:
            return await self.pages.post(request, post)
        if (refusal := await self.guard(request)) is not None:
            return refusal
        total = await comments.count_visible(self.rt.db, post.id, self.rt.policy)
        first = await comments.ids_for_post(self.rt.db, post.id, self.rt.policy, COLLECTION_PAGE, 0)
        return activity_response(await note_of(self.rt, self.rt.db, post, total, first))

    async def replies(self, request: Request) -> Response:
        """The replies collection of a post or an event, paged."""
        post = await posts.by_id(self.rt.db, request.path_params["post_id"])
        if post is not None and post.is_event != request.url.path.startswith("/events/"):
            post = None  # /posts/ID/replies of an event, or the reverse
        if post is None or post.is_draft or post.deleted_at is not None:
            return await self._missing(request, True, 410 if post is not None and post.deleted_at else 404)
        if (refusal := await self.guard(request)) is not None:
            return refusal
        coll = self.rt.urls.replies_of(post)
        page = _page_param(request)
        if page is None:
            total = await comments.count_visible(self.rt.db, post.id, self.rt.policy)
            return activity_response(build.collection(coll, total))
        offset = (page - 1) * COLLECTION_PAGE
        ids = await comments.ids_for_post(self.rt.db, post.id, self.rt.policy, COLLECTION_PAGE + 1, offset)
        doc = build.collection_page(coll, page, ids[:COLLECTION_PAGE], len(ids) > COLLECTION_PAGE)
        return activity_response({"@context": build.AS_CONTEXT, **doc})

    async def comment(self, request: Request) -> Response:
        """A local member's comment as a Note; browsers go to its place under the post."""
        comment_id = request.path_params["comment_id"]
        comment = await comments.by_id(self.rt.db, comment_id, self.rt.urls)
        as_json = wants_activity_json(request)
        if comment is None and await comments.state_of(self.rt.db, comment_id) == comments.ERASED:
            return await self._gone(request, as_json, self.rt.urls.comment(comment_id))
        if comment is None or not comment.local:
            return await self._missing(request, as_json, 404)
        if await comments.state_of(self.rt.db, comment.id) != comments.VISIBLE:
            return await self._missing(request, as_json, 404)  # hidden by a moderator
        if not as_json:
            return RedirectResponse(self.rt.urls.comment_on_page(comment.post_id, comment.id), status_code=303)
        if (refusal := await self.guard(request)) is not None:
            return refusal
        return await self._sent_object(request, comment.ap_id)

    async def note(self, request: Request) -> Response:
        """A member's reply to a remote post, as we sent it."""
        if (refusal := await self.guard(request)) is not None:
            return refusal
        return await self._sent_object(request, f"{self.rt.urls.base}/notes/{request.path_params['token']}")

    async def _sent_object(self, request: Request, object_id: str) -> Response:
        """The latest version of an object we sent in a Create or Update; 410 once deleted."""
        sent = await activities.latest_version(self.rt.db, object_id)
        if sent is None and await tombstones.is_deleted(self.rt.db, object_id):
            return activity_response(build.tombstone(object_id), 410)  # its author's account was erased
        if sent is None or not sent.listed:
            # A followers-only or direct note reached its addressees in its Create; it is never served.
            return await self._missing(request, True, 404)
        if sent.type == "Delete":
            return activity_response(build.tombstone(object_id), 410)
        note = orjson.loads(sent.body)["object"]
        return activity_response({"@context": build.CONTEXT, **note})

    async def collection(self, request: Request) -> Response:
        """A member's outbox, followers or following collection, paged."""
        kind = request.url.path.rsplit("/", 1)[1]  # the routes: /users/NAME/outbox, followers, following
        member = await members.by_username(self.rt.db, request.path_params["username"])
        if member is None or kind not in ("outbox", "followers", "following"):
            return await self._missing(request, True, 404)
        if member.is_deleted:
            return await self._missing(request, True, 410)
        if (refusal := await self.guard(request)) is not None:
            return refusal
        db = self.rt.db
        coll = f"{self.rt.urls.actor(member.username)}/{kind}"
        page = _page_param(request)
        if page is None:
            counter = {
                "outbox": activities.count_for_member,
                "followers": follows.count_followers,
                "following": follows.count_following,
            }[kind]
            return activity_response(build.collection(coll, await counter(db, member.id)))
        offset = (page - 1) * COLLECTION_PAGE
        if kind == "outbox":
            bodies = await activities.for_member(db, member.id, COLLECTION_PAGE + 1, offset)
            items: list[Any] = [orjson.loads(body) for body in bodies]
            for item in items:
                item.pop("@context", None)
        elif kind == "followers":
            items = await follows.follower_page(db, member.id, COLLECTION_PAGE + 1, offset)
        else:
            items = await follows.following_page(db, member.id, COLLECTION_PAGE + 1, offset)
        doc = build.collection_page(coll, page, items[:COLLECTION_PAGE], len(items) > COLLECTION_PAGE)
        return activity_response({"@context": build.AS_CONTEXT, **doc})

    async def _erased(self, request: Request, as_json: bool, member: Member) -> Response:
        """An erased account's actor URL: 410, with a Tombstone for ActivityPub."""
        if as_json:
            deleted = await members.deleted_at(self.rt.db, member.id)
            return activity_response(build.actor_tombstone(self.rt.urls.actor(member.username), deleted), 410)
        return await self.pages.error(request, 410, "account_gone")

    async def _gone(self, request: Request, as_json: bool, object_id: str) -> Response:
        """A deleted object: 410, with a Tombstone for ActivityPub."""
        if as_json:
            return activity_response(build.tombstone(object_id), 410)
        return await self.pages.error(request, 410)

    async def _missing(self, request: Request, as_json: bool, status: int) -> Response:
        if as_json:
            return activity_response({"error": "not found" if status == 404 else "gone"}, status)
        return await self.pages.error(request, status)
