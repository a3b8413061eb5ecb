"""work/leased.py: the one runner of the leased queues, on each of the three and both backends.

The first claim of a process takes back a dead owner's leases on this host at once and never
a live owner's; held work is renewed while it runs; a worker that stops hands back what it
had not finished.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest

from fediverse_a2.leases import current_owner
from fediverse_a2.runtime import Runtime
from fediverse_a2.store.queue import LeasedQueue
from fediverse_a2.work.leased import LeasedWork
from fediverse_a2.work.reclaim import Reclaimer
from helpers import wait_for
from queues import QUEUES, ended_pid, fill

NOW = time.time() + 86400  # after every row queued here is due (mail is queued at time.time())


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_a_dead_owners_leases_are_taken_back_and_a_live_ones_are_not(
    rt: Runtime, queue: LeasedQueue[Any, Any]
) -> None:
    me = current_owner()
    dead_here = dataclasses.replace(me, pid=ended_pid())
    dead_elsewhere = dataclasses.replace(me, host="elsewhere", pid=ended_pid())
    await fill(rt, queue, 6, NOW)
    for owner in (me, dead_here, dead_elsewhere):
        assert len(await queue.claim(rt.db, NOW, 3600, 2, str(owner))) == 2
    work = LeasedWork(rt.db, queue, me, 3600, lambda: NOW + 1)
    # The first claim of a process takes back the dead owner's leases on this host at once.
    taken = await work.claim(10)
    assert len(taken) == 2
    owners = await queue.live_owners(rt.db, NOW + 1)
    assert sorted(owners) == sorted([str(me), str(dead_elsewhere)])
    assert await Reclaimer(rt.db, queue, me, 60, lambda: NOW + 2).run_due() == 0  # nothing dead left here


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_held_work_is_renewed_and_handed_back_when_the_worker_stops(
    rt: Runtime, queue: LeasedQueue[Any, Any]
) -> None:
    clock = [NOW]
    work = LeasedWork(rt.db, queue, current_owner(), 0.3, lambda: clock[0])
    await fill(rt, queue, 3, NOW)
    items = await work.claim(10)
    first_lease = NOW + 0.3
    inside = asyncio.Event()

    async def worker() -> None:
        async with work.held(items) as pending:
            pending.discard(items[0].id)  # finished: no longer renewed
            inside.set()
            await asyncio.Event().wait()  # until cancelled, like a worker stopped by SIGTERM

    task = asyncio.create_task(worker())
    await inside.wait()
    clock[0] = NOW + 100  # the keeper renews to (clock + lease)

    async def renewed() -> bool:
        leases = await _leases(rt, queue)
        return leases[items[1].id][0] == (NOW + 100) + 0.3

    await wait_for(renewed, what="the held leases to be renewed")
    leases = await _leases(rt, queue)
    assert leases[items[0].id][0] == first_lease  # the finished one was left alone
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    leases = await _leases(rt, queue)
    assert leases[items[1].id] == leases[items[2].id] == (None, None)  # handed back
    assert leases[items[0].id] == (first_lease, str(current_owner()))


async def _leases(rt: Runtime, queue: LeasedQueue[Any, Any]) -> dict[int, tuple[float | None, str | None]]:
    rows = await rt.db.fetchall(f"SELECT id, locked_until, lease_owner FROM {queue.table}")
    return {r[0]: (r[1], r[2]) for r in rows}
