"""PURE: what a page saved from the old site yields, and what of it is the site's chrome.

The chrome of a Ning page is everything the network put around the post: the network's name and
tagline, the menu, the comment form's heading ("Opmerking") and the join notice for visitors
("Je moet lid zijn van Ambtenaar 2.0 om reacties te kunnen toevoegen!", "Word lid van Ambtenaar
2.0"), the comment pager, and the footer ("© 2018 · Gemaakt door ... · Verzorgd door", "Banners |
Een probleem rapporteren? | Algemene voorwaarden"). `SiteChrome` holds the network's own words;
`AMBTENAAR20` is the old network's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AMBTENAAR20", "SavedComment", "SavedPage", "SiteChrome"]


@dataclass(frozen=True, slots=True)
class SavedComment:
    """A comment on a saved page: the commenter's full name, UTC epoch seconds, sanitised HTML."""

    author_name: str
    published: float
    body_html: str


@dataclass(frozen=True, slots=True)
class SavedPage:
    """A blog post as a page of the old site showed it; comments oldest first."""

    title: str
    author_name: str | None
    published: float | None
    body_html: str
    views: int | None
    comments: tuple[SavedComment, ...]
    old_url: str | None
    image_sources: tuple[str, ...] = ()  # every `<img src>` of the body as written (before sanitising)


# The footer starts with the copyright line, or is the short "Banners | Een probleem rapporteren? |
# Algemene voorwaarden" bar; the bare phrases alone could be in a post ("de algemene voorwaarden").
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright)\s*(?:\d{4}|ambtenaar)", re.IGNORECASE)
_FOOTER_BAR = re.compile(r"\|.*(?:een probleem rapporteren|algemene voorwaarden)|gemaakt door .* verzorgd door", re.I)
_FORM = ("opmerking", "reactie toevoegen", "reacties", "je moet lid zijn van ")
_PAGER = re.compile(r"^[\u2039\u00ab<]?\s*(?:vorige|volgende)\b.{0,40}$|^[\d\s\u2039\u203a\u00ab\u00bb<>|]+$", re.I)
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_OLD_POST_PATH = re.compile(r"/(?:profiles/blogs|forum/topics|xn/detail|group/[^/\s]+/forum/topics)/")


@dataclass(frozen=True, slots=True)
class SiteChrome:
    """The words of a network's page chrome, to be left out of what is imported."""

    network_name: str
    lines: frozenset[str]  # whole paragraphs that are chrome (compared case-folded, spaces collapsed)

    def _key(self, text: str) -> str:
        return " ".join(text.split()).casefold()

    def is_chrome(self, text: str) -> bool:
        """A paragraph of the header, menu, comment form or join notice."""
        key = self._key(text)
        if key in self.lines:
            return True
        name = self._key(self.network_name)
        return key.startswith("je moet lid zijn van ") or key in (f"word lid van {name}", f"welkom bij {name}")

    def is_form(self, text: str) -> bool:
        """The comment form or the join notice, where a post's body ends at the latest."""
        key = self._key(text)
        name = self._key(self.network_name)
        return key in _FORM[:3] or key.startswith(_FORM[3]) or key == f"word lid van {name}"

    def is_footer(self, text: str) -> bool:
        """The first paragraph of the page footer."""
        flat = " ".join(text.split())
        return bool(_COPYRIGHT.match(flat)) or (len(flat) <= 160 and bool(_FOOTER_BAR.search(flat)))

    def is_pager(self, text: str) -> bool:
        """A short "< Vorige 1 2 3 Volgende >" line of the comment pages (with angle quotes on the page)."""
        flat = " ".join(text.split())
        return len(flat) <= 60 and bool(_PAGER.match(flat))

    def find_old_url(self, text: str) -> str | None:
        """The address of the original post in a stretch of chrome text, if it shows one."""
        urls = [u.rstrip(".,;") for u in _URL.findall(text)]
        return next((u for u in urls if _OLD_POST_PATH.search(u)), None)


AMBTENAAR20 = SiteChrome(
    network_name="Ambtenaar 2.0",
    lines=frozenset(
        {
            "ambtenaar 2.0", "samen werken aan overheid 2.0", "opmerking", "reactie toevoegen", "reacties",
            "hoofdpagina", "mijn pagina", "leden", "blogs", "forum", "groepen", "evenementen", "foto's",
            "video's", "chat", "aanmelden", "inloggen", "uitloggen", "zoeken", "uitnodigen", "berichten",
            "instellingen", "alle blogberichten", "mijn blog", "mijn blogberichten", "blogbericht toevoegen",
            "toevoegen", "delen", "tweet", "facebook", "rss", "verwijderen", "beantwoorden", "reageren",
            "permalink", "bewerken", "bekijk blog", "bekijk blogs",
        }
    ),
)  # fmt: skip
