"""PURE: inbound ActivityStreams JSON -> the small frozen dataclasses that handlers use.

Input is a plain dict in compact AS2 form (normalise JSON-LD first when a peer may send
anything else). The readers and limits shared by every parser are in `values`; notes and
actors have modules of their own, re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..hosts import same_origin
from .actor_docs import ActorKey, RemoteActor, find_key, parse_actor
from .notes import Attachment, RemoteNote, Tag, parse_note
from .values import (
    MAX_ATTACHMENTS,
    MAX_CONTENT,
    MAX_DESCRIPTION,
    MAX_IRI,
    MAX_KEYS,
    MAX_NAME,
    MAX_RECIPIENTS,
    MAX_SUMMARY,
    MAX_TAGS,
    PUBLIC,
    ParseError,
    actor_ref,
    audience,
    is_public,
    optional_id,
    ref,
    required_id,
    required_type,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_CONTENT",
    "MAX_DESCRIPTION",
    "MAX_IRI",
    "MAX_KEYS",
    "MAX_NAME",
    "MAX_RECIPIENTS",
    "MAX_SUMMARY",
    "MAX_TAGS",
    "PUBLIC",
    "Activity",
    "ActorKey",
    "Attachment",
    "ParseError",
    "RemoteActor",
    "RemoteNote",
    "Tag",
    "actor_of",
    "find_key",
    "is_public",
    "parse_activity",
    "parse_actor",
    "parse_note",
    "same_origin",
]


def actor_of(doc: dict[str, Any]) -> str | None:
    """The actor of an activity as every reader here takes it (a URL, an object, a one-item list)."""
    return actor_ref(doc.get("actor")) if isinstance(doc, dict) else None


@dataclass(frozen=True)
class Activity:
    id: str | None
    type: str
    actor: str
    object: str | dict[str, Any] | None  # the id, or the embedded object as sent
    object_id: str | None  # the object's id, embedded or not
    target: str | None
    to: tuple[str, ...]  # every Public spelling is given as PUBLIC
    cc: tuple[str, ...]
    raw: dict[str, Any]


def parse_activity(doc: dict[str, Any]) -> Activity:
    """An activity envelope. ParseError when type or actor is missing or ids are unusable."""
    if not isinstance(doc, dict):
        raise ParseError("activity is not a JSON object")
    ident = optional_id(doc.get("id"), "id")
    kind = required_type(doc)
    actor = actor_of(doc)
    if actor is None:
        raise ParseError("actor is missing or unusable")
    obj = doc.get("object")
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    object_id: str | None
    if isinstance(obj, str):
        object_id = required_id(obj, "object")
    elif isinstance(obj, dict):
        object_id = optional_id(obj.get("id"), "object id")
    elif obj is None:
        object_id = None
    else:
        raise ParseError("object is neither an id nor an object")
    return Activity(
        id=ident,
        type=kind,
        actor=actor,
        object=obj,
        object_id=object_id,
        target=ref(doc.get("target")),
        to=audience(doc.get("to")),
        cc=audience(doc.get("cc")),
        raw=doc,
    )
