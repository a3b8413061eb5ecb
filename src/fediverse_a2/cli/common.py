"""Small helpers the command groups share."""

from __future__ import annotations

import argparse
import errno
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UserError
from ..i18n import translate

__all__ = ["os_message", "os_reason", "read_text_file", "say", "when"]


def say(args: argparse.Namespace, key: str, **values: str | int) -> None:
    """Print one interface text in the command line's language (`args.language`, see cli.main)."""
    print(translate(args.language, key, **values))


def when(ts: float | None) -> str:
    """A timestamp as `YYYY-MM-DD HH:MM` (UTC), or '-'."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


# Operating system errors the command line meets (a file, a folder, a port), in the catalogs.
_OS_ERRORS = {
    errno.ENOENT: "cli_os_not_found",
    errno.EACCES: "cli_os_no_permission",
    errno.EPERM: "cli_os_no_permission",
    errno.EEXIST: "cli_os_exists",
    errno.EISDIR: "cli_os_is_a_folder",
    errno.ENOTDIR: "cli_os_not_a_folder",
    errno.ENOSPC: "cli_os_disk_full",
    errno.EROFS: "cli_os_read_only",
    errno.EADDRINUSE: "cli_os_address_in_use",
}


def os_reason(exc: OSError, language: str) -> str:
    """What an operating system error says, in the language where the catalogs know it."""
    key = _OS_ERRORS.get(exc.errno or 0)
    if language == "en" or key is None:
        return exc.strerror or str(exc)
    return translate(language, key)


def os_message(exc: OSError, language: str) -> str:
    """An operating system error in one line: what went wrong and where."""
    if exc.filename:
        return translate(language, "cli_os_error", reason=os_reason(exc, language), file=str(exc.filename))
    if language == "en" or exc.errno not in _OS_ERRORS:
        return str(exc)
    return os_reason(exc, language)


# What read_text_file reads: the keys of "not found" and "cannot read" for it.
_READ_TEXTS = {
    "file": ("cli_file_not_found", "cli_file_unreadable"),
    "body file": ("cli_body_file_not_found", "cli_body_file_unreadable"),
}


def read_text_file(path_text: str, language: str, what: str = "file") -> str:
    """A UTF-8 text file's content; UserError with one line when it cannot be read.

    `what` is "file" or "body file": how the message names it.
    """
    path = Path(path_text)
    not_found, unreadable = _READ_TEXTS[what]
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}", key=not_found, values={"file": str(path)}) from None
    except UnicodeDecodeError as exc:
        reason = translate(language, "cli_not_utf8")
        raise UserError(
            f"cannot read {what} {path}: {exc}", key=unreadable, values={"file": str(path), "reason": reason}
        ) from None
    except OSError as exc:
        values = {"file": str(path), "reason": os_reason(exc, language)}
        raise UserError(f"cannot read {what} {path}: {exc}", key=unreadable, values=values) from None
