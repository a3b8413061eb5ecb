"""Errors that carry a message meant for a person (a CLI user or an admin)."""

from __future__ import annotations

__all__ = ["NotFound", "UserError"]


class UserError(Exception):
    """A request that cannot be carried out; str(exc) is a one-line explanation."""


class NotFound(UserError):
    """The named member, post or object does not exist."""
