"""Small helpers the command groups share."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UserError
from ..i18n import translate

__all__ = ["read_text_file", "say", "when"]


def say(args: argparse.Namespace, key: str, **values: str | int) -> None:
    """Print one interface text in the command line's language (`args.language`, see cli.main)."""
    print(translate(args.language, key, **values))


def when(ts: float | None) -> str:
    """A timestamp as `YYYY-MM-DD HH:MM` (UTC), or '-'."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def read_text_file(path_text: str, what: str = "file") -> str:
    """A UTF-8 text file's content; UserError with one line when it cannot be read."""
    path = Path(path_text)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {what} {path}: {exc}") from None
