"""Errors that carry a message meant for a person (a CLI user or an admin)."""

from __future__ import annotations

__all__ = ["NotFound", "UserError"]


class UserError(Exception):
    """A request that cannot be carried out; str(exc) is a one-line explanation.

    `key` names the interface text (see i18n) that says the same on a page, in the
    visitor's language; without one, pages show the message itself.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class NotFound(UserError):
    """The named member, post or object does not exist."""
