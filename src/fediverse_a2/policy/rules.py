"""PURE: domain rules (block / allow) and the Policy that answers "may we talk to this host?"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..hosts import HostError, domain_suffixes, normalise_domain

__all__ = ["KINDS", "MODES", "SEVERITIES", "DomainRule", "Policy", "effective_rules"]

MODES = frozenset({"open", "allowlist"})
KINDS = frozenset({"block", "allow"})
SEVERITIES = frozenset({"suspend", "silence", "noop"})  # Mastodon's DomainBlock severities

# Sources that a person typed, in order of precedence over subscriptions (see effective_rules).
_MANUAL_SOURCES = {"config": 0, "admin": 1}


@dataclass(frozen=True)
class DomainRule:
    """One block or allow entry; the domain is normalised and every field checked on creation."""

    domain: str
    kind: str  # "block" | "allow"
    source: str = "admin"  # "config", "admin", or the subscription URL it came from
    severity: str = "suspend"  # Mastodon's: suspend | silence | noop
    comment: str = ""

    def __post_init__(self) -> None:
        # A rule that exists is a valid rule: matching and export never meet a bad one.
        object.__setattr__(self, "domain", normalise_domain(self.domain))
        if self.kind not in KINDS:
            raise ValueError(f"invalid rule kind: {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"invalid severity: {self.severity!r}")
        if not self.source:
            raise ValueError("a domain rule needs a source")

    @property
    def is_manual(self) -> bool:
        """True for rules a person set (config.toml or the admin), False for subscription entries."""
        return self.source in _MANUAL_SOURCES


class Policy:
    """Which remote hosts this instance talks to, answered fast enough to ask on every request."""

    CACHE_SIZE = 4096

    def __init__(self, mode: str, rules: Iterable[DomainRule]) -> None:
        if mode not in MODES:
            raise ValueError(f"invalid federation mode: {mode!r} (expected 'open' or 'allowlist')")
        self.mode = mode
        blocked: set[str] = set()
        allowed: set[str] = set()
        for rule in rules:
            if rule.kind == "allow":
                allowed.add(rule.domain)
            elif rule.severity != "noop":
                # noop is Mastodon's "no domain-level action" (only media/report flags), so it
                # blocks nothing. silence has no milder equivalent here: we refuse the domain.
                blocked.add(rule.domain)
        self._blocked = frozenset(blocked)
        self._allowed = frozenset(allowed)
        # raw host -> (blocked, allowed); bounded so a flood of distinct hosts can't grow it.
        self._cache: dict[str, tuple[bool, bool]] = {}

    @property
    def blocked(self) -> frozenset[str]:
        """The blocked domains (each also covers its subdomains)."""
        return self._blocked

    @property
    def allowed(self) -> frozenset[str]:
        """The allowed domains (each also covers its subdomains)."""
        return self._allowed

    def is_blocked(self, host: str) -> bool:
        """True if host or a parent domain is blocked; an invalid host counts as blocked."""
        return self._decide(host)[0]

    def is_allowed(self, host: str) -> bool:
        """True if this instance may federate with host; a block always wins, an invalid host never is."""
        return self._decide(host)[1]

    def _decide(self, host: str) -> tuple[bool, bool]:
        cached = self._cache.get(host) if isinstance(host, str) else None
        if cached is not None:
            return cached
        try:
            name = normalise_domain(host)
        except HostError:
            # Fail closed: a host we can't even parse is neither trusted nor shown.
            return True, False
        suffixes = domain_suffixes(name)  # an IP literal matches only itself
        blocked = any(s in self._blocked for s in suffixes)
        if blocked:
            allowed = False
        elif self.mode == "open":
            allowed = True
        else:
            allowed = any(s in self._allowed for s in suffixes)
        result = (blocked, allowed)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))  # oldest first: dicts keep insertion order
        self._cache[host] = result
        return result


def effective_rules(rules: Iterable[DomainRule]) -> list[DomainRule]:
    """One rule per (domain, kind), config before admin before subscriptions, in first-seen order."""
    best: dict[tuple[str, str], DomainRule] = {}
    for rule in rules:
        key = (rule.domain, rule.kind)
        current = best.get(key)
        if current is None or _precedence(rule) < _precedence(current):
            # Replacing keeps the key's original position, so the order stays first-seen.
            best[key] = rule
    return list(best.values())


def _precedence(rule: DomainRule) -> int:
    return _MANUAL_SOURCES.get(rule.source, len(_MANUAL_SOURCES))
