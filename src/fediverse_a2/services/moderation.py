"""Admin moderation: domain rules, blocked actors, reports."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.policy import DomainRule, format_domain_csv, host_of, normalise_domain, parse_domain_csv
from ..runtime import POLICY_VERSION, Runtime
from ..store import meta
from ..store.db import Executor

__all__ = [
    "apply_block_side_effects",
    "block_actor",
    "export_domains",
    "import_domains",
    "list_domains",
    "list_reports",
    "remove_blocked_followers",
    "set_domain",
    "unblock_actor",
]

ACTIONS = {"block": ("block", True), "unblock": ("block", False), "allow": ("allow", True), "disallow": ("allow", False)}


def _domain(value: str) -> str:
    try:
        return normalise_domain(value)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return host_of(url)
    except ValueError:
        return None


async def apply_block_side_effects(tx: Executor, rt: Runtime, domain: str) -> int:
    """A block removes that domain's followers (and its subdomains'); returns how many."""
    return await remove_blocked_followers(tx, [domain])


async def remove_blocked_followers(tx: Executor, domains: Iterable[str]) -> int:
    """Remove the followers on any of these (blocked) domains, in one pass; returns how many.

    A follower whose personal inbox is on a blocked domain is removed too, and a shared
    inbox there is forgotten (deliveries fall back to the personal inbox): otherwise an actor
    elsewhere could keep deliveries flowing to the blocked domain.
    """
    from ..federation.policy import Policy

    rules = [DomainRule(domain=domain, kind="block") for domain in domains]
    if not rules:
        return 0
    probe = Policy("open", rules)

    def blocked(host: str | None) -> bool:
        return host is not None and probe.is_blocked(host)

    rows = await tx.fetchall("SELECT id, domain, inbox, shared_inbox FROM followers")
    removed = 0
    for row in rows:
        if blocked(row["domain"]) or blocked(_host(row["inbox"])):
            removed += await tx.execute("DELETE FROM followers WHERE id = ?", (row["id"],))
        elif blocked(_host(row["shared_inbox"])):
            await tx.execute("UPDATE followers SET shared_inbox = NULL WHERE id = ?", (row["id"],))
    return removed


async def set_domain(rt: Runtime, action: str, value: str, source: str = "admin") -> str:
    """domain block|unblock|allow|disallow: change the admin's rules; returns a summary line."""
    kind, add = ACTIONS[action]
    domain = _domain(value)
    async with rt.db.transaction() as tx:
        if add:
            await tx.execute(
                "INSERT INTO domain_rules (domain, kind, source, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (domain, kind, source) DO NOTHING",
                (domain, kind, source, time.time()),
            )
            removed = await apply_block_side_effects(tx, rt, domain) if kind == "block" else 0
        else:
            changed = await tx.execute(
                "DELETE FROM domain_rules WHERE domain = ? AND kind = ? AND source = ?", (domain, kind, source)
            )
            if not changed:
                raise UserError(f"{domain} has no {kind} rule to remove")
            removed = 0
        await meta.bump(tx, POLICY_VERSION)
    extra = f"; removed {removed} follower(s)" if removed else ""
    return f"{action}: {domain}{extra}"


async def list_domains(rt: Runtime) -> list[DomainRule]:
    """Every rule in force: config.toml's, the admin's and subscribed lists'."""
    return sorted(await rt.domain_rules(), key=lambda r: (r.kind, r.domain, r.source))


async def import_domains(rt: Runtime, text: str) -> int:
    """Import a Mastodon domain-block CSV as admin blocks; returns how many rules were added."""
    try:
        rules = parse_domain_csv(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    added = 0
    blocks = [rule for rule in rules if rule.severity != "noop"]
    async with rt.db.transaction() as tx:
        for rule in blocks:
            added += await tx.execute(
                "INSERT INTO domain_rules (domain, kind, source, severity, comment, created_at) "
                "VALUES (?, 'block', 'admin', ?, ?, ?) ON CONFLICT (domain, kind, source) DO NOTHING",
                (rule.domain, rule.severity, rule.comment, time.time()),
            )
        await remove_blocked_followers(tx, [rule.domain for rule in blocks])
        await meta.bump(tx, POLICY_VERSION)
    return added


async def export_domains(rt: Runtime) -> str:
    """The blocks in force as a Mastodon domain-block CSV."""
    rules = await list_domains(rt)
    return format_domain_csv([r for r in rules if r.kind == "block"])


async def block_actor(rt: Runtime, directory: ActorDirectory, value: str) -> str:
    """Block one remote actor: refuse its activities, hide its comments, drop it as follower."""
    uri = await _actor_uri(rt, directory, value)
    async with rt.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO blocked_actors (actor_uri, created_at) VALUES (?, ?) ON CONFLICT (actor_uri) DO NOTHING",
            (uri, time.time()),
        )
        await tx.execute("DELETE FROM followers WHERE actor_uri = ?", (uri,))
    return uri


async def unblock_actor(rt: Runtime, directory: ActorDirectory, value: str) -> str:
    """Lift an actor block; their comments show again."""
    uri = await _actor_uri(rt, directory, value, fetch=False)
    if not await rt.db.execute("DELETE FROM blocked_actors WHERE actor_uri = ?", (uri,)):
        raise UserError(f"{value} is not blocked")
    return uri


async def _actor_uri(rt: Runtime, directory: ActorDirectory, value: str, fetch: bool = True) -> str:
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return value
    handle = value if value.startswith("@") else f"@{value}"
    row = await rt.db.fetchval("SELECT uri FROM actors WHERE handle = ?", (handle,))
    if row:
        return str(row)
    if not fetch:
        raise UserError(f"unknown actor {value}")
    return (await directory.resolve(handle)).uri


async def list_reports(rt: Runtime) -> list[Any]:
    """Reports (Flag activities) received from other servers, newest first."""
    return await rt.db.fetchall(
        "SELECT id, actor_uri, content, objects, received_at FROM reports ORDER BY id DESC LIMIT 200"
    )
