"""Subscribed block- and allowlists (`[federation] subscriptions`), refreshed once a day.

Each list's entries are stored under its own URL as source, apart from the admin's own
rules, so a list that drops a domain unblocks it only if the admin never blocked it by hand.
A list that cannot be fetched keeps its previous entries.
"""

from __future__ import annotations

import logging
import time

from ..runtime import POLICY_VERSION, Runtime
from ..store import meta
from .fetch import FetchError, read_limited
from .policy import parse_domain_list

__all__ = ["SubscriptionRefresher", "parse_subscription"]

log = logging.getLogger(__name__)

MAX_LIST_BYTES = 1_000_000
ACCEPT = "text/csv, application/json;q=0.9, text/plain;q=0.8"


def parse_subscription(entry: str) -> tuple[str, str]:
    """'allow:https://…' -> ("allow", url); a plain URL is a blocklist."""
    for kind in ("allow", "block"):
        if entry.startswith(f"{kind}:"):
            return kind, entry[len(kind) + 1 :]
    return "block", entry


class SubscriptionRefresher:
    """Fetches due subscriptions; `run_once` is called by the housekeeping loop."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def run_once(self, force: bool = False) -> int:
        """Refresh every subscription that is due; returns how many were fetched."""
        fed = self.rt.config.federation
        now = time.time()
        done = 0
        for entry in fed.subscriptions:
            kind, url = parse_subscription(entry)
            fetched_at = await self.rt.db.fetchval("SELECT fetched_at FROM subscriptions WHERE url = ?", (url,))
            if not force and fetched_at is not None and now - fetched_at < fed.subscription_interval:
                continue
            await self._refresh(kind, url, now)
            done += 1
        return done

    async def _refresh(self, kind: str, url: str, now: float) -> None:
        error: str | None = None
        domains: list[str] | None = None
        try:
            domains = await self._fetch(url)
        except (FetchError, ValueError) as exc:
            error = getattr(exc, "reason", None) or str(exc)
            log.warning("subscription %s not refreshed: %s", url, error)
        except Exception as exc:  # network errors of every kind: keep the old entries
            error = f"{type(exc).__name__}: {exc}"
            log.warning("subscription %s not refreshed: %s", url, error)
        from ..services.moderation import remove_blocked_followers

        async with self.rt.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO subscriptions (url, fetched_at, last_error) VALUES (?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at, last_error = excluded.last_error",
                (url, now, error),
            )
            if domains is None:
                return
            await tx.execute("DELETE FROM domain_rules WHERE source = ?", (url,))
            await tx.executemany(
                "INSERT INTO domain_rules (domain, kind, source, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (domain, kind, source) DO NOTHING",
                [(domain, kind, url, now) for domain in domains],
            )
            if kind == "block":
                await remove_blocked_followers(tx, domains)
            await meta.bump(tx, POLICY_VERSION)

    async def _fetch(self, url: str) -> list[str]:
        async with self.rt.http.stream("GET", url, headers={"Accept": ACCEPT}) as response:
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code}", response.status_code)
            body = await read_limited(response, MAX_LIST_BYTES)
        return parse_domain_list(body.decode("utf-8", "replace"), response.headers.get("content-type", ""))
