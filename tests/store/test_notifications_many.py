"""Notifications written together (store/notifications.py add_many), as the inbox worker's runs
write their reply notifications: once per activity, member and kind, on both backends."""

from __future__ import annotations

from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import notifications
from fediverse_a2.store.notifications import NewNotification

ACTOR = "https://remote.test/users/a"


def _new(member_id: int, activity: str, kind: str = "reply", text: str | None = None) -> NewNotification:
    return NewNotification(member_id, kind, ACTOR, "A", ACTOR, f"{activity}#page", activity, text)


async def test_many_at_once_each_once(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice")
    bob = await add_member(rt, "bob", "Bob")
    assert await notifications.add(rt.db, alice.id, "reply", ACTOR, "A", ACTOR, "x#page", "x")
    await notifications.add_many(
        rt.db,
        [
            _new(alice.id, "x"),  # stored before, alone
            _new(alice.id, "y"),
            _new(alice.id, "y"),  # twice in one call
            _new(alice.id, "y", kind="mention"),  # another kind of the same activity
            _new(bob.id, "y", text="<p>privé</p>"),
        ],
    )
    await notifications.add_many(rt.db, [])
    rows = await rt.db.fetchall(
        "SELECT member_id, kind, activity_id, content_html, created_at > 0 FROM notifications ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        (alice.id, "reply", "x", None, True),
        (alice.id, "reply", "y", None, True),
        (alice.id, "mention", "y", None, True),
        (bob.id, "reply", "y", "<p>privé</p>", True),
    ]
