"""Subscribed block- and allowlists (`[federation] subscriptions`), refreshed once a day.

Each list's entries are stored under its own URL as source, apart from the admin's own
rules, so a list that drops a domain unblocks it only if the admin never blocked it by hand.
A list that cannot be fetched keeps its previous entries.
"""

from __future__ import annotations

import logging
import time

from ..httpclient import FetchError, read_limited
from ..policy import parse_domain_list, parse_subscription
from ..runtime import POLICY_VERSION, Runtime
from ..store import domain_rules, follows, meta
from ..store import subscriptions as subscription_store

__all__ = ["SubscriptionRefresher"]

log = logging.getLogger(__name__)

MAX_LIST_BYTES = 1_000_000
ACCEPT = "text/csv, application/json;q=0.9, text/plain;q=0.8"


class SubscriptionRefresher:
    """Fetches due subscriptions; `run_once` is called by the housekeeping loop."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def run_once(self, force: bool = False) -> tuple[int, float | None]:
        """Refresh every subscription that is due: (how many were fetched, when the next one is due)."""
        fed = self.rt.config.federation
        now = time.time()
        done = 0
        next_due: float | None = None
        for entry in fed.subscriptions:
            kind, url = parse_subscription(entry)
            fetched_at = await subscription_store.fetched_at(self.rt.db, url)
            due = now if force or fetched_at is None else fetched_at + fed.subscription_interval
            if due <= now:
                await self._refresh(kind, url, now)
                done += 1
                due = now + fed.subscription_interval
            next_due = due if next_due is None else min(next_due, due)
        return done, next_due

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
        async with self.rt.db.transaction() as tx:
            await subscription_store.record_fetch(tx, url, now, error)
            if domains is None:
                return
            await domain_rules.replace_source(tx, url, kind, domains)
            if kind == "block":
                await follows.remove_on_domains(tx, domains)
            await meta.bump(tx, POLICY_VERSION)

    async def _fetch(self, url: str) -> list[str]:
        async with self.rt.http.stream("GET", url, headers={"Accept": ACCEPT}) as response:
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code}", response.status_code)
            body = await read_limited(response, MAX_LIST_BYTES)
        return parse_domain_list(body.decode("utf-8", "replace"), response.headers.get("content-type", ""))
