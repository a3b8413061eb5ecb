"""PURE: the client API's ids, as strings of digits (apps compare and sort them as numbers).

Accounts: a member's id is their own row id; a remote account's is `REMOTE_BASE` plus its row
in `remote_account_ids`, which keeps one number per actor URI for good.

Statuses come from several tables (posts, comments, remote posts, members' notes), and a
notification may carry a status known only from it, so an id packs where a status lives and
when it was published, newest highest as Mastodon's own ids are:
`(published second << 32) | (kind << 29) | row id`. Sorting by id sorts by time, a timeline
pages by id across tables, and an id always names exactly one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "REMOTE_BASE",
    "AccountRef",
    "StatusKind",
    "StatusRef",
    "member_account_id",
    "parse_account_id",
    "parse_status_id",
    "remote_account_id",
    "status_id",
]

REMOTE_BASE = 10**12  # member row ids stay far below
_ROW_BITS = 29
_ROW_MASK = (1 << _ROW_BITS) - 1
_MAX_ID = (1 << 63) - 1


class StatusKind(IntEnum):
    """Which table a status lives in."""

    POST = 0
    COMMENT = 1
    REMOTE = 2
    NOTE = 3  # a member's note (store/member_notes.py)
    NOTICE = 4  # a note known only from the notification that told of it


@dataclass(frozen=True)
class AccountRef:
    """A member (member_id) or a remote account (remote_id, a row of remote_account_ids)."""

    member_id: int | None = None
    remote_id: int | None = None


@dataclass(frozen=True)
class StatusRef:
    kind: StatusKind
    row_id: int
    second: int  # published, whole seconds: only for ordering


def member_account_id(member_id: int) -> str:
    """The account id of a member."""
    return str(member_id)


def remote_account_id(remote_id: int) -> str:
    """The account id of a remote actor, from its row in remote_account_ids."""
    return str(REMOTE_BASE + remote_id)


def _number(value: str) -> int | None:
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= _MAX_ID else None


def parse_account_id(value: str) -> AccountRef | None:
    """What an account id names, or None for something that is not one of ours."""
    number = _number(value)
    if number is None:
        return None
    return AccountRef(member_id=number) if number < REMOTE_BASE else AccountRef(remote_id=number - REMOTE_BASE)


def status_id(kind: StatusKind, row_id: int, published: float) -> str:
    """The id of a status: time-ordered, and naming its table and row."""
    if not 0 < row_id <= _ROW_MASK:
        raise ValueError(f"row id {row_id} out of range")
    second = min(max(int(published), 0), (1 << 31) - 1)
    return str((second << 32) | (int(kind) << _ROW_BITS) | row_id)


def parse_status_id(value: str) -> StatusRef | None:
    """What a status id names, or None for something that is not one of ours."""
    number = _number(value)
    if number is None:
        return None
    kind = (number >> _ROW_BITS) & 0b111
    row_id = number & _ROW_MASK
    if kind > max(StatusKind) or row_id == 0:
        return None
    return StatusRef(StatusKind(kind), row_id, number >> 32)
