"""The admin's and subscribed lists' domain rules (config.toml's are not stored)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ..policy import DomainRule
from .db import Executor

__all__ = ["add", "all_rules", "remove", "replace_source"]


async def all_rules(db: Executor) -> list[DomainRule]:
    """Every stored rule."""
    rows = await db.fetchall("SELECT domain, kind, source, severity, comment FROM domain_rules")
    return [
        DomainRule(domain=r["domain"], kind=r["kind"], source=r["source"], severity=r["severity"], comment=r["comment"])
        for r in rows
    ]


async def add(db: Executor, rule: DomainRule) -> int:
    """Store a rule; 0 when the same (domain, kind, source) is already there."""
    return await db.execute(
        "INSERT INTO domain_rules (domain, kind, source, severity, comment, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (domain, kind, source) DO NOTHING",
        (rule.domain, rule.kind, rule.source, rule.severity, rule.comment, time.time()),
    )


async def remove(db: Executor, domain: str, kind: str, source: str) -> int:
    """Delete one rule; returns how many rows went (0 or 1)."""
    return await db.execute(
        "DELETE FROM domain_rules WHERE domain = ? AND kind = ? AND source = ?", (domain, kind, source)
    )


async def replace_source(db: Executor, source: str, kind: str, domains: Iterable[str]) -> None:
    """Replace every rule of one source (a subscribed list) with these domains."""
    now = time.time()
    await db.execute("DELETE FROM domain_rules WHERE source = ?", (source,))
    await db.executemany(
        "INSERT INTO domain_rules (domain, kind, source, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (domain, kind, source) DO NOTHING",
        [(domain, kind, source, now) for domain in domains],
    )
