"""The delivery worker: leases queued deliveries, signs and POSTs them, records the outcome.

One dead instance never slows the others: every host has its own small semaphore, a
circuit breaker stops hammering a host that keeps failing, and the overall number of
requests in flight is bounded. Outcomes follow the pure policy in retry.py and the state
machine in store/deliveries.py.

Leases carry this process as their owner (leases.py): they are renewed while in flight, each
outcome is written as soon as it is known (recorder.py), and before claiming, the leases of
a dead predecessor on this host are taken back at once (federation/reclaim.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ...hosts import HostError, host_of, parse_origin
from ...httpclient import FetchError
from ...keys import INSTANCE_KEY
from ...leases import LeaseOwner, current_owner
from ...runtime import Runtime
from ...store import activities, deliveries, domain_health, follows, peers
from ...store.deliveries import Claimed, DeliveryState, Result
from ..reclaim import Reclaimer
from ..retry import Outcome, backoff, classify, parse_retry_after
from .breaker import Breaker
from .recorder import Recorder
from .signing import SIGN_CHUNK, DeliveryAuth, Presigned, Signer, init_signing_process, retrieve, sign_chunk

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


def _inbox_host(inbox: str) -> str:
    """The policy host of an inbox URL (a shared inbox may live on another domain than its actor)."""
    try:
        return host_of(inbox)
    except HostError:
        return ""


def _peer_key(inbox: str) -> str:
    """Which peer a delivery goes to, for semaphores, the breaker and the remembered scheme."""
    try:
        return parse_origin(inbox).authority
    except HostError:
        return inbox


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
        self._schemes_loaded = False
        self._activities: OrderedDict[int, _Prepared] = OrderedDict()
        self.unavailable: set[str] = set()
        self.signing_processes = cfg.signing_processes
        self._pool: ProcessPoolExecutor | None = None

    def _signing_pool(self) -> ProcessPoolExecutor | None:
        """The signing processes, started on first use (spawned: this process has threads)."""
        if self.signing_processes <= 0:
            return None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.signing_processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_signing_process,
                initargs=(str(self.rt.keys.keys_dir),),
            )
        return self._pool

    def close(self) -> None:
        """Stop the signing processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- one round ---------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt them all, record each outcome as it comes."""
        await self.reclaimer.run_due()
        owner = str(self.owner)
        claimed = await deliveries.claim(self.rt.db, self.clock(), self.lease, self.batch, owner)
        if not claimed:
            return 0
        await self.refresh_unavailable()
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
        """With signing processes: start signing the whole batch there, SIGN_CHUNK per task
        (one task per delivery would cost as much in pickling and wake-ups as the signature)."""
        pool = self._signing_pool()
        if pool is None:
            return {}
        await self._load_schemes()
        loop = asyncio.get_running_loop()
        now = time.time()  # the Date/created of the signature, as signing here would use now
        jobs: list[tuple[int, str, tuple[str, str, str, bytes, str, float]]] = []
        for c in claimed:
            prepared = await self._prepared(c.activity_id) if self._deliverable(c) else None
            if prepared is None:
                continue
            scheme = self.schemes.get(_peer_key(c.inbox)) or DEFAULT_SCHEME
            url = str(httpx.URL(c.inbox))
            signer = prepared.signer
            jobs.append((c.id, scheme, (signer.key_name, signer.key_id, url, prepared.body, scheme, now)))
        out: dict[int, Presigned] = {}
        for start in range(0, len(jobs), SIGN_CHUNK):
            chunk = jobs[start : start + SIGN_CHUNK]
            future = loop.run_in_executor(pool, sign_chunk, [job for _, _, job in chunk])
            future.add_done_callback(retrieve)
            for index, (delivery_id, scheme, job) in enumerate(chunk):
                out[delivery_id] = Presigned(future, index, job[2], scheme)
        return out

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
            await peers.remember_scheme(self.rt.db, peer, scheme, self.clock())
        return status, error, retry_after

    async def _send(
        self, inbox: str, prepared: _Prepared, scheme: str, presigned: Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        auth = DeliveryAuth(prepared.signer, scheme, presigned)
        try:
            async with self.rt.http.stream("POST", inbox, content=prepared.body, headers=_HEADERS, auth=auth) as resp:
                status = resp.status_code
                retry_after = parse_retry_after(resp.headers.get("retry-after"), self.clock())
        except FetchError as exc:
            return None, exc.reason, None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__, None
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return status, error, retry_after

    # -- bookkeeping -------------------------------------------------------------------

    async def record_outcomes(self, attempts: Sequence[_Attempt]) -> None:
        """Write the outcomes of attempts, and remove followers whose inbox is gone, in one transaction."""
        gone = {a.claimed.recipient_uri for a in attempts if a.outcome == Outcome.GONE and a.claimed.recipient_uri}
        async with self.rt.db.transaction() as tx:
            await deliveries.record(tx, [a.result for a in attempts], self.clock())
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
    row = await activities.with_sender(rt.db, activity_id)
    if row is None:
        return None
    username = row["username"]
    if username:
        # An archive member's key pair is made on first need (its public half reaches the actor
        # document through services.members.ensure_key): signing a delivery is such a need.
        signer = Signer(rt.urls.key(username), username, await asyncio.to_thread(rt.keys.ensure, username))
    else:
        signer = Signer(rt.urls.instance_key, INSTANCE_KEY, rt.keys.load(INSTANCE_KEY))
    return _Prepared(row["body"].encode("utf-8"), signer)
