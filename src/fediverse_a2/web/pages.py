"""HTML pages: home, post with threaded comments, member profile, error pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from ..content import plain_text
from ..i18n import format_date, translate
from ..models import Comment, Member, Post
from ..runtime import Runtime
from ..store import comments, members, posts
from .render import Renderer

__all__ = ["Pages", "build_thread"]

PAGE_SIZE = 20

# User agents of servers and crawlers that fetch HTML (link previews); their fetches
# are not views by people.
_BOT_MARKERS = (
    "bot", "crawl", "spider", "mastodon", "pleroma", "akkoma", "misskey", "gotosocial",
    "fedify", "http.rb", "python-httpx", "preview", "fetch", "lemmy", "friendica",
)


@dataclass
class ThreadNode:
    comment: Comment
    children: list[ThreadNode] = field(default_factory=list)
    head: str = ""  # "Reactie van NAAM op DATUM", filled in for the page's language


def build_thread(items: list[Comment]) -> list[ThreadNode]:
    """Nest comments under their parents, keeping the oldest-first order at every level."""
    nodes = {c.id: ThreadNode(c) for c in items}
    roots: list[ThreadNode] = []
    for c in items:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[c.id])
    return roots


def _fill_heads(nodes: list[ThreadNode], lang: str, tz: ZoneInfo) -> None:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        c = node.comment
        node.head = translate(lang, "comment_by", name=c.author.name, date=format_date(c.published, lang, tz))
        stack.extend(node.children)


def is_person(request: Request) -> bool:
    """Whether a page view should count: a GET from something that is not a known bot."""
    agent = request.headers.get("user-agent", "").lower()
    return request.method == "GET" and bool(agent) and not any(m in agent for m in _BOT_MARKERS)


def _page_number(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page", "1")), 10_000))
    except ValueError:
        return 1


class Pages:
    """The HTML side of the site."""

    def __init__(self, rt: Runtime, renderer: Renderer) -> None:
        self.rt = rt
        self.render = renderer

    def error(self, request: Request, status: int) -> Response:
        """A 404 or 410 page in the visitor's language."""
        lang = self.render.language(request)
        heading, text = ("gone", "gone_text") if status == 410 else ("not_found", "not_found_text")
        return self.render.page(
            request, "error.html", status=status,
            heading=translate(lang, heading), text=translate(lang, text),
        )

    async def home(self, request: Request) -> Response:
        """Recent posts, paged; instructions while there are no members."""
        page = _page_number(request)
        db = self.rt.db
        items = await posts.recent(db, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        member_count = await members.count(db)
        summaries = [_with_excerpt(p) for p in items[:PAGE_SIZE]]
        return self.render.page(
            request, "home.html", posts=summaries, page=page,
            has_next=len(items) > PAGE_SIZE, member_count=member_count,
        )

    async def post(self, request: Request, post: Post) -> Response:
        """A blog post with its comments; counts the view when a person asked."""
        if is_person(request):
            await posts.increment_views(self.rt.db, post.id)
            post = _bump_views(post)
        items = await comments.list_for_post(self.rt.db, post.id, self.rt.policy, self.rt.urls.host)
        lang = self.render.language(request)
        tree = build_thread(items)
        _fill_heads(tree, lang, self.rt.tz)
        comment_text = {key: translate(lang, key) for key in ("edited", "original", "content_warning")}
        return self.render.page(
            request, "post.html", post=post, post_url=self.rt.urls.post(post.id),
            comment_tree=tree, comment_count=len(items), comment_text=comment_text,
        )

    async def profile(self, request: Request, member: Member) -> Response:
        """A member's profile with their posts."""
        page = _page_number(request)
        items = await posts.recent(self.rt.db, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE, member.id)
        return self.render.page(
            request, "profile.html", member=member, posts=items[:PAGE_SIZE],
            page=page, has_next=len(items) > PAGE_SIZE,
        )


@dataclass(frozen=True)
class _Summary:
    id: int
    username: str
    author_name: str
    title: str
    published: float
    views: int
    excerpt: str


def _with_excerpt(post: Post) -> _Summary:
    text = plain_text(post.content_html)
    excerpt = text if len(text) <= 280 else text[:280].rsplit(" ", 1)[0] + " …"
    return _Summary(post.id, post.username, post.author_name, post.title, post.published, post.views, excerpt)


def _bump_views(post: Post) -> Post:
    from dataclasses import replace

    return replace(post, views=post.views + 1)
