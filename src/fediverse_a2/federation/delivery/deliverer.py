"""The delivery worker: leases queued deliveries, signs and POSTs them, records the outcome.

One round (`run_once`) is put together from parts of their own:

* leasing: the one leased-queue runner (work/leased.py) claims a batch for this process,
  takes back a dead predecessor's leases on this host first, and renews the leases of what is
  still in flight; each outcome is written as soon as it is known (recorder.py);
* presigning: with signing processes, the batch's signatures are started there (presign.py);
* limits: `delivery.concurrency` requests in flight, `delivery.per_host` per peer (limits.py),
  and a circuit breaker that pauses a peer after repeated failures (breaker.py), so one dead
  instance never slows the others;
* what is sent: each activity's body and signer (activities.py), the scheme each peer accepts
  (schemes.py), and the domains to skip (health.py).

Outcomes follow the pure policy in retry.py and the state machine in store/deliveries.py. The
POSTs go through the shared client's `poster` (httpclient/poster.py: the same guard and limits,
kept-alive HTTP/1.1), a batch sent in turns over its peers (targets.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...httpclient import FetchError, poster_of
from ...leases import LeaseOwner, current_owner
from ...runtime import Runtime
from ...store import deliveries, follows, peers
from ...store.deliveries import Claimed, DeliveryState, Result
from ...work.leased import LeasedWork
from ..retry import Outcome, backoff, classify, parse_retry_after
from .activities import OutgoingActivities, Prepared
from .breaker import Breaker
from .health import UNAVAILABLE_AFTER_DAYS, DomainHealth
from .limits import PeerLimits
from .presign import Presigner
from .recorder import Recorder
from .schemes import DEFAULT_SCHEME, Schemes
from .signing import Presigned, signature_headers
from .targets import inbox_host, interleaved, peer_key, url_of

__all__ = ["UNAVAILABLE_AFTER_DAYS", "Attempt", "Deliverer"]

log = logging.getLogger(__name__)

_HEADERS = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}
_OUTCOME = {DeliveryState.PENDING: "retry"}  # how /metrics names an attempt's outcome; else its state


@dataclass(frozen=True)
class Attempt:
    """One delivery tried: its next state, and how the attempt went (retry.Outcome)."""

    claimed: Claimed
    result: Result
    outcome: str


class Deliverer:
    """Delivers queued activities, one round per `run_once` (stepped by tests, looped by background/)."""

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
        self.max_attempts = cfg.max_attempts
        self.leases = LeasedWork(rt.db, deliveries.QUEUE, owner or current_owner(), float(cfg.lease_seconds), clock)
        self.limits = PeerLimits(cfg.concurrency, cfg.per_host)
        self.breaker = Breaker(clock)
        self.schemes = Schemes(rt.db)
        self.activities = OutgoingActivities(rt)
        self.health = DomainHealth(rt.db, clock)
        self.presigner = Presigner(cfg, rt.keys.keys_dir, os.cpu_count())

    def close(self) -> None:
        """Stop the signing processes, if any were started."""
        self.presigner.close()

    # -- one round ---------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt them all, record each outcome as it comes."""
        claimed = await self.leases.claim(self.batch)
        if not claimed:
            self.presigner.idle()
            return 0
        await self.health.refresh()
        claimed = interleaved(claimed)
        presigned = await self.presigner.presign(claimed, self.activities, self.schemes, self._deliverable)
        recorder: Recorder[Attempt] = Recorder(self.record_outcomes)
        try:
            # A slow host may hold part of the batch longer than the lease: it is renewed for
            # as long as a delivery is in flight, so no other process claims (and sends) it.
            async with self.leases.held(claimed) as in_flight:

                async def one(c: Claimed) -> Attempt:
                    result = await self.attempt(c, presigned.get(c.id))
                    in_flight.discard(c.id)
                    recorder.add(result)
                    return result

                attempts = await asyncio.gather(*(one(c) for c in claimed))
        finally:
            await recorder.close()
        await self.record_health(attempts)
        return len(claimed)

    def _deliverable(self, claimed: Claimed) -> bool:
        return self.rt.policy.is_allowed(claimed.domain) and claimed.domain not in self.health.unavailable

    # -- one delivery ------------------------------------------------------------------

    async def attempt(self, claimed: Claimed, presigned: Presigned | None = None) -> Attempt:
        """Try one delivery and decide its next state (nothing is written here)."""
        now = self.clock()
        attempts = claimed.attempts + 1
        peer = peer_key(claimed.inbox)

        def final(
            state: DeliveryState, outcome: str, status: int | None, error: str | None, when: float = now
        ) -> Attempt:
            return Attempt(claimed, Result(claimed.id, state, attempts, when, status, error), outcome)

        policy = self.rt.policy
        if not policy.is_allowed(claimed.domain) or not policy.is_allowed(inbox_host(claimed.inbox)):
            return final(DeliveryState.SKIPPED, Outcome.FAILED, None, "domain blocked by federation policy")
        if claimed.domain in self.health.unavailable:
            return final(DeliveryState.SKIPPED, Outcome.FAILED, None, "domain marked unavailable")
        prepared = await self.activities.get(claimed.activity_id)
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
        self, inbox: str, peer: str, prepared: Prepared, presigned: Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        """POST with the peer's known signature scheme, double-knocking on a 4xx."""
        await self.schemes.load()
        known = self.schemes.get(peer)
        scheme = known or DEFAULT_SCHEME
        async with self.limits.slot(peer):
            status, error, retry_after = await self._send(inbox, prepared, scheme, presigned)
            if known is None and scheme == "rfc9421" and status is not None and 400 <= status < 500 and status != 410:
                # Double knock: the peer may not speak RFC 9421 yet; try draft-cavage.
                scheme = "cavage"
                status, error, retry_after = await self._send(inbox, prepared, scheme)
        if status is not None and 200 <= status < 300:
            self.schemes.learn(peer, scheme)  # stored with the next outcomes
        return status, error, retry_after

    async def _send(
        self, inbox: str, prepared: Prepared, scheme: str, presigned: Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        parsed = url_of(inbox)
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

    async def record_outcomes(self, attempts: Sequence[Attempt]) -> None:
        """Write the outcomes of attempts, the schemes peers accepted, and remove followers whose
        inbox is gone, in one transaction (a scheme lost with a failed write is learned again)."""
        gone = {a.claimed.recipient_uri for a in attempts if a.outcome == Outcome.GONE and a.claimed.recipient_uri}
        learned = self.schemes.take_learned()
        async with self.rt.db.transaction() as tx:
            await deliveries.record(tx, [a.result for a in attempts], self.clock())
            for peer, scheme in sorted(learned.items()):
                await peers.remember_scheme(tx, peer, scheme, self.clock())
            for actor_uri in sorted(gone):
                # A personal inbox answering 410: that follower is gone.
                await follows.remove_actor(tx, actor_uri)
        self.rt.metrics.deliveries(_OUTCOME.get(a.result.state, a.result.state.value) for a in attempts)

    async def record_health(self, attempts: Sequence[Attempt]) -> None:
        """Count a round's failures and successes per domain (after all of its outcomes, as one)."""
        failing = {
            a.claimed.domain
            for a in attempts
            if a.result.state != DeliveryState.SKIPPED
            and (a.outcome == Outcome.RETRY or (a.result.state == DeliveryState.FAILED and a.result.status is None))
        }
        await self.health.record(failing, {a.claimed.domain for a in attempts if a.outcome == Outcome.SENT})
