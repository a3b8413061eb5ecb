"""store/queue.py and work/leased.py: one leased queue for deliveries, inbox items and mail, on both backends.

Every queue declares its states and transitions; an illegal move is refused before any
statement and a final row never moves again; leases name their owner, are renewed while the
work is held, handed back when the worker stops, and taken back from a dead owner at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import time
from typing import Any

import pytest

from fediverse_a2.leases import current_owner
from fediverse_a2.runtime import Runtime
from fediverse_a2.store import activities, deliveries, inbox, members, outgoing_mail
from fediverse_a2.store.queue import IllegalTransition, LeasedQueue, Move
from fediverse_a2.work.leased import LeasedWork
from fediverse_a2.work.reclaim import Reclaimer
from helpers import wait_for

NOW = time.time() + 86400  # after every row queued here is due (mail is queued at time.time())
QUEUES: list[LeasedQueue[Any, Any]] = [deliveries.QUEUE, inbox.QUEUE, outgoing_mail.QUEUE]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def _fill(rt: Runtime, queue: LeasedQueue[Any, Any], count: int) -> None:
    """Queue `count` rows on one of the three queues, due at NOW."""
    if queue is deliveries.QUEUE:
        member = await members.create(rt.db, "alice", "Alice", "", "PEM")
        activity = await activities.add(rt.db, "https://a2.test/activities/1", member.id, "Create", None, "{}")
        targets = [(f"https://r{i}.test/inbox", f"r{i}.test", None) for i in range(count)]
        await deliveries.enqueue(rt.db, activity, targets, NOW)
    elif queue is inbox.QUEUE:
        for i in range(count):
            assert await inbox.add(rt.db, f"https://r.test/a/{i}", "https://r.test/u", "r.test", "{}")
    else:
        for i in range(count):
            await outgoing_mail.queue(rt.db, None, f"m{i}@example.org", "Onderwerp", "Tekst", None)


def _states(queue: LeasedQueue[Any, Any]) -> tuple[Any, Any]:
    """A final state of the queue, and a state that is neither waiting nor final (None if none)."""
    final = sorted(queue.final)[0]
    return final, next((s for s in queue.states if s not in queue.final and s != queue.waiting), None)


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
def test_every_queue_declares_where_its_rows_may_go(queue: LeasedQueue[Any, Any]) -> None:
    final, _ = _states(queue)
    assert queue.waiting not in queue.final and queue.final
    assert queue.check(queue.waiting, queue.waiting) == queue.waiting  # a retry waits again
    for state in queue.final:
        for target in queue.states:
            with pytest.raises(IllegalTransition):
                queue.check(state, target)
    with pytest.raises(IllegalTransition):
        queue.check(queue.waiting, "no-such-state")
    with pytest.raises(ValueError, match="every state"):
        dataclasses.replace(queue, transitions={queue.waiting: frozenset({final})})


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_claims_lease_to_an_owner_and_final_rows_never_move(rt: Runtime, queue: LeasedQueue[Any, Any]) -> None:
    me = str(current_owner())
    await _fill(rt, queue, 3)
    first, second, third = sorted(await queue.claim(rt.db, NOW + 1, 60, 10, me), key=lambda i: i.id)
    assert await queue.claim(rt.db, NOW + 2, 60, 10, me) == []  # all leased
    assert await queue.live_owners(rt.db, NOW + 2) == [me]
    final, _ = _states(queue)
    await queue.move(rt.db, [Move(first.id, final)], (), NOW + 3)
    await queue.move_all(rt.db, [second.id], final, NOW + 3)
    # Neither a final row nor an illegal target moves: checked before any statement ...
    with pytest.raises(IllegalTransition):
        await queue.move(rt.db, [Move(third.id, "no-such-state")], ())  # type: ignore[arg-type]
    # ... and a row that left the waiting state is never touched again.
    await queue.move(rt.db, [Move(first.id, queue.waiting)], (), NOW + 4)
    counts = await queue.counts(rt.db)
    assert counts == {final.value: 2, queue.waiting.value: 1}
    # The lease ended with the move: the finished rows are not claimed again, the third one is
    # once its lease runs out.
    assert [i.id for i in await queue.claim(rt.db, NOW + 62, 60, 10, me)] == [third.id]


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_only_the_owner_renews_and_hands_back(rt: Runtime, queue: LeasedQueue[Any, Any]) -> None:
    me, other = current_owner(), dataclasses.replace(current_owner(), host="elsewhere")
    await _fill(rt, queue, 4)
    mine = await queue.claim(rt.db, NOW, 60, 2, str(me))
    theirs = await queue.claim(rt.db, NOW, 60, 2, str(other))
    ids = [i.id for i in mine + theirs]
    await queue.renew(rt.db, ids, NOW + 500, str(me))
    ran_out = await queue.claim(rt.db, NOW + 61, 60, 10, "third")
    assert sorted(i.id for i in ran_out) == sorted(i.id for i in theirs)  # mine were renewed
    assert await queue.hand_back(rt.db, ids, str(me)) == 2
    back = await queue.claim(rt.db, NOW + 62, 60, 10, "third")
    assert sorted(i.id for i in back) == sorted(i.id for i in mine)


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_a_dead_owners_leases_are_taken_back_and_a_live_ones_are_not(
    rt: Runtime, queue: LeasedQueue[Any, Any]
) -> None:
    me = current_owner()
    dead_here = dataclasses.replace(me, pid=_dead_pid())
    dead_elsewhere = dataclasses.replace(me, host="elsewhere", pid=_dead_pid())
    await _fill(rt, queue, 6)
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
    await _fill(rt, queue, 3)
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
