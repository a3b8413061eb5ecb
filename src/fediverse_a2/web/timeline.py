"""The signed-in member's timeline: posts of the accounts they follow, to reply to, like and boost.

Everything works without JavaScript: each button is a small POST form with the CSRF token, and
answers with a redirect back to the same place on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..models import Member
from ..runtime import Runtime
from ..services.reactions_out import KINDS, react, unreact
from ..services.social import comment
from ..store import member_reactions
from ..store import remote_posts as remote_post_store
from ..store.remote_posts import TimelinePost
from .gate import member_of
from .pages import Pages
from .paging import Paging, parse_page
from .render import Renderer
from .security import WebSecurity

__all__ = ["TimelinePages"]

MAX_BODY = 20_000


@dataclass(frozen=True)
class Entry:
    """A timeline post with the member's own reactions to it."""

    post: TimelinePost
    liked: bool
    boosted: bool


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _back(page: int, post_id: int | None = None) -> str:
    query = f"?page={page}" if page > 1 else ""
    return f"/timeline{query}" + (f"#post-{post_id}" if post_id is not None else "")


class TimelinePages:
    """GET /timeline and /network, POST /timeline/react, GET/POST /timeline/reply?to=AP_ID."""

    def __init__(
        self, rt: Runtime, render: Renderer, security: WebSecurity, pages: Pages, directory: ActorDirectory
    ) -> None:
        self.rt = rt
        self.render = render
        self.security = security
        self.pages = pages
        self.directory = directory

    def _redirect(self, path: str) -> Response:
        return RedirectResponse(f"{self.rt.urls.base}{path}", status_code=303)

    async def timeline(self, request: Request) -> Response:
        """The posts of the accounts the member follows, newest first, paged."""
        member = member_of(request)
        paging = Paging.of(request, self.render.links)
        found = await remote_post_store.timeline_page(self.rt.db, member.id, paging.limit, paging.offset)
        paged = paging.cut(found)
        mine = await member_reactions.of_objects(self.rt.db, member.id, [p.ap_id for p in paged.items])
        entries = [Entry(p, ("Like", p.ap_id) in mine, ("Announce", p.ap_id) in mine) for p in paged.items]
        return await self.render.page(request, "timeline.html", entries=entries, page=paging.number, paged=paged)

    async def network(self, request: Request) -> Response:
        """The network timeline: public posts that relays brought from other government instances."""
        paging = Paging.of(request, self.render.links)
        found = await remote_post_store.network_page(self.rt.db, paging.limit, paging.offset)
        paged = paging.cut(found)
        entries = [Entry(p, False, False) for p in paged.items]
        return await self.render.page(
            request, "timeline.html", entries=entries, page=paging.number, paged=paged, network=True
        )

    async def react(self, request: Request) -> Response:
        """Like or boost a post (or, with undo=1, take that back)."""
        member = member_of(request)
        form = await self.security.form(request)
        kind = _text(form.get("kind"))
        object_id = _text(form.get("object"))
        page = parse_page(form.get("page"))
        if kind not in KINDS or not object_id:
            return await self.pages.error(request, 400)
        send = unreact if form.get("undo") == "1" else react
        try:
            await send(self.rt, self.directory, member.username, kind, object_id)
        except UserError as exc:
            return await self.pages.error(request, 400, exc.key or "refused_text")
        post = await remote_post_store.visible_to(self.rt.db, member.id, object_id)
        return self._redirect(_back(page, post.id if post else None))

    async def _visible(self, member: Member, ap_id: str) -> TimelinePost | None:
        return await remote_post_store.visible_to(self.rt.db, member.id, ap_id) if ap_id else None

    async def reply(self, request: Request) -> Response:
        """GET: the answer form for the timeline post `?to=` names; POST: send the answer to its author."""
        member = member_of(request)
        if request.method == "GET":
            post = await self._visible(member, request.query_params.get("to", ""))
            if post is None:
                return await self.pages.error(request, 404)
            return await self.render.page(request, "timeline_reply.html", post=post)
        form = await self.security.form(request)
        post = await self._visible(member, _text(form.get("to")))
        if post is None:
            return await self.pages.error(request, 404)
        text = _text(form.get("body"))
        try:
            await comment(self.rt, self.directory, member.username, post.ap_id, text[: MAX_BODY + 1])
        except UserError as exc:
            return await self.render.page(
                request, "timeline_reply.html", status=400, post=post,
                error=self.render.error_text(request, exc), body=text,
            )  # fmt: skip
        return self._redirect(_back(1, post.id))
