"""HTML pages: home, post with threaded comments, member profile, error pages."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from ..content import plain_text
from ..i18n import format_date, translate
from ..models import Comment, Member, Post
from ..runtime import Runtime
from ..store import comments, members, posts
from .render import Renderer

__all__ = ["MAX_DEPTH", "Pages", "ThreadEntry", "thread_order"]

PAGE_SIZE = 20

# User agents of servers and crawlers that fetch HTML (link previews); their fetches
# are not views by people.
_BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "mastodon",
    "pleroma",
    "akkoma",
    "misskey",
    "gotosocial",
    "fedify",
    "http.rb",
    "python-httpx",
    "preview",
    "fetch",
    "lemmy",
    "friendica",
)


# Replies deeper than this are shown at this indentation, each saying whom it answers:
# a thread thousands deep stays readable and the page stays flat enough to render.
MAX_DEPTH = 5

_NOTHING = Markup("")
_NEST = Markup('<ol class="comments">')


@dataclass(slots=True)
class ThreadEntry:
    """One comment in thread order, with what the template needs to place it."""

    comment: Comment
    depth: int  # the true depth: 0 for a comment on the post itself
    level: int  # the indentation shown: depth, capped at the nesting limit
    parent: Comment | None  # the comment answered, set only when flattened below the limit
    # The list tags between the previous comment and this one (see post.html): nothing before
    # the first, <ol> to nest an answer inside the previous item, else </li> and one </ol></li>
    # per level up. Fixed tags only, chosen here so the template tests one thing per comment.
    before: Markup
    head: str = ""  # "Reactie van NAAM op DATUM", filled in for the page's language
    reply_to: str = ""  # "Antwoord op NAAM" for a flattened comment, idem


def thread_order(items: list[Comment], max_depth: int = MAX_DEPTH) -> list[ThreadEntry]:
    """Comments in thread order (each followed by its answers, oldest first), walked with a stack.

    Every comment appears exactly once, whatever the parent_id graph: a comment whose parent is
    missing (hidden, deleted) starts a thread of its own, and so does one caught in a cycle.
    """
    by_id = {c.id: c for c in items}
    answers: dict[int, list[Comment]] = {}
    roots: list[Comment] = []
    for c in items:
        if c.parent_id is not None and c.parent_id in by_id and c.parent_id != c.id:
            answers.setdefault(c.parent_id, []).append(c)
        else:
            roots.append(c)
    entries: list[ThreadEntry] = []
    seen: set[int] = set()
    closes = [Markup("</li>" + "</ol></li>" * up) for up in range(max_depth + 1)]
    previous = -1  # the level of the entry before, -1 before the first
    # Roots first, then whatever a cycle kept out of reach of every root, in page order.
    for start in (*roots, *items):
        if start.id in seen:
            continue
        stack: list[tuple[Comment, int]] = [(start, 0)]
        while stack:
            c, depth = stack.pop()
            if c.id in seen:
                continue
            seen.add(c.id)
            level = min(depth, max_depth)
            parent = by_id.get(c.parent_id) if depth > max_depth and c.parent_id is not None else None
            before = _NOTHING if previous < 0 else _NEST if level > previous else closes[previous - level]
            entries.append(ThreadEntry(c, depth, level, parent, before))
            previous = level
            if kids := answers.get(c.id):
                stack.extend((a, depth + 1) for a in reversed(kids))
    return entries


def _fill_texts(entries: list[ThreadEntry], lang: str, tz: ZoneInfo) -> None:
    # The texts are looked up once and filled in per comment: this runs for every comment.
    comment_by, in_reply_to = translate(lang, "comment_by"), translate(lang, "in_reply_to")
    for entry in entries:
        c = entry.comment
        entry.head = comment_by.format(name=c.author.name, date=format_date(c.published, lang, tz))
        if entry.parent is not None:
            entry.reply_to = in_reply_to.format(name=entry.parent.author.name)


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
            request,
            "error.html",
            status=status,
            heading=translate(lang, heading),
            text=translate(lang, text),
        )

    async def home(self, request: Request) -> Response:
        """Recent posts, paged; instructions while there are no members."""
        page = _page_number(request)
        db = self.rt.db
        items = await posts.recent(db, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        member_count = await members.count(db)
        summaries = [_with_excerpt(p) for p in items[:PAGE_SIZE]]
        return self.render.page(
            request,
            "home.html",
            posts=summaries,
            page=page,
            has_next=len(items) > PAGE_SIZE,
            member_count=member_count,
        )

    async def post(self, request: Request, post: Post) -> Response:
        """A blog post with its comments; counts the view when a person asked."""
        if is_person(request):
            await posts.increment_views(self.rt.db, post.id)
            post = _bump_views(post)
        items = await comments.list_for_post(self.rt.db, post.id, self.rt.policy, self.rt.urls.host)
        lang = self.render.language(request)
        thread = thread_order(items)
        _fill_texts(thread, lang, self.rt.tz)
        comment_text = {key: translate(lang, key) for key in ("edited", "original", "content_warning")}
        return self.render.page(
            request,
            "post.html",
            post=post,
            post_url=self.rt.urls.post(post.id),
            thread=thread,
            comment_count=len(items),
            comment_text=comment_text,
        )

    async def profile(self, request: Request, member: Member) -> Response:
        """A member's profile with their posts."""
        page = _page_number(request)
        items = await posts.recent(self.rt.db, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE, member.id)
        return self.render.page(
            request,
            "profile.html",
            member=member,
            posts=items[:PAGE_SIZE],
            page=page,
            has_next=len(items) > PAGE_SIZE,
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
