"""Shared helpers for the tests of the leased queues (store/queue.py, work/leased.py, the workers)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from fediverse_a2.runtime import Runtime
from fediverse_a2.store import activities, deliveries, inbox, members, outgoing_mail
from fediverse_a2.store.queue import LeasedQueue

QUEUES: list[LeasedQueue[Any, Any]] = [deliveries.QUEUE, inbox.QUEUE, outgoing_mail.QUEUE]


def ended_pid() -> int:
    """The pid of a process of this host that has just ended (a dead lease owner)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def fill(rt: Runtime, queue: LeasedQueue[Any, Any], count: int, due: float) -> None:
    """Queue `count` rows on one of the three queues, due by `due` (mail is queued at time.time())."""
    if queue is deliveries.QUEUE:
        member = await members.create(rt.db, "alice", "Alice", "", "PEM")
        activity = await activities.add(rt.db, "https://a2.test/activities/1", member.id, "Create", None, "{}")
        targets = [(f"https://r{i}.test/inbox", f"r{i}.test", None) for i in range(count)]
        await deliveries.enqueue(rt.db, activity, targets, due)
    elif queue is inbox.QUEUE:
        for i in range(count):
            assert await inbox.add(rt.db, f"https://r.test/a/{i}", "https://r.test/u", "r.test", "{}")
    else:
        for i in range(count):
            await outgoing_mail.queue(rt.db, None, f"m{i}@example.org", "Onderwerp", "Tekst", None)
