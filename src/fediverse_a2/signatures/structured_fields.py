"""RFC 8941 structured fields: just enough for Signature-Input, Signature and Content-Digest.

Parses Dictionaries (items and inner lists, with parameters) and serialises bare items and
inner lists, which RFC 9421 needs to rebuild `@signature-params` canonically. This runs on
every signed inbox POST, so each bare item or parameter is one precompiled regex match.

RFC 8941 says a repeated dictionary key or parameter "wins last". For signatures that is an
ambiguity two parsers can read differently, so `strict=True` refuses it (DuplicateError).
"""

from __future__ import annotations

import base64
import re

__all__ = [
    "Bare",
    "DuplicateError",
    "Item",
    "Member",
    "Params",
    "Token",
    "parse_dictionary",
    "serialize_bare",
    "serialize_inner_list",
]


class Token(str):
    """An RFC 8941 token: serialised bare, where a string is quoted."""

    __slots__ = ()


class DuplicateError(ValueError):
    """A dictionary key or a parameter given twice, refused in strict mode."""


Bare = bool | int | float | str | bytes
Params = dict[str, Bare]
Item = tuple[Bare, Params]
Member = tuple[Bare | list[Item], Params]

# One alternative per bare item type; the matching group number tells the type apart.
_BARE = (
    r'"((?:[ !#-\[\]-~]|\\[\\"])*)"'  # 1: string (printable ASCII, only \\ and \" escapes)
    r"|(-?[0-9]{1,15}(?:\.[0-9]{1,3})?)"  # 2: integer or decimal
    r"|([A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)"  # 3: token
    r"|:([A-Za-z0-9+/=]*):"  # 4: byte sequence
    r"|\?([01])"  # 5: boolean
)
_ITEM = re.compile(_BARE)
_PARAM = re.compile(r";[ ]*([a-z*][a-z0-9_\-.*]*)(?:=(?:" + _BARE + "))?")  # value groups are 2..6
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*(?=[^ \t])|[ \t]*\Z")  # no trailing comma
_UNESCAPE = re.compile(r"\\(.)")


def _convert(kind: int, text: str) -> Bare:
    if kind == 1:
        return _UNESCAPE.sub(r"\1", text) if "\\" in text else text
    if kind == 2:
        return float(text) if "." in text else int(text)
    if kind == 3:
        return Token(text)
    if kind == 4:
        return base64.b64decode(text, validate=True)  # binascii.Error is a ValueError
    return text == "1"


def _params(s: str, i: int, strict: bool) -> tuple[Params, int]:
    params: Params = {}
    while (m := _PARAM.match(s, i)) is not None:
        if strict and m[1] in params:
            raise DuplicateError(f"parameter {m[1][:40]!r} is repeated")
        last = m.lastindex or 1
        params[m[1]] = True if last == 1 else _convert(last - 1, m[last])
        i = m.end()
    return params, i


def _item(s: str, i: int, strict: bool) -> tuple[Item, int]:
    m = _ITEM.match(s, i)
    if m is None:
        raise ValueError(f"bad structured-field item at {i}")
    last = m.lastindex or 1
    value = _convert(last, m[last])
    params, i = _params(s, m.end(), strict)
    return (value, params), i


def _member(s: str, i: int, strict: bool) -> tuple[Member, int]:
    if not s.startswith("(", i):
        return _item(s, i, strict)
    items: list[Item] = []
    i += 1
    while True:
        while s.startswith(" ", i):
            i += 1
        if s.startswith(")", i):
            params, i = _params(s, i + 1, strict)
            return (items, params), i
        item, i = _item(s, i, strict)
        items.append(item)
        if not s.startswith((" ", ")"), i):
            raise ValueError(f"bad inner list at {i}")


def parse_dictionary(s: str, *, strict: bool = False) -> dict[str, Member]:
    """Parse a Dictionary field value; ValueError on anything malformed (DuplicateError on repeats if strict)."""
    out: dict[str, Member] = {}
    i, n = len(s) - len(s.lstrip(" ")), len(s)
    while i < n:
        m = _KEY.match(s, i)
        if m is None:
            raise ValueError(f"bad dictionary key at {i}")
        if strict and m[0] in out:
            raise DuplicateError(f"dictionary key {m[0][:40]!r} is repeated")
        if s.startswith("=", m.end()):
            out[m[0]], i = _member(s, m.end() + 1, strict)
        else:
            params, i = _params(s, m.end(), strict)
            out[m[0]] = (True, params)
        if (sep := _SEPARATOR.match(s, i)) is None:
            raise ValueError(f"expected ',' at {i}")
        i = sep.end()
    return out


def serialize_bare(v: Bare) -> str:
    """The canonical serialisation of a bare item."""
    if type(v) is str:  # the common case first; Token is a str subclass
        return '"' + (v.replace("\\", "\\\\").replace('"', '\\"') if "\\" in v or '"' in v else v) + '"'
    if isinstance(v, Token):
        return v
    if isinstance(v, bool):  # before int: bool is an int
        return "?1" if v else "?0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = f"{v:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(v, bytes):
        return ":" + base64.b64encode(v).decode("ascii") + ":"
    raise TypeError(f"not a structured-field bare item: {v!r}")


def _serialize_params(params: Params) -> str:
    return "".join(f";{k}" if v is True else f";{k}={serialize_bare(v)}" for k, v in params.items())


def serialize_inner_list(items: list[Item], params: Params) -> str:
    """The canonical serialisation of an inner list with its parameters."""
    inner = " ".join(serialize_bare(v) + _serialize_params(p) if p else serialize_bare(v) for v, p in items)
    return f"({inner}){_serialize_params(params)}"
