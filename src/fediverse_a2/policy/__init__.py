"""PURE federation policy: which remote hosts this instance talks to, and the list formats rules travel in.

No I/O here: storing rules, fetching subscribed lists and the admin commands live in higher
layers and call in. Hosts are compared in the canonical form of `fediverse_a2.hosts`.
"""

from __future__ import annotations

from .lists import parse_domain_list, parse_subscription
from .mastodon_csv import CSV_HEADER, CsvError, format_domain_csv, parse_domain_csv
from .rules import KINDS, MODES, SEVERITIES, DomainRule, Policy, effective_rules

__all__ = [
    "CSV_HEADER",
    "KINDS",
    "MODES",
    "SEVERITIES",
    "CsvError",
    "DomainRule",
    "Policy",
    "effective_rules",
    "format_domain_csv",
    "parse_domain_csv",
    "parse_domain_list",
    "parse_subscription",
]
