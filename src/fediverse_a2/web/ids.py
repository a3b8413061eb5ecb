"""Ids sent by clients, in paths and in forms: ASCII digits that fit a 64-bit integer, or no id at all.

`{post_id:id}` in a route matches 1 to 18 ASCII digits, so `/posts/99999999999999999999` is
simply not a route (404) instead of an integer the database cannot hold; `parse_id` does the
same for form fields and query values (`isdigit()` also admits `²` and other digits `int()`
refuses).
"""

from __future__ import annotations

from starlette.convertors import Convertor

__all__ = ["MAX_ID_DIGITS", "IdConvertor", "parse_id"]

MAX_ID_DIGITS = 18  # every 18-digit number fits a signed 64-bit integer


def parse_id(value: object) -> int | None:
    """The id a form field or query value names, or None when it is not 1-18 ASCII digits."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > MAX_ID_DIGITS:
        return None
    return int(value)


class IdConvertor(Convertor[int]):
    """The `id` path parameter type: 1 to 18 ASCII digits, as an int."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if value < 0:
            raise ValueError("an id is not negative")
        return str(value)
