"""store/queue.py: one leased queue for deliveries, inbox items and mail, on both backends.

Every queue declares its states and transitions; an illegal move is refused before any
statement and a final row never moves again; leases name their owner, only the owner renews
or hands them back. (The runner around it, work/leased.py: tests/work/test_leased.py.)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from fediverse_a2.leases import current_owner
from fediverse_a2.runtime import Runtime
from fediverse_a2.store.queue import IllegalTransition, LeasedQueue, Move
from queues import QUEUES, fill

NOW = time.time() + 86400  # after every row queued here is due (mail is queued at time.time())


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
    await fill(rt, queue, 3, NOW)
    first, second, third = sorted(await queue.claim(rt.db, NOW + 1, 60, 10, me), key=lambda i: i.id)
    assert await queue.claim(rt.db, NOW + 2, 60, 10, me) == []  # all leased
    assert await queue.live_owners(rt.db, NOW + 2) == [me]
    final, _ = _states(queue)
    await queue.move(rt.db, [Move(first.id, final)], (), NOW + 3)
    await queue.move_all(rt.db, [second.id], final, NOW + 3)
    # Neither a final row nor an illegal target moves: checked before any statement ...
    with pytest.raises(IllegalTransition):
        await queue.move(rt.db, [Move(third.id, "no-such-state")], ())  # type: ignore[arg-type]
    # ... and a row that left the waiting state is never touched again, nor leased by a late renewal.
    await queue.move(rt.db, [Move(first.id, queue.waiting)], (), NOW + 4)
    await queue.renew(rt.db, [first.id, second.id], NOW + 500, me)
    rows = await rt.db.fetchall(f"SELECT locked_until, lease_owner FROM {queue.table} WHERE id IN (?, ?)",
                                (first.id, second.id))  # fmt: skip
    assert [tuple(r) for r in rows] == [(None, None), (None, None)]
    counts = await queue.counts(rt.db)
    assert counts == {final.value: 2, queue.waiting.value: 1}
    # The lease ended with the move: the finished rows are not claimed again, the third one is
    # once its lease runs out.
    assert [i.id for i in await queue.claim(rt.db, NOW + 62, 60, 10, me)] == [third.id]


@pytest.mark.parametrize("queue", QUEUES, ids=lambda q: q.table)
async def test_only_the_owner_renews_and_hands_back(rt: Runtime, queue: LeasedQueue[Any, Any]) -> None:
    me, other = current_owner(), dataclasses.replace(current_owner(), host="elsewhere")
    await fill(rt, queue, 4, NOW)
    mine = await queue.claim(rt.db, NOW, 60, 2, str(me))
    theirs = await queue.claim(rt.db, NOW, 60, 2, str(other))
    ids = [i.id for i in mine + theirs]
    await queue.renew(rt.db, ids, NOW + 500, str(me))
    ran_out = await queue.claim(rt.db, NOW + 61, 60, 10, "third")
    assert sorted(i.id for i in ran_out) == sorted(i.id for i in theirs)  # mine were renewed
    assert await queue.hand_back(rt.db, ids, str(me)) == 2
    back = await queue.claim(rt.db, NOW + 62, 60, 10, "third")
    assert sorted(i.id for i in back) == sorted(i.id for i in mine)
