"""Admin moderation: domain rules, blocked actors, reports.

Every change is written to the audit log in its own transaction, with who made it: a
member's username from the web, "cli" from the command line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import UserError
from ..federation.actors import ActorDirectory
from ..federation.webfinger import parse_handle
from ..hosts import HostError, normalise_domain
from ..policy import CsvError, DomainRule, format_domain_csv, parse_domain_csv
from ..runtime import POLICY_VERSION, Runtime
from ..store import actor_blocks, audit, domain_rules, follows, members, meta, reports
from ..store import actors as actor_store
from ..store.reports import Report
from .members import USERNAME_RE

__all__ = [
    "DomainChange",
    "block_actor",
    "checked_domain",
    "export_domains",
    "import_domains",
    "list_actor_blocks",
    "list_domains",
    "list_reports",
    "set_domain",
    "unblock_actor",
]

log = logging.getLogger(__name__)

ACTIONS = {
    "block": ("block", True),
    "unblock": ("block", False),
    "allow": ("allow", True),
    "disallow": ("allow", False),
}


def checked_domain(value: str) -> str:
    """A domain as rules store it (normalised); UserError when it is none."""
    try:
        return normalise_domain(value)
    except HostError as exc:
        raise UserError(str(exc), key="domain_invalid", values={"domain": value.strip()[:100]}) from None


@dataclass(frozen=True, slots=True)
class DomainChange:
    """A changed domain rule: the action, the domain, and how many followers a block removed."""

    action: str
    domain: str
    removed: int


async def set_domain(rt: Runtime, action: str, value: str, source: str = "admin", *, by: str = "cli") -> DomainChange:
    """domain block|unblock|allow|disallow: change the admin's rules; returns what changed."""
    kind, add = ACTIONS[action]
    domain = checked_domain(value)
    removed = 0
    async with rt.db.transaction() as tx:
        if add:
            await domain_rules.add(tx, DomainRule(domain=domain, kind=kind, source=source))
            if kind == "block":
                removed = await follows.remove_on_domains(tx, [domain])
        elif not await domain_rules.remove(tx, domain, kind, source):
            raise UserError(f"{domain} has no {kind} rule to remove", key="no_such_rule")
        await meta.bump(tx, POLICY_VERSION)
        extra = f"; removed {removed} follower(s)" if removed else ""
        await audit.record(tx, by, f"domain_{action}", domain, extra.removeprefix("; "))
    await rt.refresh_policy()  # this process's pages follow at once; others on their next check
    return DomainChange(action, domain, removed)


async def list_domains(rt: Runtime) -> list[DomainRule]:
    """Every rule in force: config.toml's, the admin's and subscribed lists'."""
    return sorted(await rt.domain_rules(), key=lambda r: (r.kind, r.domain, r.source))


async def import_domains(rt: Runtime, text: str, *, by: str = "cli") -> int:
    """Import a Mastodon domain-block CSV as admin blocks; returns how many rules were added."""
    try:
        rules = parse_domain_csv(text)
    except CsvError as exc:
        values = {"line": str(exc.line), "value": exc.value}
        raise UserError(str(exc), key=f"csv_{exc.problem}", values=values) from None
    added = 0
    blocks = [rule for rule in rules if rule.severity != "noop"]
    async with rt.db.transaction() as tx:
        for rule in blocks:
            added += await domain_rules.add(tx, rule)
        await follows.remove_on_domains(tx, [rule.domain for rule in blocks])
        await meta.bump(tx, POLICY_VERSION)
        await audit.record(tx, by, "domain_import", f"{len(blocks)} block(s) in the CSV", f"{added} added")
    await rt.refresh_policy()
    return added


async def export_domains(rt: Runtime) -> str:
    """The blocks in force as a Mastodon domain-block CSV."""
    rules = await list_domains(rt)
    return format_domain_csv([r for r in rules if r.kind == "block"])


async def block_actor(rt: Runtime, directory: ActorDirectory, value: str, *, by: str = "cli") -> str:
    """Block one remote actor: refuse its activities, hide its comments, drop it as follower."""
    uri = await _actor_uri(rt, directory, value)
    async with rt.db.transaction() as tx:
        await actor_blocks.add(tx, uri)
        removed = await follows.remove_actor(tx, uri)
        await audit.record(tx, by, "actor_block", uri, f"removed {removed} follower(s)" if removed else "")
    return uri


async def unblock_actor(rt: Runtime, directory: ActorDirectory, value: str, *, by: str = "cli") -> str:
    """Lift an actor block; their comments show again."""
    uri = await _actor_uri(rt, directory, value)
    async with rt.db.transaction() as tx:
        if not await actor_blocks.remove(tx, uri):
            raise UserError(f"{value.strip()} is not blocked", key="not_blocked")
        await audit.record(tx, by, "actor_unblock", uri)
    return uri


async def list_actor_blocks(rt: Runtime) -> list[tuple[str, str, float]]:
    """(actor id, handle or '', blocked at) of every blocked actor."""
    out = []
    for uri, created in await actor_blocks.list_all(rt.db):
        actor = await actor_store.by_uri(rt.db, uri)
        out.append((uri, actor.handle if actor else "", created))
    return out


async def _actor_uri(rt: Runtime, directory: ActorDirectory, value: str) -> str:
    """The id of the remote actor a URL or handle names; UserError for our own members."""
    text = value.strip()
    if text.startswith(("http://", "https://")):
        if rt.urls.is_local(text):
            raise UserError(f"{text} is on this instance: block and unblock are for remote actors", key="block_local")
        try:  # learn the handle too, so the actor can be named either way later
            await directory.get(text)
        except Exception as exc:  # the block must work even when the actor cannot be fetched
            log.info("blocking %s without its profile: %s", text, exc)
        return text
    if USERNAME_RE.fullmatch(text.lstrip("@")) and await members.by_username(rt.db, text.lstrip("@")):
        raise UserError(
            f"{text} is a member of this instance: block and unblock are for remote actors", key="block_local"
        )
    handle = parse_handle(text)
    if rt.urls.is_own_authority(handle.authority):
        raise UserError(f"{text} is on this instance: block and unblock are for remote actors", key="block_local")
    cached = await actor_store.uri_by_handle(rt.db, str(handle))
    if cached:
        return cached
    return (await directory.resolve(str(handle))).uri


async def list_reports(rt: Runtime) -> list[Report]:
    """Reports (Flag activities) received from other servers, newest first."""
    return await reports.recent(rt.db)
