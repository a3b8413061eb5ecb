"""HTML pages: post with threaded comments, member profile, tag pages, error pages."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from ..i18n import translate
from ..models import Member, Post
from ..runtime import Runtime
from ..services.posts import fold_tag
from ..store import comments, follows, media, members, posts, tags
from .cards import post_cards
from .gate import viewer_of
from .open_graph import post_preview, profile_preview
from .paging import Paging
from .render import Renderer
from .threads import comment_texts, fill_texts, thread_order

__all__ = ["Pages", "is_person"]

# User agents of servers and crawlers that fetch HTML (link previews); their fetches
# are not views by people.
_BOT_MARKERS = (
    "bot", "crawl", "spider", "mastodon", "pleroma", "akkoma", "misskey", "gotosocial", "fedify",
    "http.rb", "python-httpx", "preview", "fetch", "lemmy", "friendica",
)  # fmt: skip


def is_person(request: Request) -> bool:
    """Whether a page view should count: a GET from something that is not a known bot."""
    agent = request.headers.get("user-agent", "").lower()
    return request.method == "GET" and bool(agent) and not any(m in agent for m in _BOT_MARKERS)


class Pages:
    """The reading side of the site."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    async def error(
        self, request: Request, status: int, text_key: str | None = None, detail: str | None = None
    ) -> Response:
        """An error page (403, 404, 410, ...) in the visitor's language."""
        lang = self.render.language(request)
        heading, text = {
            410: ("gone", "gone_text"),
            403: ("forbidden", "forbidden_text"),
            400: ("refused", "refused_text"),
            405: ("method_not_allowed", "method_not_allowed_text"),
        }.get(status, ("not_found", "not_found_text"))
        return await self.render.page(
            request, "error.html", status=status, heading=translate(lang, heading),
            text=translate(lang, text_key or text), detail=detail,
        )  # fmt: skip

    async def post(
        self, request: Request, post: Post, *, status: int = 200, comment_error: str = "", comment_body: str = ""
    ) -> Response:
        """A blog post with its comments; counts the view when a person asked. Drafts: their author only.

        A comment that was refused comes back in the form with why (`comment_error`, `comment_body`)."""
        me = viewer_of(request)
        if post.is_draft and (me is None or me.id != post.member_id):
            return await self.error(request, 404)
        if is_person(request) and not post.is_draft:
            await posts.increment_views(self.rt.db, post.id)
            post = replace(post, views=post.views + 1)
        db = self.rt.db
        items = await comments.list_for_post(db, post.id, self.rt.policy, self.rt.urls)
        lang = self.render.language(request)
        thread = thread_order(items)
        fill_texts(thread, lang, self.rt.tz)
        comment_text = comment_texts(lang)
        images = await media.for_post(db, post.id)
        avatar = (await members.avatars(db, [post.member_id])).get(post.member_id)
        preview = post_preview(self.rt.urls, post, images, avatar, comment_text["content_warning"])
        return await self.render.page(
            request, "post.html", status=status, post=post, post_url=self.rt.urls.post(post.id), thread=thread,
            comment_error=comment_error, comment_body=comment_body,
            comment_count=len(items), comment_text=comment_text, tags=await tags.for_post(db, post.id),
            images=images, mine=me is not None and me.id == post.member_id, author_avatar=avatar, preview=preview,
        )  # fmt: skip

    async def profile(self, request: Request, member: Member) -> Response:
        """A member's profile with their posts (and, for the member, their drafts)."""
        paging = Paging.of(request, self.render.links)
        found = await posts.recent(self.rt.db, paging.limit, paging.offset, member.id)
        paged = paging.cut(found)
        me = viewer_of(request)
        own = me is not None and me.id == member.id
        return await self.render.page(
            request, "profile.html", member=member, posts=paged.items, paged=paged, own=own,
            drafts=await posts.drafts(self.rt.db, member.id) if own else [],
            follower_count=await follows.count_followers(self.rt.db, member.id),
            following_count=await follows.count_following(self.rt.db, member.id),
            comments=await comments.recent_by_member(self.rt.db, member.id, paging.size) if paging.number == 1 else [],
            preview=profile_preview(self.rt.urls, member),
        )  # fmt: skip

    async def tag(self, request: Request) -> Response:
        """/tags/{tag}: the posts carrying a tag, newest first."""
        norm = fold_tag(request.path_params["tag"])[:60]
        paging = Paging.of(request, self.render.links)
        paged = paging.cut(await posts.live_ids(self.rt.db, paging.limit, paging.offset, tag=norm))
        items = await posts.by_ids(self.rt.db, paged.items)
        return await self.render.page(
            request, "tag.html", tag=norm, cards=await post_cards(self.rt, items), paged=paged
        )
