"""RFC 8941 structured fields: just enough for Signature-Input, Signature and Content-Digest.

Parses Dictionaries (items and inner lists with parameters) and serialises bare items and
inner lists, which RFC 9421 needs to rebuild `@signature-params` canonically.
"""

from __future__ import annotations

import base64
import re

__all__ = ["Bare", "Item", "Member", "Params", "Token", "parse_dictionary", "serialize_bare", "serialize_inner_list"]


class Token(str):
    """An RFC 8941 token: serialised bare, where a string is quoted."""

    __slots__ = ()


Bare = bool | int | float | str | bytes
Params = dict[str, Bare]
Item = tuple[Bare, Params]
Member = tuple[Bare | list[Item], Params]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")
_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\[\\"])*)"')
_UNESCAPE = re.compile(r"\\(.)")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


def _skip(s: str, i: int, chars: str) -> int:
    while i < len(s) and s[i] in chars:
        i += 1
    return i


def _bare(s: str, i: int) -> tuple[Bare, int]:
    c = s[i : i + 1]
    if c == '"':
        if m := _STRING.match(s, i):
            return _UNESCAPE.sub(r"\1", m[1]), m.end()
    elif c == ":":
        if m := _BYTES.match(s, i):
            return base64.b64decode(m[1], validate=True), m.end()
    elif c == "?":
        if s[i + 1 : i + 2] in ("0", "1"):
            return s[i + 1] == "1", i + 2
    elif c == "-" or "0" <= c <= "9":
        if m := _NUMBER.match(s, i):
            return (float(m[0]) if "." in m[0] else int(m[0])), m.end()
    elif m := _TOKEN.match(s, i):
        return Token(m[0]), m.end()
    raise ValueError(f"bad structured-field item at {i}")


def _params(s: str, i: int) -> tuple[Params, int]:
    params: Params = {}
    while s.startswith(";", i):
        m = _KEY.match(s, _skip(s, i + 1, " "))
        if m is None:
            raise ValueError(f"bad parameter key at {i}")
        value: Bare = True
        i = m.end()
        if s.startswith("=", i):
            value, i = _bare(s, i + 1)
        params[m[0]] = value
    return params, i


def _member(s: str, i: int) -> tuple[Member, int]:
    if not s.startswith("(", i):
        value, i = _bare(s, i)
        params, i = _params(s, i)
        return (value, params), i
    items: list[Item] = []
    i += 1
    while True:
        i = _skip(s, i, " ")
        if s.startswith(")", i):
            params, i = _params(s, i + 1)
            return (items, params), i
        value, i = _bare(s, i)
        item_params, i = _params(s, i)
        items.append((value, item_params))
        if not s.startswith((" ", ")"), i):
            raise ValueError(f"bad inner list at {i}")


def parse_dictionary(s: str) -> dict[str, Member]:
    """Parse a Dictionary field value; raises ValueError on anything malformed."""
    out: dict[str, Member] = {}
    i, n = _skip(s, 0, " "), len(s)
    while i < n:
        m = _KEY.match(s, i)
        if m is None:
            raise ValueError(f"bad dictionary key at {i}")
        if s.startswith("=", m.end()):
            out[m[0]], i = _member(s, m.end() + 1)
        else:
            params, i = _params(s, m.end())
            out[m[0]] = (True, params)
        i = _skip(s, i, " \t")
        if i < n:
            if s[i] != ",":
                raise ValueError(f"expected ',' at {i}")
            i = _skip(s, i + 1, " \t")
            if i == n:
                raise ValueError("trailing comma")
    return out


def serialize_bare(v: Bare) -> str:
    """The canonical serialisation of a bare item."""
    if isinstance(v, bool):  # before int: bool is an int
        return "?1" if v else "?0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = f"{v:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(v, bytes):
        return ":" + base64.b64encode(v).decode("ascii") + ":"
    if isinstance(v, Token):
        return v
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_inner_list(items: list[Item], params: Params) -> str:
    """The canonical serialisation of an inner list with its parameters."""
    def ps(p: Params) -> str:
        return "".join(f";{k}" if v is True else f";{k}={serialize_bare(v)}" for k, v in p.items())

    return "(" + " ".join(serialize_bare(v) + ps(p) for v, p in items) + ")" + ps(params)
