"""Reset links and members by e-mail address, on SQLite and PostgreSQL: once only, every link of the
member ends with one, expired ones are refused and pruned."""

from __future__ import annotations

import time

from fediverse_a2.runtime import Runtime
from fediverse_a2.services.members import add_member
from fediverse_a2.store import members, password_resets


async def test_a_link_is_taken_once_and_ends_the_members_other_links(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice", email="Alice@Example.org")
    bob = await add_member(rt, "bob", "Bob", email="bob@example.org")
    now = time.time()
    for token, member, expires in (("a1", alice, now + 3600), ("a2", alice, now + 3600), ("b1", bob, now + 3600),
                                   ("old", alice, now - 1)):  # fmt: skip
        await password_resets.create(rt.db, token, member.id, now - 10, expires)
    assert await password_resets.valid_member(rt.db, "a1", now) == alice.id
    assert await password_resets.valid_member(rt.db, "old", now) is None  # expired
    assert await password_resets.take(rt.db, "old", now) is None
    assert await password_resets.take(rt.db, "nope", now) is None
    async with rt.db.transaction() as tx:
        assert await password_resets.take(tx, "a1", now) == alice.id
    assert await password_resets.take(rt.db, "a1", now) is None  # once only
    assert await password_resets.valid_member(rt.db, "a2", now) is None  # alice's other link ended too
    assert await password_resets.valid_member(rt.db, "b1", now) == bob.id  # bob's did not
    assert await password_resets.prune(rt.db, now + 3601) == 1
    assert await password_resets.valid_member(rt.db, "b1", now) is None


async def test_members_are_found_by_address_in_any_case(rt: Runtime) -> None:
    alice = await add_member(rt, "alice", "Alice", email="Alice@Example.org")
    second = await add_member(rt, "alice2", "Alice (tweede account)", email="alice@example.ORG")
    await add_member(rt, "bob", "Bob", email="bob@example.org")
    await add_member(rt, "nomail", "Zonder Adres")
    assert [m.id for m in await members.by_email(rt.db, "ALICE@example.org")] == [alice.id, second.id]
    assert await members.by_email(rt.db, "carol@example.org") == []
    assert await members.by_email(rt.db, "") == []
