"""The delivery worker: leases queued deliveries, signs and POSTs them, records the outcome.

One dead instance never slows the others: every host has its own small semaphore, a
circuit breaker stops hammering a host that keeps failing, and the overall number of
requests in flight is bounded. Outcomes follow the pure policy in retry.py and the state
machine in store/deliveries.py.

The POSTs go through the shared client's `poster` (httpclient/poster.py: the same guard and
limits, kept-alive HTTP/1.1, no httpx per request); a claimed batch is sent in turns over its
peers, and signed in signing processes when there are any (signpool.py).

Leases carry this process as their owner (leases.py): they are renewed while in flight, each
outcome is written as soon as it is known (recorder.py), and before claiming, the leases of
a dead predecessor on this host are taken back at once (federation/reclaim.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ...hosts import HostError, host_of, parse_origin
from ...httpclient import FetchError, poster_of
from ...keys import INSTANCE_KEY
from ...leases import LeaseOwner, current_owner
from ...runtime import Runtime
from ...store import activities, deliveries, domain_health, follows, members, peers
from ...store.deliveries import Claimed, DeliveryState, Result
from ..reclaim import Reclaimer
from ..retry import Outcome, backoff, classify, parse_retry_after
from .breaker import Breaker
from .recorder import Recorder
from .signing import Presigned, Signer, SignJob, signature_headers
from .signpool import SigningPool

__all__ = ["UNAVAILABLE_AFTER_DAYS", "Deliverer"]

log = logging.getLogger(__name__)

UNAVAILABLE_AFTER_DAYS = 7
ACTIVITY_CACHE = 64
DEFAULT_SCHEME = "rfc9421"
_HEADERS = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}


@dataclass(frozen=True)
class _Prepared:
    body: bytes
    signer: Signer


@dataclass(frozen=True)
class _Attempt:
    claimed: Claimed
    result: Result
    outcome: str


# Pure functions of an inbox URL, asked several times per delivery: cached for about a batch.
@functools.lru_cache(maxsize=512)
def _inbox_host(inbox: str) -> str:
    """The policy host of an inbox URL (a shared inbox may live on another domain than its actor)."""
    try:
        return host_of(inbox)
    except HostError:
        return ""


@functools.lru_cache(maxsize=512)
def _url(inbox: str) -> tuple[httpx.URL, str] | None:
    """The URL as it is sent, and as it is signed (httpx's normal form); None if invalid."""
    try:
        url = httpx.URL(inbox)
    except httpx.InvalidURL:
        return None
    return url, str(url)


@functools.lru_cache(maxsize=512)
def _peer_key(inbox: str) -> str:
    """Which peer a delivery goes to, for semaphores, the breaker and the remembered scheme."""
    try:
        return parse_origin(inbox).authority
    except HostError:
        return inbox


def _interleaved(claimed: list[Claimed]) -> list[Claimed]:
    """The batch in turns over its peers (a, b, c, a, b, c, ...), keeping the order within each.

    The queue hands out deliveries in inbox order, so a big instance's personal inboxes come
    in a row; taking turns spreads the requests in flight over the peers (fairer, and fewer
    parallel connections per host: the others are reused) and signs them in sending order.
    """
    turn: dict[str, int] = {}
    keyed = []
    for index, c in enumerate(claimed):
        peer = _peer_key(c.inbox)
        keyed.append((turn.get(peer, 0), index, c))
        turn[peer] = turn.get(peer, 0) + 1
    return [c for _, _, c in sorted(keyed, key=lambda k: k[:2])]


class Deliverer:
    """Delivers queued activities; `run_once` for tests, `run_forever` for serve."""

    def __init__(
        self,
        rt: Runtime,
        clock: Callable[[], float] = time.time,
        batch: int = 256,
        owner: LeaseOwner | None = None,
    ) -> None:
        self.rt = rt
        self.clock = clock
        self.batch = batch
        cfg = rt.config.delivery
        self.lease = float(cfg.lease_seconds)
        self.owner = owner or current_owner()
        self.reclaimer = Reclaimer(rt.db, "deliveries", self.owner, self.lease / 3, clock)
        self.max_attempts = cfg.max_attempts
        self.slots = asyncio.Semaphore(cfg.concurrency)
        self.per_host = cfg.per_host
        self.host_slots: dict[str, asyncio.Semaphore] = {}
        self.breaker = Breaker(clock)
        self.schemes: dict[str, str] = {}
        self._learned: dict[str, str] = {}  # peer -> scheme, not yet stored
        self._schemes_loaded = False
        self._activities: OrderedDict[int, _Prepared] = OrderedDict()
        self.unavailable: set[str] = set()
        processes = cfg.signing_processes_here(os.cpu_count())
        self.signing = (
            SigningPool(processes, rt.keys.keys_dir, auto=cfg.signing_processes < 0) if processes > 0 else None
        )

    def close(self) -> None:
        """Stop the signing processes, if any were started."""
        if self.signing is not None:
            self.signing.close()

    # -- one round ---------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt them all, record each outcome as it comes."""
        await self.reclaimer.run_due()
        owner = str(self.owner)
        claimed = await deliveries.claim(self.rt.db, self.clock(), self.lease, self.batch, owner)
        if not claimed:
            if self.signing is not None:
                self.signing.stop_if_idle()
            return 0
        await self.refresh_unavailable()
        claimed = _interleaved(claimed)
        presigned = await self._presign(claimed)
        in_flight = {c.id for c in claimed}
        # A slow host may hold part of the batch longer than the lease: keep renewing it,
        # so another process never claims (and sends again) work that is still in flight.
        keeper = asyncio.create_task(self._keep_leased(in_flight, owner))
        recorder: Recorder[_Attempt] = Recorder(self.record_outcomes)

        async def one(c: Claimed) -> _Attempt:
            result = await self.attempt(c, presigned.get(c.id))
            in_flight.discard(c.id)
            recorder.add(result)
            return result

        try:
            attempts = await asyncio.gather(*(one(c) for c in claimed))
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await recorder.close()
        await self.record_health(attempts)
        return len(claimed)

    async def _keep_leased(self, ids: set[int], owner: str) -> None:
        """Extend the lease of in-flight deliveries every third of the lease time."""
        while True:
            await asyncio.sleep(self.lease / 3)
            await deliveries.renew_leases(self.rt.db, sorted(ids), self.clock() + self.lease, owner)

    def _deliverable(self, claimed: Claimed) -> bool:
        return self.rt.policy.is_allowed(claimed.domain) and claimed.domain not in self.unavailable

    async def _presign(self, claimed: list[Claimed]) -> dict[int, Presigned]:
        """With signing processes: start signing the whole batch there (signpool.py)."""
        pool = self.signing
        if pool is None:
            return {}
        await self._load_schemes()
        now = time.time()  # the Date/created of the signature, as signing here would use now
        jobs: list[tuple[int, SignJob]] = []
        for c in claimed:
            prepared = await self._prepared(c.activity_id) if self._deliverable(c) else None
            if prepared is None:
                continue
            scheme = self.schemes.get(_peer_key(c.inbox)) or DEFAULT_SCHEME
            signer, url = prepared.signer, _url(c.inbox)
            if url is not None:
                jobs.append((c.id, (signer.key_name, signer.key_id, url[1], prepared.body, scheme, now)))
        if not jobs or not pool.wanted(len(jobs)):
            return {}
        if not pool.ready:
            pool.start()  # this batch is signed here while the processes start
            return {}
        return pool.presign(jobs)

    async def refresh_unavailable(self) -> None:
        """Reload the set of domains marked unavailable."""
        self.unavailable = await domain_health.unavailable_domains(self.rt.db)

    async def _load_schemes(self) -> None:
        if not self._schemes_loaded:
            self.schemes.update(await peers.schemes(self.rt.db))
            self._schemes_loaded = True

    async def _prepared(self, activity_id: int) -> _Prepared | None:
        cached = self._activities.get(activity_id)
        if cached is not None:
            self._activities.move_to_end(activity_id)
            return cached
        row = await _load_activity(self.rt, activity_id)
        if row is None:
            return None
        self._activities[activity_id] = row
        if len(self._activities) > ACTIVITY_CACHE:
            self._activities.popitem(last=False)
        return row

    # -- one delivery ------------------------------------------------------------------

    async def attempt(self, claimed: Claimed, presigned: Presigned | None = None) -> _Attempt:
        """Try one delivery and decide its next state (nothing is written here)."""
        now = self.clock()
        attempts = claimed.attempts + 1
        peer = _peer_key(claimed.inbox)

        def final(
            state: DeliveryState, outcome: str, status: int | None, error: str | None, when: float = now
        ) -> _Attempt:
            return _Attempt(claimed, Result(claimed.id, state, attempts, when, status, error), outcome)

        policy = self.rt.policy
        if not policy.is_allowed(claimed.domain) or not policy.is_allowed(_inbox_host(claimed.inbox)):
            return final(DeliveryState.SKIPPED, Outcome.FAILED, None, "domain blocked by federation policy")
        if claimed.domain in self.unavailable:
            return final(DeliveryState.SKIPPED, Outcome.FAILED, None, "domain marked unavailable")
        prepared = await self._prepared(claimed.activity_id)
        if prepared is None:
            return final(DeliveryState.FAILED, Outcome.FAILED, None, "activity no longer exists")
        status: int | None
        error: str | None
        retry_after: float | None
        if self.breaker.is_open(peer):
            status, error, retry_after = None, "circuit open after repeated failures", None
        else:
            status, error, retry_after = await self._post(claimed.inbox, peer, prepared, presigned)
        outcome = classify(status)
        self.breaker.record(peer, outcome in (Outcome.SENT, Outcome.GONE, Outcome.FAILED))
        if outcome == Outcome.SENT:
            return final(DeliveryState.SENT, outcome, status, None)
        if outcome == Outcome.GONE:
            return final(DeliveryState.GONE, outcome, status, error)
        if outcome == Outcome.FAILED:
            return final(DeliveryState.FAILED, outcome, status, error)
        if attempts >= self.max_attempts:
            return final(DeliveryState.FAILED, outcome, status, f"gave up after {attempts} attempts: {error}")
        delay = max(backoff(attempts), retry_after or 0.0)
        return final(DeliveryState.PENDING, outcome, status, error, now + delay)

    async def _post(
        self, inbox: str, peer: str, prepared: _Prepared, presigned: Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        """POST with the peer's known signature scheme, double-knocking on a 4xx."""
        await self._load_schemes()
        known = self.schemes.get(peer)
        scheme = known or DEFAULT_SCHEME
        slots = self.host_slots.setdefault(peer, asyncio.Semaphore(self.per_host))
        async with slots, self.slots:
            status, error, retry_after = await self._send(inbox, prepared, scheme, presigned)
            if known is None and scheme == "rfc9421" and status is not None and 400 <= status < 500 and status != 410:
                # Double knock: the peer may not speak RFC 9421 yet; try draft-cavage.
                scheme = "cavage"
                status, error, retry_after = await self._send(inbox, prepared, scheme)
        if status is not None and 200 <= status < 300 and known != scheme:
            self.schemes[peer] = scheme
            self._learned[peer] = scheme  # stored with the next outcomes
        return status, error, retry_after

    async def _send(
        self, inbox: str, prepared: _Prepared, scheme: str, presigned: Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        parsed = _url(inbox)
        if parsed is None:
            return None, f"InvalidURL: {inbox}"[:300], None
        url, signed_url = parsed
        try:
            signed = await signature_headers(prepared.signer, signed_url, prepared.body, scheme, presigned)
            resp = await poster_of(self.rt.http).post(url, {**_HEADERS, **signed}, prepared.body)
        except FetchError as exc:
            return None, exc.reason, None
        status = resp.status
        retry_after = parse_retry_after(resp.header("retry-after"), self.clock())
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return status, error, retry_after

    # -- bookkeeping -------------------------------------------------------------------

    async def record_outcomes(self, attempts: Sequence[_Attempt]) -> None:
        """Write the outcomes of attempts, the schemes peers accepted, and remove followers whose
        inbox is gone, in one transaction (a scheme lost with a failed write is learned again)."""
        gone = {a.claimed.recipient_uri for a in attempts if a.outcome == Outcome.GONE and a.claimed.recipient_uri}
        learned, self._learned = self._learned, {}
        async with self.rt.db.transaction() as tx:
            await deliveries.record(tx, [a.result for a in attempts], self.clock())
            for peer, scheme in sorted(learned.items()):
                await peers.remember_scheme(tx, peer, scheme, self.clock())
            for actor_uri in sorted(gone):
                # A personal inbox answering 410: that follower is gone.
                await follows.remove_actor(tx, actor_uri)

    async def record_health(self, attempts: Sequence[_Attempt]) -> None:
        """Count a round's failures and successes per domain (after all of its outcomes, as one)."""
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        failing = {
            a.claimed.domain
            for a in attempts
            if a.result.state != DeliveryState.SKIPPED
            and (a.outcome == Outcome.RETRY or (a.result.state == DeliveryState.FAILED and a.result.status is None))
        }
        healthy = {a.claimed.domain for a in attempts if a.outcome == Outcome.SENT} - failing
        if not failing and not healthy:
            return
        async with self.rt.db.transaction() as tx:
            for domain in sorted(failing):
                if await domain_health.record_failure(tx, domain, day) >= UNAVAILABLE_AFTER_DAYS:
                    await domain_health.set_unavailable(tx, domain, True, now)
                    self.unavailable.add(domain)
            for domain in sorted(healthy):
                await domain_health.clear(tx, domain)
                if domain in self.unavailable:
                    await domain_health.set_unavailable(tx, domain, False, now)
                    self.unavailable.discard(domain)


async def _load_activity(rt: Runtime, activity_id: int) -> _Prepared | None:
    """An outgoing activity's body and who signs it (its member, or the instance actor)."""
    found = await activities.with_sender(rt.db, activity_id)
    if found is None:
        return None
    body, username = found
    if username:
        if not rt.keys.exists(username) and await members.is_erased(rt.db, username):
            return None  # an erased account's key is gone once its Delete went out: nothing more is signed
        # An archive member's key pair is made on first need (its public half reaches the actor
        # document through services.members.ensure_key): signing a delivery is such a need.
        signer = Signer(rt.urls.key(username), username, await asyncio.to_thread(rt.keys.ensure, username))
    else:
        signer = Signer(rt.urls.instance_key, INSTANCE_KEY, rt.keys.load(INSTANCE_KEY))
    return _Prepared(body.encode("utf-8"), signer)
