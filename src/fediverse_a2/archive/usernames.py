"""PURE: stable, valid usernames (`[a-z0-9_]{1,30}`) for every member of a Ning export.

Ning's key for a member, `contributorName`, is usually a random-looking id (`3ixs6bzjxfkv6`), so
usernames come from the full name. The rule, applied to the whole member list at once:

1. The base is a slug of the full name: letters transliterated to ASCII (é -> e, ø -> o, ß -> ss,
   ł -> l ...), lower case, every run of other characters one `_`, no `_` at either end, at most
   24 characters. A full name that leaves nothing (only non-Latin script, only punctuation) uses
   the slug of the contributorName instead, and failing that `lid`.
2. A base that exactly one member has, and that is neither reserved (`admin`, `root`, `support`,
   ... and any name passed as already taken) is that member's username.
3. Every member whose base is shared, or reserved, gets `base_suffix`: the base cut so that the
   whole fits in 30 characters, `_`, and the first 4 characters of the base32 SHA-256 of their
   contributorName. Suffixed names never take a name of rule 2 (those are given out first); when
   two suffixed names still meet, or meet a name already given, the suffixes of those members grow
   by one character, and so on.

Nothing depends on the order of the list: rule 2 only asks how many members share a base, and
rule 3 depends on each member's own contributorName. The same archive always gives the same
usernames, and a member keeps theirs when other members are added, unless one of them shares
the base. A contributorName listed twice is one member (its smallest non-empty full name counts).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

__all__ = ["MAX_LENGTH", "RESERVED", "USERNAME", "assign_usernames", "base_username", "slugify"]

MAX_LENGTH = 30
USERNAME = re.compile(r"[a-z0-9_]{1,30}")
_BASE_MAX = 24
_SUFFIX_START = 4
RESERVED = frozenset(
    {
        "admin", "administrator", "root", "system", "support", "help", "info", "abuse", "postmaster",
        "webmaster", "hostmaster", "noreply", "no_reply", "security", "moderator", "staff", "api", "www",
        "mail", "actor", "instance", "relay", "inbox", "outbox", "nodeinfo", "static", "media", "about",
        "login", "logout", "signup", "settings", "users", "user", "lid", "leden", "beheer", "beheerder",
    }
)  # fmt: skip
# Letters NFKD does not take apart into an ASCII letter and accents.
_TRANSLIT = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
        "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "\u0131": "i", "ħ": "h", "Ħ": "h",
    }
)  # fmt: skip
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits, other runs as one `_`, trimmed (may be empty)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NOT_ALNUM.sub("_", ascii_text).strip("_")


def _cut(text: str, length: int) -> str:
    return text[:length].rstrip("_")


def base_username(contributor_name: str, full_name: str | None) -> str:
    """Rule 1: the base username of a member (before collisions are resolved)."""
    for source in (full_name or "", contributor_name):
        base = _cut(slugify(source), _BASE_MAX)
        if base:
            return base
    return "lid"


def _suffix(contributor_name: str) -> str:
    digest = hashlib.sha256(contributor_name.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")


def _suffixed(base: str, suffix: str, length: int) -> str:
    head = _cut(base, MAX_LENGTH - 1 - length)
    return f"{head}_{suffix[:length]}" if head else suffix[:length]


def assign_usernames(members: Iterable[tuple[str, str | None]], *, taken: Iterable[str] = ()) -> dict[str, str]:
    """Usernames for (contributorName, fullName) pairs, by contributorName; see the module docstring."""
    names: dict[str, str] = {}
    for contributor_name, full_name in members:
        key = contributor_name.strip()
        if not key:
            continue
        full = (full_name or "").strip()
        previous = names.get(key)
        if previous is None or (full and (not previous or full < previous)):
            names[key] = full
    blocked = RESERVED | {t.lower() for t in taken}
    bases = {key: base_username(key, full) for key, full in names.items()}
    sharing = Counter(bases.values())

    result: dict[str, str] = {}
    for key, base in bases.items():
        if sharing[base] == 1 and base not in blocked:
            result[key] = base
    used = set(blocked) | set(result.values())

    pending = sorted(key for key in names if key not in result)
    suffixes = {key: _suffix(key) for key in pending}
    length = _SUFFIX_START
    while pending:
        if length >= MAX_LENGTH:  # 26 more base32 characters of SHA-256 than ever needed
            raise RuntimeError("no free username left for " + ", ".join(pending[:3]))
        candidates = {key: _suffixed(bases[key], suffixes[key], length) for key in pending}
        count = Counter(candidates.values())
        left: list[str] = []
        for key in pending:
            name = candidates[key]
            if count[name] == 1 and name not in used:
                result[key] = name
                used.add(name)
            else:
                left.append(key)
        pending = left
        length += 1
    return result
