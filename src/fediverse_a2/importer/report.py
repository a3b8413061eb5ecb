"""What an import did (or, in a dry run, would do): counts, unreadable records, the summary lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Summary"]

_MAX_LISTED = 20


@dataclass
class Summary:
    """Counters of one import run; `lines()` is the summary printed at the end."""

    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)  # members, authors, posts, drafts, comments, ...
    existing: Counter[str] = field(default_factory=Counter)  # already imported by an earlier run
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, record number, reason)
    warnings: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def skip(self, kind: str, number: int, reason: str) -> None:
        """A record that could not be read: reported by its number, and the import goes on."""
        self.unreadable.append((kind, number, reason))

    def lines(self) -> list[str]:
        """The summary, one fact a line."""
        verb = "would import" if self.dry_run else "imported"
        out = []
        kinds = ("members", "authors", "topic groups", "posts", "drafts", "comments", "images", "files", "redirects")
        for kind in kinds:
            new, old = self.created[kind], self.existing[kind]
            if new or old:
                out.append(f"{verb} {new} {kind}" + (f" ({old} already there)" if old else ""))
        if not out:
            out.append(f"{verb} nothing")
        if self.unreadable:
            out.append(f"skipped {len(self.unreadable)} unreadable records:")
            for kind, number, reason in self.unreadable[:_MAX_LISTED]:
                out.append(f"  {kind} record {number}: {reason}")
            if len(self.unreadable) > _MAX_LISTED:
                out.append(f"  ... and {len(self.unreadable) - _MAX_LISTED} more")
        for what, n in sorted(self.warnings.items()):
            out.append(f"note: {n} x {what}")
        out.append(f"took {self.seconds:.1f} s" + (" (dry run: nothing was changed)" if self.dry_run else ""))
        return out
