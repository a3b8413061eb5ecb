"""A member's followers and the accounts they follow, on the web.

/followers: waiting follow requests (approve, reject) and the followers (remove).
/following: follow a remote account by `@user@host` or URL, and unfollow.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..httpclient import FetchError
from ..runtime import Runtime
from ..services.followers import approve_request, reject_request, remove_follower
from ..services.social import follow, unfollow
from ..store import actors as actor_store
from ..store import follow_requests, follows
from .confirm import Ask, ask
from .forms import field
from .gate import member_of
from .ids import parse_id
from .paging import Paging
from .render import Renderer
from .security import WebSecurity

__all__ = ["FollowPages"]


class FollowPages:
    """GET and POST /followers and /following, for the signed-in member, and what they ask first:
    /followers/remove and /following/remove."""

    def __init__(self, rt: Runtime, render: Renderer, security: WebSecurity, directory: ActorDirectory) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.directory = directory

    async def followers(self, request: Request) -> Response:
        member = member_of(request)
        error = None
        if request.method == "POST":
            form = await self.security.form(request)
            action = field(form, "action", 20)
            try:
                if action in ("approve", "reject"):
                    request_id = parse_id(field(form, "request", 20))
                    if request_id is None:
                        raise UserError("no such follow request", key="no_follow_request")
                    decide = approve_request if action == "approve" else reject_request
                    await decide(self.rt, member, request_id)
                else:  # removing a follower is asked first: /followers/remove
                    raise UserError("unknown action", key="refused_text")
                return RedirectResponse(f"{self.rt.urls.base}/followers", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        return await self._followers_page(request, error)

    async def _followers_page(self, request: Request, error: str | None) -> Response:
        member = member_of(request)
        paging = Paging.of(request, self.render.links)
        db = self.rt.db
        paged = paging.cut(await follows.follower_rows(db, member.id, paging.limit, paging.offset))
        return await self.render.page(
            request, "followers.html", status=400 if error else 200, error=error,
            requests=await follow_requests.for_member(db, member.id) if paging.number == 1 else [],
            followers=paged.items, paged=paged,
            total=await follows.count_followers(db, member.id),
        )  # fmt: skip

    async def remove_follower(self, request: Request) -> Response:
        """GET ?actor=URI: asks first; POST: the follower is removed (a Reject{Follow} tells them)."""
        member = member_of(request)
        actor = await self._actor_named(request)
        if isinstance(actor, Response):
            return actor
        uri, name = actor
        if request.method == "GET":
            if await follows.follower_row(self.rt.db, member.id, uri) is None:
                return await self._followers_page(request, self.render.text(request, "not_a_follower"))
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("remove_follower_title", name=name), t("remove_follower_explain"), t("remove_follower_confirm"),
                "/followers", fields=(("actor", uri),),
            )  # fmt: skip
            return await ask(self.render, request, question)
        try:
            await remove_follower(self.rt, member, uri)
        except UserError as exc:
            return await self._followers_page(request, self.render.error_text(request, exc))
        return RedirectResponse(f"{self.rt.urls.base}/followers", status_code=303)

    async def unfollow(self, request: Request) -> Response:
        """GET ?actor=URI: asks first; POST: stops following (an Undo{Follow} goes to them)."""
        member = member_of(request)
        actor = await self._actor_named(request)
        if isinstance(actor, Response):
            return actor
        uri, name = actor
        if request.method == "GET":
            t = functools.partial(self.render.text, request)
            question = Ask(
                t("unfollow_title", name=name), t("unfollow_explain"), t("unfollow_confirm"), "/following",
                fields=(("actor", uri),),
            )  # fmt: skip
            return await ask(self.render, request, question)
        try:
            await unfollow(self.rt, self.directory, member.username, uri)
        except UserError as exc:
            return await self._following_page(request, self.render.error_text(request, exc), "")
        except FetchError:
            return await self._following_page(request, self.render.text(request, "interact_unknown"), "")
        return RedirectResponse(f"{self.rt.urls.base}/following", status_code=303)

    async def _actor_named(self, request: Request) -> tuple[str, str] | Response:
        """The actor the request names (`actor`: its URI, in the query or the form) and its name to show."""
        if request.method == "POST":
            form = await self.security.form(request)
            uri = field(form, "actor", 1000)
        else:
            uri = request.query_params.get("actor", "").strip()[:1000]
        if not uri:
            return await self._followers_page(request, self.render.text(request, "interact_bad_handle"))
        known = await actor_store.by_uri(self.rt.db, uri)
        return uri, (known.name or known.handle if known is not None else uri)

    async def following(self, request: Request) -> Response:
        member = member_of(request)
        error = handle = None
        if request.method == "POST":
            form = await self.security.form(request)
            action, handle = field(form, "action", 20), field(form, "handle", 300)
            try:
                if not handle:
                    raise UserError("give an address such as @name@server", key="interact_bad_handle")
                if action == "follow":
                    await follow(self.rt, self.directory, member.username, handle)
                else:  # unfollowing is asked first: /following/remove
                    raise UserError("unknown action", key="refused_text")
                return RedirectResponse(f"{self.rt.urls.base}/following", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
            except FetchError:
                error = self.render.error_text(request, UserError("not found", key="interact_unknown"))
        return await self._following_page(request, error, handle or "")

    async def _following_page(self, request: Request, error: str | None, handle: str) -> Response:
        member = member_of(request)
        paging = Paging.of(request, self.render.links)
        db = self.rt.db
        paged = paging.cut(await follows.following_rows(db, member.id, paging.limit, paging.offset))
        return await self.render.page(
            request, "following.html", status=400 if error else 200, error=error, handle=handle,
            following=paged.items, paged=paged,
            total=await follows.count_following(db, member.id),
        )  # fmt: skip
