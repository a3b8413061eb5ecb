"""The delivery worker: leases queued deliveries, signs and POSTs them, records the outcome.

One dead instance never slows the others: every host has its own small semaphore, a
circuit breaker stops hammering a host that keeps failing, and the overall number of
requests in flight is bounded. Outcomes follow the pure policy in retry.py and the state
machine in store/deliveries.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..keys import INSTANCE_KEY, KeyStore
from ..runtime import Runtime
from ..signatures import SignatureAuth, sign_headers
from ..store import deliveries
from ..store.db import Executor
from ..store.deliveries import Claimed, Result
from .fetch import FetchError
from .policy import host_of
from .retry import Outcome, backoff, classify, parse_retry_after

__all__ = ["Deliverer", "UNAVAILABLE_AFTER_DAYS"]

log = logging.getLogger(__name__)

UNAVAILABLE_AFTER_DAYS = 7
BREAKER_FAILURES = 10
BREAKER_SECONDS = 60.0
ACTIVITY_CACHE = 64
DEFAULT_SCHEME = "rfc9421"


@dataclass(frozen=True)
class _Prepared:
    body: bytes
    key_id: str
    key: object
    key_name: str  # the KeyStore name, for signing in another process


# -- signing in a process pool (delivery.signing_processes > 0) ----------------------------

_worker_keys_dir: Path | None = None
_worker_keys: dict[str, Any] = {}


def _init_signer(keys_dir: str) -> None:
    global _worker_keys_dir
    _worker_keys_dir = Path(keys_dir)


def _sign_in_worker(
    key_name: str, key_id: str, method: str, url: str, body: bytes, scheme: str, now: float
) -> dict[str, str]:
    """Runs in a pool process: each private key is read from its file once per process."""
    key = _worker_keys.get(key_name)
    if key is None:
        assert _worker_keys_dir is not None
        key = _worker_keys[key_name] = KeyStore(_worker_keys_dir).load(key_name)
    return sign_headers(method, url, body, key_id, key, scheme=scheme, now=now)


def _sign_many(jobs: list[tuple[str, str, str, bytes, str, float]]) -> list[dict[str, str]]:
    """Runs in a pool process: the signature headers of a chunk of POSTs."""
    return [_sign_in_worker(name, key_id, "POST", url, body, scheme, now) for name, key_id, url, body, scheme, now in jobs]


SIGN_CHUNK = 32


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True)
class _Presigned:
    """Signature headers being computed in the pool for one delivery."""

    future: asyncio.Future[list[dict[str, str]]]
    index: int
    url: str
    scheme: str


class _PresignedAuth(httpx.Auth):
    """Puts the pool's signature headers on the request; signs here if the request differs."""

    requires_request_body = True

    def __init__(self, presigned: _Presigned, fallback: SignatureAuth) -> None:
        self.presigned, self.fallback = presigned, fallback

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        try:
            headers: dict[str, str] | None = (await self.presigned.future)[self.presigned.index]
        except Exception:  # a broken pool must not stop deliveries: sign here instead
            log.warning("signing process failed; signing in the server process", exc_info=True)
            headers = None
        if headers is None or str(request.url) != self.presigned.url:  # never a signature for another URL
            headers = sign_headers(request.method, str(request.url), request.content, self.fallback.key_id,
                                   self.fallback.private_key, scheme=self.fallback.scheme)
        request.headers.update(headers)
        yield request


@dataclass(frozen=True)
class _Attempt:
    claimed: Claimed
    result: Result
    outcome: str


def _inbox_host(inbox: str) -> str:
    """The policy host of an inbox URL (a shared inbox may live on another domain than its actor)."""
    try:
        return host_of(inbox)
    except ValueError:
        return ""


class _Breaker:
    """Per-host circuit breaker: after N failures in a row, skip the host for a while."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.failures: dict[str, int] = {}
        self.open_until: dict[str, float] = {}

    def is_open(self, host: str) -> bool:
        return self.open_until.get(host, 0.0) > self.clock()

    def record(self, host: str, ok: bool) -> None:
        if ok:
            self.failures.pop(host, None)
            self.open_until.pop(host, None)
            return
        count = self.failures.get(host, 0) + 1
        self.failures[host] = count
        if count >= BREAKER_FAILURES:
            self.open_until[host] = self.clock() + BREAKER_SECONDS
            self.failures[host] = 0


class Deliverer:
    """Delivers queued activities; `run_once` for tests, `run_forever` for serve."""

    def __init__(self, rt: Runtime, clock: Callable[[], float] = time.time, batch: int = 256) -> None:
        self.rt = rt
        self.clock = clock
        self.batch = batch
        cfg = rt.config.delivery
        self.lease = float(cfg.lease_seconds)
        self.max_attempts = cfg.max_attempts
        self.slots = asyncio.Semaphore(cfg.concurrency)
        self.per_host = cfg.per_host
        self.host_slots: dict[str, asyncio.Semaphore] = {}
        self.breaker = _Breaker(clock)
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
                self.signing_processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_signer, initargs=(str(self.rt.keys.keys_dir),),
            )
        return self._pool

    def close(self) -> None:
        """Stop the signing processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- one round ---------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt them all, record the outcomes."""
        claimed = await deliveries.claim(self.rt.db, self.clock(), self.lease, self.batch)
        if not claimed:
            return 0
        await self.refresh_unavailable()
        presigned = await self._presign(claimed)
        # A slow host may hold part of the batch longer than the lease: keep renewing it,
        # so another process never claims (and sends again) work that is still in flight.
        keeper = asyncio.create_task(self._keep_leased([c.id for c in claimed]))
        try:
            attempts = await asyncio.gather(*(self.attempt(c, presigned.get(c.id)) for c in claimed))
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        await self.record(attempts)
        return len(claimed)

    async def _keep_leased(self, ids: list[int]) -> None:
        """Extend the lease of in-flight deliveries every third of the lease time."""
        marks = ", ".join("?" * len(ids))
        while True:
            await asyncio.sleep(self.lease / 3)
            await self.rt.db.execute(
                f"UPDATE deliveries SET locked_until = ? WHERE state = 'pending' AND id IN ({marks})",
                (self.clock() + self.lease, *ids),
            )

    async def _presign(self, claimed: list[Claimed]) -> dict[int, _Presigned]:
        """With signing processes: start signing the whole batch there, SIGN_CHUNK per task
        (one task per delivery would cost as much in pickling and wake-ups as the signature)."""
        pool = self._signing_pool()
        if pool is None:
            return {}
        await self._load_schemes()
        loop = asyncio.get_running_loop()
        now = time.time()  # the Date/created of the signature, as SignatureAuth would sign now
        jobs: list[tuple[int, str, tuple[str, str, str, bytes, str, float]]] = []
        for c in claimed:
            if not self.rt.policy.is_allowed(c.domain) or c.domain in self.unavailable:
                continue
            prepared = await self._prepared(c.activity_id)
            if prepared is None:
                continue
            scheme = self.schemes.get(urlsplit(c.inbox).netloc) or DEFAULT_SCHEME
            url = str(httpx.URL(c.inbox))
            jobs.append((c.id, scheme, (prepared.key_name, prepared.key_id, url, prepared.body, scheme, now)))
        out: dict[int, _Presigned] = {}
        for start in range(0, len(jobs), SIGN_CHUNK):
            chunk = jobs[start : start + SIGN_CHUNK]
            future = loop.run_in_executor(pool, _sign_many, [job for _, _, job in chunk])
            future.add_done_callback(_retrieve)  # an unused failed chunk must not warn at exit
            for index, (delivery_id, scheme, job) in enumerate(chunk):
                out[delivery_id] = _Presigned(future, index, job[2], scheme)
        return out

    async def refresh_unavailable(self) -> None:
        """Reload the set of domains marked unavailable."""
        rows = await self.rt.db.fetchall("SELECT domain FROM domain_status WHERE unavailable = 1")
        self.unavailable = {r["domain"] for r in rows}

    async def _load_schemes(self) -> None:
        if not self._schemes_loaded:
            rows = await self.rt.db.fetchall("SELECT host, signature_scheme FROM peer_hosts")
            self.schemes.update({r["host"]: r["signature_scheme"] for r in rows})
            self._schemes_loaded = True

    async def _prepared(self, activity_id: int) -> _Prepared | None:
        cached = self._activities.get(activity_id)
        if cached is not None:
            self._activities.move_to_end(activity_id)
            return cached
        row = await self.rt.db.fetchone(
            "SELECT a.body, m.username FROM activities a LEFT JOIN members m ON m.id = a.member_id WHERE a.id = ?",
            (activity_id,),
        )
        if row is None:
            return None
        username = row["username"]
        if username:
            key_id, key, name = self.rt.urls.key(username), self.rt.keys.load(username), username
        else:
            key_id, key, name = self.rt.urls.instance_key, self.rt.keys.load(INSTANCE_KEY), INSTANCE_KEY
        prepared = _Prepared(row["body"].encode("utf-8"), key_id, key, name)
        self._activities[activity_id] = prepared
        if len(self._activities) > ACTIVITY_CACHE:
            self._activities.popitem(last=False)
        return prepared

    # -- one delivery ------------------------------------------------------------------

    async def attempt(self, claimed: Claimed, presigned: _Presigned | None = None) -> _Attempt:
        """Try one delivery and decide its next state (nothing is written here)."""
        now = self.clock()
        attempts = claimed.attempts + 1
        host = urlsplit(claimed.inbox).netloc

        def final(state: str, outcome: str, status: int | None, error: str | None, when: float = now) -> _Attempt:
            return _Attempt(claimed, Result(claimed.id, state, attempts, when, status, error), outcome)

        if not self.rt.policy.is_allowed(claimed.domain) or not self.rt.policy.is_allowed(_inbox_host(claimed.inbox)):
            return final("skipped", Outcome.FAILED, None, "domain blocked by federation policy")
        if claimed.domain in self.unavailable:
            return final("skipped", Outcome.FAILED, None, "domain marked unavailable")
        prepared = await self._prepared(claimed.activity_id)
        if prepared is None:
            return final("failed", Outcome.FAILED, None, "activity no longer exists")
        if self.breaker.is_open(host):
            status, error, retry_after = None, "circuit open after repeated failures", None
        else:
            status, error, retry_after = await self._post(claimed.inbox, host, prepared, presigned)
        outcome = classify(status)
        self.breaker.record(host, outcome in (Outcome.SENT, Outcome.GONE, Outcome.FAILED))
        if outcome == Outcome.SENT:
            return final("sent", outcome, status, None)
        if outcome == Outcome.GONE:
            return final("gone", outcome, status, error)
        if outcome == Outcome.FAILED:
            return final("failed", outcome, status, error)
        if attempts >= self.max_attempts:
            return final("failed", outcome, status, f"gave up after {attempts} attempts: {error}")
        delay = max(backoff(attempts), retry_after or 0.0)
        return final("pending", outcome, status, error, now + delay)

    async def _post(
        self, inbox: str, host: str, prepared: _Prepared, presigned: _Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        """POST with the host's known signature scheme, double-knocking on a 4xx."""
        await self._load_schemes()
        known = self.schemes.get(host)
        scheme = known or DEFAULT_SCHEME
        slots = self.host_slots.setdefault(host, asyncio.Semaphore(self.per_host))
        async with slots, self.slots:
            status, error, retry_after = await self._send(inbox, prepared, scheme, presigned)
            if known is None and scheme == "rfc9421" and status is not None and 400 <= status < 500 and status != 410:
                # Double knock: the peer may not speak RFC 9421 yet; try draft-cavage.
                scheme = "cavage"
                status, error, retry_after = await self._send(inbox, prepared, scheme)
        if status is not None and 200 <= status < 300 and known != scheme:
            await self._remember_scheme(host, scheme)
        return status, error, retry_after

    async def _send(
        self, inbox: str, prepared: _Prepared, scheme: str, presigned: _Presigned | None = None
    ) -> tuple[int | None, str | None, float | None]:
        auth: httpx.Auth = SignatureAuth(prepared.key_id, prepared.key, scheme)  # type: ignore[arg-type]
        if presigned is not None and presigned.scheme == scheme:
            auth = _PresignedAuth(presigned, auth)  # type: ignore[arg-type]
        headers = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}
        try:
            async with self.rt.http.stream("POST", inbox, content=prepared.body, headers=headers, auth=auth) as resp:
                status = resp.status_code
                retry_after = parse_retry_after(resp.headers.get("retry-after"), self.clock())
        except FetchError as exc:
            return None, exc.reason, None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__, None
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return status, error, retry_after

    async def _remember_scheme(self, host: str, scheme: str) -> None:
        self.schemes[host] = scheme
        await self.rt.db.execute(
            "INSERT INTO peer_hosts (host, signature_scheme, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (host) DO UPDATE SET signature_scheme = excluded.signature_scheme, updated_at = excluded.updated_at",
            (host, scheme, self.clock()),
        )

    # -- bookkeeping -------------------------------------------------------------------

    async def record(self, attempts: list[_Attempt]) -> None:
        """Write outcomes, follower removals and domain health in one transaction."""
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        gone = {a.claimed.recipient_uri for a in attempts if a.outcome == Outcome.GONE and a.claimed.recipient_uri}
        failing = {
            a.claimed.domain
            for a in attempts
            if a.result.state != "skipped"
            and (a.outcome == Outcome.RETRY or (a.result.state == "failed" and a.result.status is None))
        }
        healthy = {a.claimed.domain for a in attempts if a.outcome == Outcome.SENT} - failing
        async with self.rt.db.transaction() as tx:
            await deliveries.record(tx, [a.result for a in attempts], now)
            for actor_uri in sorted(gone):
                # A personal inbox answering 410: that follower is gone.
                await tx.execute("DELETE FROM followers WHERE actor_uri = ?", (actor_uri,))
            for domain in sorted(failing):
                await tx.execute(
                    "INSERT INTO domain_failures (domain, day) VALUES (?, ?) ON CONFLICT DO NOTHING", (domain, day)
                )
                days = await tx.fetchval("SELECT COUNT(*) FROM domain_failures WHERE domain = ?", (domain,))
                if days >= UNAVAILABLE_AFTER_DAYS:
                    await _set_unavailable(tx, domain, True, now)
                    self.unavailable.add(domain)
            for domain in sorted(healthy):
                await tx.execute("DELETE FROM domain_failures WHERE domain = ?", (domain,))
                if domain in self.unavailable:
                    await _set_unavailable(tx, domain, False, now)
                    self.unavailable.discard(domain)


async def _set_unavailable(tx: Executor, domain: str, value: bool, now: float) -> None:
    await tx.execute(
        "INSERT INTO domain_status (domain, unavailable, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (domain) DO UPDATE SET unavailable = excluded.unavailable, updated_at = excluded.updated_at",
        (domain, 1 if value else 0, now),
    )
