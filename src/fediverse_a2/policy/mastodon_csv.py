"""PURE: Mastodon's domain-block CSV (`#domain,#severity,…`), read and written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .rules import SEVERITIES, DomainRule, effective_rules

__all__ = ["CSV_HEADER", "CsvError", "csv_entries", "format_domain_csv", "parse_domain_csv"]

# Mastodon's export header and column order (Admin::ExportDomainBlocksController).
CSV_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")


class CsvError(ValueError):
    """A row that cannot be read: its line, what is wrong (`problem`: malformed, severity, domain)
    and the value concerned, so a page can say it in its own language."""

    def __init__(self, line: int, problem: str, value: str, detail: str) -> None:
        super().__init__(f"line {line}: {detail}")
        self.line = line
        self.problem = problem
        self.value = value[:100]


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank CSV record."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # Excel saves a BOM
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise CsvError(reader.line_num, "malformed", "", f"malformed CSV ({exc})") from None


def _csv_columns(row: list[str]) -> dict[str, int] | None:
    """Column positions when row is a header ("#domain,..." or "domain,..."), else None."""
    names = [cell.strip().lower().removeprefix("#") for cell in row]
    if "domain" in names:
        return {name: i for i, name in reversed(list(enumerate(names)))}  # first wins on repeats
    return None


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def csv_entries(text: str) -> Iterable[tuple[int, str, str, str]]:
    """(line, raw domain, severity, comment) for each data row of a Mastodon domain-block CSV."""
    columns: dict[str, int] | None = None
    for index, (line, row) in enumerate(_csv_rows(text)):
        if index == 0:
            columns = _csv_columns(row)
            if columns is not None:
                continue
            # No header: like Mastodon, the first column is the domain and the rest is ignored.
            columns = {"domain": 0}
        assert columns is not None
        severity = _cell(row, columns, "severity").lower() or "suspend"
        yield line, _cell(row, columns, "domain"), severity, _cell(row, columns, "public_comment")


def parse_domain_csv(text: str) -> list[DomainRule]:
    """Admin blocks from a Mastodon domain-block CSV; CsvError naming the line of the first bad row."""
    rules: dict[str, DomainRule] = {}
    # Every row is checked before anything is returned, so one bad line never imports half a file.
    for line, domain, severity, comment in csv_entries(text):
        if severity not in SEVERITIES:
            raise CsvError(line, "severity", severity, f"unknown severity {severity!r}")
        try:
            rule = DomainRule(domain=domain, kind="block", source="admin", severity=severity, comment=comment)
        except ValueError as exc:
            raise CsvError(line, "domain", domain, str(exc)) from None
        rules.setdefault(rule.domain, rule)
    return list(rules.values())


def format_domain_csv(rules: Iterable[DomainRule]) -> str:
    """The block rules as a Mastodon domain-block CSV (header included, one row per domain)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # Ruby's CSV.generate writes bare \n
    writer.writerow(CSV_HEADER)
    for rule in effective_rules(rules):
        if rule.kind != "block":
            continue  # the format has no place for allows
        # reject_media/reject_reports aren't stored here; Mastodon writes false for a plain block.
        writer.writerow([rule.domain, rule.severity, "false", "false", rule.comment, "false"])
    return out.getvalue()
