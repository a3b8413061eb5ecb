"""One leased queue over a declared state table: the SQL every queue of this service shares.

Takahē's stator idea: every stateful queue (deliveries, inbox_items, outgoing_mail) has the
same columns, and one module claims, renews, hands back and reclaims its rows:

    state            one of the table's declared states (a StrEnum)
    attempts         how often the work was tried
    next_attempt_at  not claimed before this time (a retry waits here)
    locked_until     a claim is a lease until this time ...
    lease_owner      ... held by this process (leases.LeaseOwner as text)
    last_error       why the last attempt did not finish it

Rows are claimed only from the one `waiting` state, and a lease is not a state: it is
`locked_until` with its owner. Every change of state is checked against the declared
transitions before a statement is sent (IllegalTransition), and the statement only touches
rows still in the waiting state, so a row can never leave a final state.

Each queue's store module declares its `LeasedQueue` (states, order of claiming, the columns
a claim returns and how they become that module's frozen dataclass); the runner that uses
these (reclaim, claim, renew while working, hand back) is `work/leased.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from .db import Executor

__all__ = ["IllegalTransition", "Item", "LeasedQueue", "Move"]


class Item(Protocol):
    """What a claimed row becomes: anything with the row's id."""

    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=Item)
S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    """A change of state that a queue's declared state machine does not allow."""


@dataclass(frozen=True)
class Move:
    """One leased row's next state, with the values of the queue's `move` columns in order."""

    id: int
    state: StrEnum
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LeasedQueue(Generic[S, T]):
    """A queue table, its declared states and transitions, and how a claimed row is read.

    `order` is the ORDER BY of a claim; `returning` the columns a claim reads, turned into
    a `T` by `read`; `counts_on_claim` counts an attempt when a row is claimed (the inbox:
    a crash then counts too) instead of when its outcome is written; `touched` names a
    column set to the current time by every claim and move.
    """

    table: str
    states: type[S]
    waiting: S
    transitions: Mapping[S, frozenset[S]]
    order: str
    returning: str
    read: Callable[[Any], T]
    counts_on_claim: bool = False
    touched: str | None = None
    final: frozenset[S] = field(init=False)

    def __post_init__(self) -> None:
        if set(self.transitions) != set(self.states):
            raise ValueError(f"{self.table}: every state needs its transitions declared")
        object.__setattr__(self, "final", frozenset(s for s, nxt in self.transitions.items() if not nxt))

    # -- the state machine -------------------------------------------------------------

    def check(self, old: str, new: str) -> S:
        """The new state; IllegalTransition for a transition (or a state) not declared."""
        try:
            allowed = self.transitions[self.states(old)]
            target = self.states(new)
        except ValueError:
            raise IllegalTransition(f"unknown {self.table} state in {old} -> {new}") from None
        if target not in allowed:
            raise IllegalTransition(f"illegal {self.table} transition {old} -> {new}")
        return target

    # -- claiming and leases -----------------------------------------------------------

    async def claim(self, db: Executor, now: float, lease_seconds: float, limit: int, owner: str) -> list[T]:
        """Lease up to `limit` due rows to `owner` (rows leased to nobody, or whose lease ran out)."""
        skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
        extra = ", attempts = attempts + 1" if self.counts_on_claim else ""
        params: list[Any] = [now + lease_seconds, owner]
        if self.touched:
            extra += f", {self.touched} = ?"
            params.append(now)
        rows = await db.fetchall(
            f"""UPDATE {self.table} SET locked_until = ?, lease_owner = ?{extra}
                WHERE id IN (SELECT id FROM {self.table}
                             WHERE state = ? AND next_attempt_at <= ?
                               AND (locked_until IS NULL OR locked_until <= ?)
                             ORDER BY {self.order} LIMIT ?{skip_locked})
                RETURNING {self.returning}""",
            (*params, self.waiting.value, now, now, limit),
        )
        return [self.read(row) for row in rows]

    async def renew(self, db: Executor, ids: Sequence[int], until: float, owner: str) -> None:
        """Extend `owner`'s leases of these rows, if still waiting and still its own."""
        if ids:
            await db.execute(
                f"UPDATE {self.table} SET locked_until = ? WHERE state = ? AND locked_until IS NOT NULL "
                f"AND lease_owner = ? AND id IN ({_marks(ids)})",
                (until, self.waiting.value, owner, *ids),
            )

    async def hand_back(self, db: Executor, ids: Sequence[int], owner: str) -> int:
        """Give `owner`'s leases of these rows back to the queue now (a worker that stops)."""
        if not ids:
            return 0
        return await db.execute(
            f"UPDATE {self.table} SET locked_until = NULL, lease_owner = NULL WHERE state = ? "
            f"AND lease_owner = ? AND id IN ({_marks(ids)})",
            (self.waiting.value, owner, *ids),
        )

    async def live_owners(self, db: Executor, now: float) -> list[str]:
        """The distinct owners of leases on this queue that have not run out yet."""
        rows = await db.fetchall(
            f"SELECT DISTINCT lease_owner FROM {self.table} "
            "WHERE state = ? AND locked_until > ? AND lease_owner IS NOT NULL",
            (self.waiting.value, now),
        )
        return [str(r[0]) for r in rows]

    async def release_owners(self, db: Executor, owners: Iterable[str]) -> int:
        """Give every lease of these (dead) owners back to the queue; how many rows were released."""
        released = 0
        for owner in owners:
            released += await db.execute(
                f"UPDATE {self.table} SET locked_until = NULL, lease_owner = NULL WHERE state = ? AND lease_owner = ?",
                (self.waiting.value, owner),
            )
        return released

    # -- changes of state ---------------------------------------------------------------

    async def move(self, db: Executor, moves: Sequence[Move], columns: Sequence[str] = (), now: float = 0.0) -> None:
        """Write the next state of leased rows (each with its values of `columns`); their leases end.

        Every move is checked against the declared transitions first; rows no longer in
        the waiting state (finished by another worker meanwhile) are left as they are.
        """
        if not moves:
            return
        sets = "".join(f", {column} = ?" for column in columns)
        touch: tuple[Any, ...] = ()
        if self.touched:
            sets += f", {self.touched} = ?"
            touch = (now,)
        rows = []
        for move in moves:
            if len(move.values) != len(columns):
                raise ValueError(f"{self.table}: a move needs a value for each of {list(columns)}")
            state = self.check(self.waiting, move.state)
            rows.append((state.value, *move.values, *touch, move.id, self.waiting.value))
        await db.executemany(
            f"UPDATE {self.table} SET state = ?{sets}, locked_until = NULL, lease_owner = NULL "
            "WHERE id = ? AND state = ?",
            rows,
        )

    async def move_all(self, db: Executor, ids: Sequence[int], state: StrEnum, now: float = 0.0) -> None:
        """Move these leased rows to one next state in one statement (a batch finished together)."""
        if not ids:
            return
        target = self.check(self.waiting, state)
        touch = f", {self.touched} = ?" if self.touched else ""
        params: tuple[Any, ...] = (now,) if self.touched else ()
        await db.execute(
            f"UPDATE {self.table} SET state = ?{touch}, locked_until = NULL, lease_owner = NULL "
            f"WHERE state = ? AND id IN ({_marks(ids)})",
            (target.value, *params, self.waiting.value, *ids),
        )

    async def counts(self, db: Executor) -> dict[str, int]:
        """How many rows are in each state."""
        rows = await db.fetchall(f"SELECT state, COUNT(*) FROM {self.table} GROUP BY state ORDER BY state")
        return {str(r[0]): int(r[1]) for r in rows}


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))
