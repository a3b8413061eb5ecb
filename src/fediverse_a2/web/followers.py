"""A member's followers and the accounts they follow, on the web.

/followers: waiting follow requests (approve, reject) and the followers (remove).
/following: follow a remote account by `@user@host` or URL, and unfollow.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..httpclient import FetchError
from ..runtime import Runtime
from ..services.followers import approve_request, reject_request, remove_follower
from ..services.social import follow, unfollow
from ..store import follow_requests, follows
from .forms import field
from .gate import member_of
from .ids import parse_id
from .paging import Paging
from .render import Renderer
from .security import WebSecurity

__all__ = ["FollowPages"]


class FollowPages:
    """GET and POST /followers and /following, for the signed-in member."""

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
                elif action == "remove":
                    await remove_follower(self.rt, member, field(form, "actor"))
                else:
                    raise UserError("unknown action", key="refused_text")
                return RedirectResponse(f"{self.rt.urls.base}/followers", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
        paging = Paging.of(request, self.render.links)
        db = self.rt.db
        paged = paging.cut(await follows.follower_rows(db, member.id, paging.limit, paging.offset))
        return await self.render.page(
            request, "followers.html", status=400 if error else 200, error=error,
            requests=await follow_requests.for_member(db, member.id) if paging.number == 1 else [],
            followers=paged.items, paged=paged,
            total=await follows.count_followers(db, member.id),
        )  # fmt: skip

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
                elif action == "unfollow":
                    await unfollow(self.rt, self.directory, member.username, handle)
                else:
                    raise UserError("unknown action", key="refused_text")
                return RedirectResponse(f"{self.rt.urls.base}/following", status_code=303)
            except UserError as exc:
                error = self.render.error_text(request, exc)
            except FetchError:
                error = self.render.error_text(request, UserError("not found", key="interact_unknown"))
        paging = Paging.of(request, self.render.links)
        db = self.rt.db
        paged = paging.cut(await follows.following_rows(db, member.id, paging.limit, paging.offset))
        return await self.render.page(
            request, "following.html", status=400 if error else 200, error=error, handle=handle or "",
            following=paged.items, paged=paged,
            total=await follows.count_following(db, member.id),
        )  # fmt: skip
