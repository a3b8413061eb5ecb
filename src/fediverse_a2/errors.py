"""Errors that carry a message meant for a person (a CLI user or an admin)."""

from __future__ import annotations

__all__ = ["NotFound", "UserError"]


class UserError(Exception):
    """A request that cannot be carried out; str(exc) is a one-line explanation.

    `key` names the interface text (see i18n) that says the same on a page, in the
    visitor's language, with `values` filled into its {placeholders}; without one, an English
    page shows the message itself and a Dutch page a general refusal (never English).
    """

    def __init__(self, message: str, *, key: str | None = None, values: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.values = values or {}


class NotFound(UserError):
    """The named member, post or object does not exist."""
