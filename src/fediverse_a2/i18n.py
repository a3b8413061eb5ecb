"""Interface text in Dutch (the default) and English, and choosing between them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["LANGUAGES", "choose_language", "format_date", "translate"]

LANGUAGES = ("nl", "en")

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "recent_posts": "Recente blogposts",
        "no_posts": "Er zijn nog geen blogposts.",
        "no_members_title": "Nog geen leden",
        "no_members": "Deze server heeft nog geen leden. Voeg er een toe met:",
        "then_post": "en publiceer een blogpost met:",
        "by": "door",
        "on": "op",
        "views": "Weergaven",
        "comments": "Reacties",
        "no_comments": "Nog geen reacties.",
        "comment_by": "Reactie van {name} op {date}",
        "reply_how_title": "Reageren",
        "reply_how": (
            "Reageer vanuit je eigen fediverse-account (bijvoorbeeld Mastodon): plak dit adres "
            "in het zoekveld van je app, open de blogpost en kies Beantwoorden."
        ),
        "follow_how": "Volg {name} vanuit Mastodon of een andere fediverse-app met:",
        "original": "origineel",
        "likes": "Favorieten",
        "boosts": "Boosts",
        "newer": "Nieuwer",
        "older": "Ouder",
        "page": "Pagina",
        "posts_by": "Blogposts van {name}",
        "not_found": "Niet gevonden",
        "not_found_text": "Deze pagina bestaat niet (meer).",
        "gone": "Verwijderd",
        "gone_text": "Deze blogpost is verwijderd.",
        "language": "Taal",
        "edited": "bewerkt",
        "feed": "Atom-feed",
        "members": "Leden",
        "content_warning": "Let op",
        "in_reply_to": "Antwoord op {name}",
    },
    "en": {
        "recent_posts": "Recent blog posts",
        "no_posts": "There are no blog posts yet.",
        "no_members_title": "No members yet",
        "no_members": "This server has no members yet. Add one with:",
        "then_post": "and publish a blog post with:",
        "by": "by",
        "on": "on",
        "views": "Views",
        "comments": "Comments",
        "no_comments": "No comments yet.",
        "comment_by": "Comment by {name} on {date}",
        "reply_how_title": "Reply",
        "reply_how": (
            "Reply from your own fediverse account (Mastodon, for example): paste this address "
            "into your app's search field, open the post and choose Reply."
        ),
        "follow_how": "Follow {name} from Mastodon or another fediverse app with:",
        "original": "original",
        "likes": "Favourites",
        "boosts": "Boosts",
        "newer": "Newer",
        "older": "Older",
        "page": "Page",
        "posts_by": "Blog posts by {name}",
        "not_found": "Not found",
        "not_found_text": "This page does not exist (any more).",
        "gone": "Deleted",
        "gone_text": "This blog post has been deleted.",
        "language": "Language",
        "edited": "edited",
        "feed": "Atom feed",
        "members": "Members",
        "content_warning": "Content warning",
        "in_reply_to": "In reply to {name}",
    },
}

_MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def translate(language: str, key: str, **values: str) -> str:
    """The text for key in language, with {placeholders} filled in."""
    text = _TEXT.get(language, _TEXT["nl"]).get(key) or _TEXT["en"][key]
    return text.format(**values) if values else text


def choose_language(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """?lang= wins, then the first supported Accept-Language entry by weight, then the default."""
    if query_lang in LANGUAGES:
        return query_lang
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, primary)
    return best[1] if best else default


def format_date(ts: float, language: str, tz: ZoneInfo) -> str:
    """A date as the old platform wrote it: '20 februari 2014 om 15.16'."""
    dt = datetime.fromtimestamp(ts, tz)
    month = _MONTHS.get(language, _MONTHS["nl"])[dt.month - 1]
    if language == "en":
        return f"{dt.day} {month} {dt.year} at {dt:%H:%M}"
    return f"{dt.day} {month} {dt.year} om {dt:%H.%M}"
