"""Parameters of an API request, read once: the query, then the body, whatever its encoding.

Apps send JSON, forms and multipart forms, and some send a form with no Content-Type at all
(Ice Cubes). Everything becomes one list of (name, value) pairs in Rails' form style, as
Mastodon reads them: `{"types": ["a"]}` is `types[]=a`, `{"fields_attributes": [{"name": "x"}]}`
is `fields_attributes[0][name]=x`. Body values come after query values and win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..request_body import BodyError, read_body

__all__ = ["ParamError", "Params", "read_params"]

_INDEXED = re.compile(r"^([^\[\]]+)\[([^\[\]]*)\]\[([^\[\]]+)\]$")
_FALSE = frozenset({"0", "f", "false", "off", "no", "n"})
MAX_FIELDS = 200


class ParamError(Exception):
    """A body that cannot be read: (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], depth: int = 0) -> None:
    if depth > 6:
        raise ParamError(422, "the JSON body is nested too deeply")
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _flatten(f"{prefix}[{index}]", item, out, depth + 1)
            elif item is not None:
                out.append((f"{prefix}[]", _scalar(item)))
    else:
        out.append((prefix, _scalar(value)))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Params:
    """The request's parameters; files (multipart uploads) apart."""

    pairs: list[tuple[str, str]]
    files: dict[str, UploadFile] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """The last value given for a name (the body's over the query's)."""
        found = None
        for key, value in self.pairs:
            if key == name:
                found = value
        return found

    def text(self, name: str, limit: int) -> str | None:
        """A text parameter of at most `limit` characters (422 beyond)."""
        value = self.get(name)
        if value is not None and len(value) > limit:
            raise ParamError(422, f"{name} is too long (at most {limit} characters)")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean as Rails reads one: false, 0, off… are false; anything else given is true."""
        value = self.get(name)
        if value is None or value == "":
            return default
        return value.strip().lower() not in _FALSE

    def integer(self, name: str, default: int | None = None) -> int | None:
        """A whole number (422 when it is not one)."""
        value = self.get(name)
        if value is None or value == "":
            return default
        digits = value.strip().removeprefix("-")
        if not (digits.isascii() and digits.isdigit()) or len(value) > 30:
            raise ParamError(422, f"{name} must be a number")
        return int(value.strip())

    def given(self, name: str) -> bool:
        """Whether a parameter (or list parameter) was sent at all, even empty."""
        return any(key in (name, f"{name}[]") for key, _ in self.pairs)

    def strings(self, name: str) -> list[str]:
        """Every value of a list parameter (`name[]=a&name[]=b`, or `name` repeated)."""
        return [value for key, value in self.pairs if key in (name, f"{name}[]")]

    def indexed(self, name: str) -> list[dict[str, str]]:
        """A list of records (`name[0][key]=…`, or `name[][key]=…`), in the order of their indexes."""
        records: dict[str, dict[str, str]] = {}
        order: list[str] = []
        for key, value in self.pairs:
            match = _INDEXED.match(key)
            if match is None or match.group(1) != name:
                continue
            index = match.group(2) or str(len(order))
            if index not in records:
                records[index] = {}
                order.append(index)
            records[index][match.group(3)] = value
        numeric = all(i.isascii() and i.isdigit() for i in order)
        ordered = sorted(order, key=int) if numeric else order
        return [records[i] for i in ordered]

    def file(self, name: str) -> UploadFile | None:
        """An uploaded file."""
        return self.files.get(name)

    async def close(self) -> None:
        """Let spooled uploads go."""
        for upload in self.files.values():
            await upload.close()


async def _body(request: Request, limit: int) -> bytes:
    try:
        return await read_body(request, limit)
    except BodyError as exc:
        raise ParamError(exc.status, f"the request body: {exc.reason}") from None


def _json(body: bytes) -> list[tuple[str, str]]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ParamError(400, "the JSON body cannot be read") from None
    if not isinstance(data, dict):
        raise ParamError(400, "the JSON body must be an object")
    out: list[tuple[str, str]] = []
    _flatten("", data, out)
    return out


async def read_params(request: Request, limit: int, max_files: int = 0) -> Params:
    """The query's and the body's parameters; ParamError for a body too large or unreadable."""
    pairs = list(request.query_params.multi_items())
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return Params(pairs)
    body = await _body(request, limit)
    if not body:
        return Params(pairs)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or (not kind and body.lstrip()[:1] == b"{"):
        return Params(pairs + _json(body))
    if not kind:
        # Ice Cubes posts its form without a Content-Type: read it as the form it is.
        try:
            text = body.decode("utf-8")
            return Params(pairs + parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS))
        except (UnicodeDecodeError, ValueError):
            raise ParamError(400, "the form cannot be read") from None
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request._body = body  # starlette's form parser reads the cached body
        try:
            form = await request.form(max_files=max_files, max_fields=MAX_FIELDS, max_part_size=limit)
        except (HTTPException, ValueError, KeyError) as exc:
            raise ParamError(400, f"the form cannot be read: {getattr(exc, 'detail', None) or exc}") from None
        files: dict[str, UploadFile] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[key] = value
            else:
                pairs.append((key, value))
        return Params(pairs, files)
    raise ParamError(415, f"unsupported Content-Type {kind!r}")
