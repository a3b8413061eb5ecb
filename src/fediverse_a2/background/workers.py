"""The background loops: the inbox worker, the delivery worker, housekeeping and mail.

Each loop wakes when told or every poll interval. The inbox loop is told by the inbox
route of this process; the delivery loop by a wake-up (work/wakeups.py: NOTIFY on
PostgreSQL, a local datagram on SQLite) from whichever process queued deliveries, so a CLI
`post` starts going out at once. The poll is only the safety net. Mail has a loop of its
own, so a slow SMTP server delays nothing else.

A web process whose loops run elsewhere (`serve` with a `worker` process beside it) starts
none of them (`start_beside`); its inbox route wakes the other process instead.

Housekeeping also prunes the raw bodies of old inbox items (federation/pruning.py), the
failed sign-ins (with their addresses) once they are out of the throttling window, expired
sessions and invitations, sent mail and rejected membership requests (retention.py), and the
keys of erased accounts once their Delete went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from .. import retention
from ..accounts import throttle
from ..federation.actors import ActorDirectory
from ..federation.delivery import Deliverer
from ..federation.processing import InboxWorker
from ..federation.pruning import InboxPruner
from ..federation.retired import retire_keys
from ..federation.subscriptions import SubscriptionRefresher
from ..mail.worker import MailWorker
from ..runtime import Runtime
from ..store import invites, login_failures, membership_requests, outgoing_mail, password_resets, sessions
from ..store.db import DatabaseUnavailable
from ..work import wakeups

__all__ = ["Workers"]

log = logging.getLogger(__name__)

SUBSCRIPTION_CHECK_SECONDS = 60.0
LOGIN_FAILURES_PRUNE_SECONDS = 60.0
UNAVAILABLE_REFRESH_SECONDS = 10.0


class Workers:
    """Owns the worker objects and their asyncio tasks."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.directory = ActorDirectory(rt)
        self.inbox = InboxWorker(rt, self.directory)
        self.deliverer = Deliverer(rt)
        self.subscriptions = SubscriptionRefresher(rt)
        self.mail = MailWorker(rt)  # notification mail, digests, invitations ([mail])
        self.pruner = InboxPruner(rt)
        self._next_subscription_check = 0.0
        self._next_login_prune = 0.0
        self._next_unavailable_check = 0.0
        self._inbox_wake = asyncio.Event()
        self._delivery_wake = asyncio.Event()
        self._listening: wakeups.Listening | None = None
        self._poker: wakeups.Poker | None = None
        self._running = False  # the loops run in this process
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def notify_inbox(self) -> None:
        """An activity was stored: process it now rather than at the next poll.

        When the loops run in this process, that is an event; otherwise (`serve` with its
        background work in a `worker` process) a wake-up to whichever process runs them."""
        if self._running:
            self._inbox_wake.set()
            return
        if self._poker is None:
            self._poker = wakeups.Poker(self.rt.db, wakeups.INBOX)
        self._poker.poke()

    def domain_seen(self, domain: str) -> None:
        """A valid signed POST arrived from a domain: it is available again."""
        health = self.deliverer.health
        if domain in health.unavailable:
            health.unavailable.discard(domain)
            self._spawn(health.clear(domain), "clear-unavailable")

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def start_beside(self) -> None:
        """For a web process whose loops run in another process: keep fresh only what the web
        side reads itself (the domain policy, and the unavailable domains for `domain_seen`)."""
        await self.deliverer.health.refresh()
        poll = self.rt.config.server.poll_interval
        self._spawn(self._loop("web-side", self._refresh_beside, poll, None), "web-side")

    async def _refresh_beside(self) -> int:
        await self.rt.refresh_policy()  # one small read unless an admin changed the policy
        if time.time() >= self._next_unavailable_check:
            self._next_unavailable_check = time.time() + UNAVAILABLE_REFRESH_SECONDS
            await self.deliverer.health.refresh()
        return 0

    async def start(self) -> None:
        """Start the loops (called from the app's lifespan)."""
        self._running = True
        await self.deliverer.health.refresh()
        poll = self.rt.config.server.poll_interval
        try:
            self._listening = await wakeups.listen(self.rt.db, [wakeups.DELIVERIES, wakeups.INBOX], self._woken)
        except OSError as exc:  # e.g. a read-only data folder: the poll still finds the work
            log.warning("no wake-ups for queued deliveries (%s); polling every %s s", exc, poll)
        self._spawn(self._loop("inbox", self.inbox.run_once, poll, self._inbox_wake), "inbox")
        self._spawn(self._loop("delivery", self.deliverer.run_once, poll, self._delivery_wake), "delivery")
        self._spawn(self._loop("policy", self._housekeeping, poll, None), "housekeeping")
        if self.mail.enabled:  # mail: its own loop, so a slow SMTP server delays nothing else
            self._spawn(self._loop("mail", self.mail.run_once, poll, None), "mail")

    def _woken(self, channel: str) -> None:
        if channel == wakeups.DELIVERIES:
            self._delivery_wake.set()
        elif channel == wakeups.INBOX:
            self._inbox_wake.set()

    async def _housekeeping(self) -> int:
        await self.rt.refresh_policy()
        await self.pruner.run_due()
        if time.time() >= self._next_login_prune:
            self._next_login_prune = time.time() + LOGIN_FAILURES_PRUNE_SECONDS
            await login_failures.prune(self.rt.db, time.time() - throttle.WINDOW)
            # Kept no longer than they serve: ended sessions, invitations and reset links, erased accounts' keys.
            now = time.time()
            await sessions.prune(self.rt.db, now)
            await invites.prune(self.rt.db, now)
            await password_resets.prune(self.rt.db, now)
            await outgoing_mail.prune(self.rt.db, now - retention.MAIL_DAYS * 86400)
            await membership_requests.prune_rejected(self.rt.db, now - retention.REJECTED_REQUEST_DAYS * 86400)
            await retire_keys(self.rt)
        if self.rt.config.federation.subscriptions and time.time() >= self._next_subscription_check:
            done, next_due = await self.subscriptions.run_once()
            # Check again when the next list is due (a restart right after a fetch must not
            # skip it for a whole check period), and at least every SUBSCRIPTION_CHECK_SECONDS.
            soonest = time.time() + SUBSCRIPTION_CHECK_SECONDS
            self._next_subscription_check = min(soonest, next_due) if next_due is not None else soonest
            if done:
                await self.rt.refresh_policy()
        return 0

    async def _loop(
        self, name: str, step: Callable[[], Awaitable[int]], poll: float, wake: asyncio.Event | None
    ) -> None:
        while not self._stopping.is_set():
            try:
                done = await step()
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:  # the server restarts: wait, the pool reconnects
                log.warning("%s worker: %s; trying again in %.1f s", name, exc, poll)
                done = 0
                await asyncio.sleep(poll)
                continue
            except Exception:  # keep the loop alive; the error is logged with its traceback
                log.exception("%s worker step failed", name)
                done = 0
            if done:
                continue  # more may be waiting
            if wake is None:
                await asyncio.sleep(poll)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await wake.wait()
            wake.clear()

    async def stop(self) -> None:
        """Cancel the loops (their unfinished leases are handed back) and wait for them to end."""
        self._stopping.set()
        self._running = False
        if self._listening is not None:
            await self._listening.close()
            self._listening = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.deliverer.close()  # its signing processes, if any
