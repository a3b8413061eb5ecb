"""What an import did (or, in a dry run, would do): what it wrote, and the report per kind of content.

Two views of one run:

- `created` / `existing`: the rows written (members, authors, posts, drafts, comments, images,
  redirects, ...), and those an earlier run had written already;
- the report (`tally`): per kind of content of the archive (members, posts, comments, groups,
  discussions, events, photos, videos, pages, files, ...), how many were found, imported, already
  there, and skipped, each skip with its reason. For every kind, found = imported + already there +
  skipped: nothing is dropped without a line saying so. `csv_rows()` is what `--report FILE` writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..i18n import translate

__all__ = ["CSV_HEADER", "REPORT_KINDS", "Summary", "Tally", "kind_name"]

_MAX_LISTED = 20
# The report's kinds, in its order (a kind the archive does not have is left out).
REPORT_KINDS = (
    "members", "posts", "comments", "groups", "discussions", "events", "answers", "albums", "photos", "videos",
    "music", "pages", "files",
)  # fmt: skip
CSV_HEADER = ("kind", "outcome", "count", "reason")
# The kinds' names in the catalogs (the CSV report keeps the English names, as data).
_KIND_KEYS = {
    "albums": "cli_import_kind_albums",
    "answers": "cli_import_kind_answers",
    "authors": "cli_import_kind_authors",
    "blogs": "cli_import_kind_blogs",
    "comments": "cli_import_kind_comments",
    "discussions": "cli_import_kind_discussions",
    "drafts": "cli_import_kind_drafts",
    "events": "cli_import_kind_events",
    "files": "cli_import_kind_files",
    "groups": "cli_import_kind_groups",
    "images": "cli_import_kind_images",
    "members": "cli_import_kind_members",
    "members-only posts": "cli_import_kind_members_only_posts",
    "music": "cli_import_kind_music",
    "pages": "cli_import_kind_pages",
    "photos": "cli_import_kind_photos",
    "posts": "cli_import_kind_posts",
    "redirects": "cli_import_kind_redirects",
    "topic groups": "cli_import_kind_topic_groups",
    "videos": "cli_import_kind_videos",
}


def kind_name(kind: str, language: str) -> str:
    """A kind of content as the summary names it in language (an unknown kind by its own name)."""
    key = _KIND_KEYS.get(kind)
    return kind if key is None else translate(language, key)


@dataclass
class Tally:
    """One kind of content: found, imported, already there, and skipped by reason."""

    found: int = 0
    imported: int = 0
    existing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        """How many were skipped, for every reason."""
        return sum(self.skipped.values())

    @property
    def balanced(self) -> bool:
        """Whether every one found is accounted for."""
        return self.found == self.imported + self.existing + self.skipped_total


@dataclass
class Summary:
    """Counters of one import run; `lines()` is the summary printed at the end."""

    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)  # members, authors, posts, drafts, comments, ...
    existing: Counter[str] = field(default_factory=Counter)  # already imported by an earlier run
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, record number, reason)
    warnings: Counter[str] = field(default_factory=Counter)
    tally: dict[str, Tally] = field(default_factory=dict)
    seconds: float = 0.0

    def kind(self, kind: str) -> Tally:
        """The report's counters of one kind."""
        found = self.tally.get(kind)
        if found is None:
            found = self.tally[kind] = Tally()
        return found

    def found(self, kind: str, n: int = 1) -> None:
        """n more of a kind were found in the archive."""
        self.kind(kind).found += n

    def imported(self, kind: str, n: int = 1) -> None:
        """n of a kind were imported now."""
        self.kind(kind).imported += n

    def already(self, kind: str, n: int = 1) -> None:
        """n of a kind an earlier run had imported."""
        self.kind(kind).existing += n

    def skipped(self, kind: str, reason: str, n: int = 1) -> None:
        """n of a kind were left out, for this reason."""
        self.kind(kind).skipped[reason] += n

    def skip(self, kind: str, number: int, reason: str) -> None:
        """A record that could not be read: reported by its number, and the import goes on."""
        self.unreadable.append((kind, number, reason))
        report_kind = {"blogs": "posts", "notes": "pages"}.get(kind, kind)
        self.found(report_kind)
        self.skipped(report_kind, f"record {number} of ning-{kind}.json: {reason}")

    def report_kinds(self) -> list[str]:
        """The kinds of the report, in order (those never met left out)."""
        return [k for k in REPORT_KINDS if k in self.tally] + sorted(k for k in self.tally if k not in REPORT_KINDS)

    def report_lines(self, language: str = "en") -> list[str]:
        """The report per kind in language: found, imported, already there, skipped with each reason."""
        out = [translate(language, "cli_import_report")]
        for kind in self.report_kinds():
            t = self.tally[kind]
            out.append(
                translate(
                    language,
                    "cli_import_report_kind",
                    kind=kind_name(kind, language),
                    found=str(t.found),
                    imported=str(t.imported),
                    existing=str(t.existing),
                    skipped=str(t.skipped_total),
                )
            )
            reasons = sorted(t.skipped.items(), key=lambda item: (-item[1], item[0]))
            for reason, n in reasons[:_MAX_LISTED]:
                out.append(translate(language, "cli_import_report_skipped", n=str(n), reason=reason))
            if len(reasons) > _MAX_LISTED:
                rest = sum(n for _, n in reasons[_MAX_LISTED:])
                more = translate(language, "cli_import_report_more_reasons", n=str(len(reasons) - _MAX_LISTED))
                out.append(translate(language, "cli_import_report_skipped", n=str(rest), reason=more))
        return out

    def csv_rows(self) -> Iterator[tuple[str, str, int, str]]:
        """The report as CSV rows (kind, outcome, count, reason); every skip reason on a row of its own."""
        for kind in self.report_kinds():
            t = self.tally[kind]
            yield kind, "found", t.found, ""
            yield kind, "imported", t.imported, ""
            yield kind, "already there", t.existing, ""
            for reason, n in sorted(t.skipped.items()):
                yield kind, "skipped", n, reason

    def lines(self, language: str = "en") -> list[str]:
        """The summary in language, one fact a line, then the report per kind."""
        verb = "cli_import_would_import" if self.dry_run else "cli_import_imported"
        out = []
        kinds = (
            "members", "authors", "topic groups", "posts", "members-only posts", "drafts", "comments", "events",
            "pages", "images", "files", "redirects",
        )  # fmt: skip
        for kind in kinds:
            new, old = self.created[kind], self.existing[kind]
            if new or old:
                already = translate(language, "cli_import_already_there", n=str(old)) if old else ""
                out.append(translate(language, verb, n=str(new), kind=kind_name(kind, language)) + already)
        if not out:
            out.append(translate(language, f"{verb}_nothing"))
        if self.unreadable:
            out.append(translate(language, "cli_import_unreadable", n=str(len(self.unreadable))))
            for kind, number, reason in self.unreadable[:_MAX_LISTED]:
                out.append(
                    translate(language, "cli_import_unreadable_record", kind=kind, number=str(number), reason=reason)
                )
            if len(self.unreadable) > _MAX_LISTED:
                out.append(translate(language, "cli_import_unreadable_more", n=str(len(self.unreadable) - _MAX_LISTED)))
        for what, n in sorted(self.warnings.items()):
            out.append(translate(language, "cli_import_note", n=str(n), what=what))
        if self.tally:
            out += self.report_lines(language)
        took = translate(language, "cli_import_took", seconds=f"{self.seconds:.1f}")
        out.append(took + (translate(language, "cli_import_dry_run_note") if self.dry_run else ""))
        return out
