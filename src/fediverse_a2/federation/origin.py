"""PURE origin checks on an incoming activity, before anything is stored.

The activity was signed by `actor`; it may only create, change or undo things that live on
the actor's own host and are attributed to that actor (CVE-2024-23832 was exactly this
check missing). Returns a reason to refuse, or None.
"""

from __future__ import annotations

from typing import Any

from ..activitypub.parse import same_origin

__all__ = ["origin_problem"]

_ACTORS = frozenset({"Person", "Service", "Application", "Group", "Organization"})


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def origin_problem(doc: dict[str, Any], actor: str) -> str | None:
    """Why this activity may not come from `actor`, or None when its origins are consistent."""
    kind = doc.get("type")
    obj = doc.get("object")
    object_id = _id(obj)
    if kind in ("Create", "Update"):
        if isinstance(obj, dict):
            if object_id is None:
                return "object has no id"
            if not same_origin(object_id, actor):
                return "object id is not on the actor's host"
            if obj.get("type") in _ACTORS:
                if object_id != actor:
                    return "Update of another actor"
            else:
                attributed = _id(_first(obj.get("attributedTo")))
                if attributed != actor:
                    return "attributedTo is not the signing actor"
        elif object_id is not None and not same_origin(object_id, actor):
            return "object id is not on the actor's host"
    elif kind == "Delete":
        if object_id is None:
            return "Delete without an object id"
        if not same_origin(object_id, actor):
            return "Delete of an object on another host"
    elif kind == "Undo":
        if isinstance(obj, dict):
            inner_actor = _id(obj.get("actor"))
            if inner_actor is not None and inner_actor != actor:
                return "Undo of another actor's activity"
        if object_id is not None and not same_origin(object_id, actor):
            return "Undo of an activity on another host"
    return None
