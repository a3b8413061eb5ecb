"""Comment threads in reading order, without recursion: a thread thousands deep renders like a flat one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup

from ..activitypub.build import iso
from ..comment_threads import walk
from ..i18n import format_date, translate
from ..models import Comment

__all__ = ["MAX_DEPTH", "ThreadEntry", "comment_texts", "fill_texts", "thread_order"]

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
    when: str = ""  # the comment's date for <time datetime>
    reply_href: str = ""  # the reply form for this comment: /reply?to=<its ActivityPub id>


def thread_order(items: list[Comment], max_depth: int = MAX_DEPTH) -> list[ThreadEntry]:
    """Comments in thread order (comment_threads.walk: each once, followed by its answers), placed
    for the page: indentation capped at `max_depth`, the list tags between one and the next."""
    by_id = {c.id: c for c in items}
    entries: list[ThreadEntry] = []
    closes = [Markup("</li>" + "</ol></li>" * up) for up in range(max_depth + 1)]
    previous = -1  # the level of the entry before, -1 before the first
    for c, depth in walk(items):
        level = min(depth, max_depth)
        parent = by_id.get(c.parent_id) if depth > max_depth and c.parent_id is not None else None
        before = _NOTHING if previous < 0 else _NEST if level > previous else closes[previous - level]
        entries.append(ThreadEntry(c, depth, level, parent, before))
        previous = level
    return entries


def comment_texts(lang: str) -> dict[str, str]:
    """The words every comment of a thread shows (looked up once per page, not per comment)."""
    keys = ("edited", "original", "content_warning", "permalink", "reply", "delete", "sensitive_media")
    return {key: translate(lang, key) for key in keys}


def fill_texts(entries: list[ThreadEntry], lang: str, tz: ZoneInfo) -> None:
    """Fill in each entry's texts in the page's language (looked up once, formatted per comment)."""
    # The texts are looked up once and filled in per comment: this runs for every comment.
    comment_by, in_reply_to = translate(lang, "comment_by"), translate(lang, "in_reply_to")
    for entry in entries:
        c = entry.comment
        entry.head = comment_by.format(name=c.author.name, date=format_date(c.published, lang, tz))
        entry.when = iso(c.published)
        entry.reply_href = "/reply?to=" + quote(c.ap_id, safe="")
        if entry.parent is not None:
            entry.reply_to = in_reply_to.format(name=entry.parent.author.name)
