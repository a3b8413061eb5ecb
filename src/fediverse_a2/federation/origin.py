"""PURE origin checks on an incoming activity, before anything is stored.

The activity was signed by `actor`; it may only create, change or undo things that live on
the actor's own host and are attributed to that actor (CVE-2024-23832 was exactly this
check missing). Returns a reason to refuse, or None.

Every form AS2 allows is checked, read the way `activitypub.parse` reads it: a `type` may
be a list (its first entry counts), `object` may be a list (every entry is checked, not
only the first one the worker uses), and `attributedTo` may be a list (every entry must be
the actor). Run this on the JSON-LD-normalised document (`jsonld.normalise`), which is what
the inbox worker parses.
"""

from __future__ import annotations

from typing import Any

from ..hosts import same_origin

__all__ = ["object_ids", "origin_problem", "type_of"]

_ACTORS = frozenset({"Person", "Service", "Application", "Group", "Organization"})
MAX_OBJECTS = 100


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def type_of(value: Any) -> str | None:
    """The type as the parser takes it: a string, or the first string of a list."""
    for item in _items(value)[:16]:
        if isinstance(item, str):
            return item
    return None


def object_ids(doc: dict[str, Any]) -> list[str]:
    """The ids of the activity's object(s), embedded or not."""
    return [i for i in (_id(o) for o in _items(doc.get("object"))[:MAX_OBJECTS]) if i is not None]


def _object_problem(kind: str, obj: Any, actor: str) -> str | None:
    object_id = _id(obj)
    if kind in ("Create", "Update"):
        if isinstance(obj, dict):
            if object_id is None:
                return "object has no id"
            if not same_origin(object_id, actor):
                return "object id is not on the actor's host"
            if type_of(obj.get("type")) in _ACTORS:
                if object_id != actor:
                    return "Update of another actor"
            else:
                # No attributedTo at all (or null): the object is the signing actor's (as parse reads it).
                authors = [_id(a) for a in _items(obj.get("attributedTo"))[:MAX_OBJECTS]]
                if any(a != actor for a in authors) or (obj.get("attributedTo") is not None and not authors):
                    return "attributedTo is not the signing actor"
        elif object_id is not None and not same_origin(object_id, actor):
            return "object id is not on the actor's host"
        elif object_id is None:
            return "object is neither an id nor an object"
    elif kind == "Delete":
        if object_id is None:
            return "Delete without an object id"
        if not same_origin(object_id, actor):
            return "Delete of an object on another host"
    elif kind == "Undo":
        if isinstance(obj, dict):
            inner_actors = [_id(a) for a in _items(obj.get("actor"))[:MAX_OBJECTS]]
            if any(a != actor for a in inner_actors):
                return "Undo of another actor's activity"
        if object_id is not None and not same_origin(object_id, actor):
            return "Undo of an activity on another host"
    elif kind == "Move" and object_id != actor:
        # FEP-7628: an account moves itself only (actor and object are the old account).
        return "Move of an account other than its actor"
    return None


def origin_problem(doc: dict[str, Any], actor: str) -> str | None:
    """Why this activity may not come from `actor`, or None when its origins are consistent."""
    kind = type_of(doc.get("type"))
    if kind not in ("Create", "Update", "Delete", "Undo", "Move"):
        return None
    if kind == "Move":
        target = _items(doc.get("target"))
        if len(target) != 1 or _id(target[0]) is None or _id(target[0]) == actor:
            return "Move needs one target other than its actor"
    objects = _items(doc.get("object"))
    if len(objects) > MAX_OBJECTS:
        return "too many objects"
    if not objects:
        return f"{kind} without an object"
    for obj in objects:
        if (problem := _object_problem(kind, obj, actor)) is not None:
            return problem
    return None
