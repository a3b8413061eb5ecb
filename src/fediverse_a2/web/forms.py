"""Reading text fields of a submitted form (the form itself comes from WebSecurity.form)."""

from __future__ import annotations

from starlette.datastructures import FormData

__all__ = ["field", "text_field"]


def text_field(form: FormData, name: str, limit: int) -> str:
    """A text field as sent, cut to `limit` ('' when absent or a file): for passwords and bodies."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def field(form: FormData, name: str, limit: int = 500) -> str:
    """A text field trimmed and cut to `limit` ('' when absent or a file): for names, ids, choices."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
