"""Presigning: a claimed batch's signatures started in the signing processes before sending.

With signing processes (`delivery.signing_processes`, signpool.py), the deliverer hands the
whole batch here first: each deliverable delivery becomes a job (its activity's signer and
body, its URL as signed, the scheme its peer is known to accept, one time for all), and the
pool signs them in chunks while the deliverer sends. A delivery whose scheme or URL turns out
different (the double knock) is signed in the delivering process instead (signing.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ...config import DeliveryConfig
from ...store.deliveries import Claimed
from .activities import OutgoingActivities
from .schemes import DEFAULT_SCHEME, Schemes
from .signing import Presigned, SignJob
from .signpool import SigningPool
from .targets import peer_key, url_of

__all__ = ["Presigner"]


class Presigner:
    """Starts a batch's signatures in the signing processes, when there are any."""

    def __init__(self, cfg: DeliveryConfig, keys_dir: Path, cpus: int | None) -> None:
        processes = cfg.signing_processes_here(cpus)
        self.pool = SigningPool(processes, keys_dir, auto=cfg.signing_processes < 0) if processes > 0 else None

    async def presign(
        self,
        claimed: Sequence[Claimed],
        activities: OutgoingActivities,
        schemes: Schemes,
        deliverable: Callable[[Claimed], bool],
    ) -> dict[int, Presigned]:
        """The presigned headers of each delivery id (none without processes, or for a small batch)."""
        pool = self.pool
        if pool is None:
            return {}
        await schemes.load()
        now = time.time()  # the Date/created of the signature, as signing here would use now
        jobs: list[tuple[int, SignJob]] = []
        for c in claimed:
            prepared = await activities.get(c.activity_id) if deliverable(c) else None
            url = url_of(c.inbox)
            if prepared is None or url is None:
                continue
            scheme = schemes.get(peer_key(c.inbox)) or DEFAULT_SCHEME
            signer = prepared.signer
            jobs.append((c.id, (signer.key_name, signer.key_id, url[1], prepared.body, scheme, now)))
        if not jobs or not pool.wanted(len(jobs)):
            return {}
        if not pool.ready:
            pool.start()  # this batch is signed here while the processes start
            return {}
        return pool.presign(jobs)

    def idle(self) -> None:
        """Nothing to deliver: stop processes that have been idle long enough."""
        if self.pool is not None:
            self.pool.stop_if_idle()

    def close(self) -> None:
        """Stop the signing processes, if any were started."""
        if self.pool is not None:
            self.pool.close()
