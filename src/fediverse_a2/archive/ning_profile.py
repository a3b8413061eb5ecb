"""PURE: a member's profile answers (`profileQuestions`) and what of them the new server keeps.

Ning let a network ask its members questions when they joined; the archiver writes the answers as
`profileQuestions`, a map of question to answer (some exports: a list of `{question, answer}`;
an answer may be a list, for a multiple-choice question). The Discourse importer reads "About Me"
from it. Here:

- "About me" (in any case, Dutch or English: "Over mij", "Over jezelf", ...) becomes the summary;
- a question about the birth date or gender is not imported: the service does not need it (AVG
  art. 5(1)(c), data minimisation), and the import report says how many were left out;
- every other answer (organisation, function, region, ...) becomes a profile field named by its
  question, kept private until the member chooses to show it;
- the member's `location` and `country` become one more such field ("Plaats").

Answers and questions are HTML-unescaped text, trimmed; empty answers are no answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LOCATION_FIELD", "MAX_ANSWER", "MAX_QUESTION", "ProfileAnswers", "read_profile"]

MAX_QUESTION = 255
MAX_ANSWER = 2000  # "About me" may be long; a field's value is cut to the profile's limit later
LOCATION_FIELD = "Plaats"
_ABOUT = re.compile(r"^(about\s*me|about\s*you(rself)?|over\s*mij(zelf)?|over\s*jezelf|over\s*jou|bio(grafie)?)\W*$")
_NOT_NEEDED = re.compile(
    r"(birth|geboorte|verjaardag|jarig|\bage\b|leeftijd|gender|geslacht|\bsex\b|man\s*/\s*vrouw)", re.IGNORECASE
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ProfileAnswers:
    """What a member's profile answers become: a summary, private fields, and what was left out."""

    about: str  # "" when there is no About me answer (HTML as written)
    fields: tuple[tuple[str, str], ...]  # (question, answer), private until the member shows them
    left_out: tuple[str, ...]  # questions not imported (birth date, gender), for the report


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return _SPACE.sub(" ", html.unescape(str(value))).strip()


def _pairs(raw: Any) -> list[tuple[str, Any]]:
    if isinstance(raw, Mapping):
        return [(str(k), v) for k, v in raw.items()]
    if isinstance(raw, list):
        out: list[tuple[str, Any]] = []
        for item in raw:
            if isinstance(item, Mapping):
                question = item.get("question", item.get("name", item.get("label")))
                if isinstance(question, str):
                    out.append((question, item.get("answer", item.get("value"))))
        return out
    return []


def read_profile(data: Mapping[str, Any]) -> ProfileAnswers:
    """The profile answers of a member record (see the module docstring)."""
    about = ""
    fields: list[tuple[str, str]] = []
    left_out: list[str] = []
    seen: set[str] = set()
    for question, answer in _pairs(data.get("profileQuestions")):
        name = _text(question).rstrip(":?").strip()[:MAX_QUESTION]
        if not name:
            continue
        if _ABOUT.match(name.casefold()):
            if not about and isinstance(answer, str) and answer.strip():
                about = answer.strip()[:MAX_ANSWER]
            continue
        if _NOT_NEEDED.search(name):
            if _text(answer):
                left_out.append(name)
            continue
        value = _text(answer)[:MAX_ANSWER]
        if value and name.casefold() not in seen:
            seen.add(name.casefold())
            fields.append((name, value))
    if any(_text(data.get(k)) for k in ("birthdate", "birthDate", "birthday", "dateOfBirth")):
        left_out.append("birthdate")
    if _text(data.get("gender")):
        left_out.append("gender")
    place = ", ".join(t for t in (_text(data.get("location")), _text(data.get("country"))) if t)
    if place and LOCATION_FIELD.casefold() not in seen:
        fields.append((LOCATION_FIELD, place[:MAX_ANSWER]))
    return ProfileAnswers(about, tuple(fields), tuple(left_out))
