"""Which signature scheme each peer accepted (RFC 9421 first, draft-cavage after a double knock).

Loaded from the store once; a scheme learned in a round is kept here at once and written with
that round's next outcomes (`take_learned`), so a lost write only means learning it again.
"""

from __future__ import annotations

from ...store import peers
from ...store.db import Executor

__all__ = ["DEFAULT_SCHEME", "Schemes"]

DEFAULT_SCHEME = "rfc9421"


class Schemes:
    """The remembered scheme per peer (host:port)."""

    def __init__(self, db: Executor) -> None:
        self.db = db
        self.known: dict[str, str] = {}
        self._learned: dict[str, str] = {}  # peer -> scheme, not yet stored
        self._loaded = False

    async def load(self) -> None:
        """Read the stored schemes (once)."""
        if not self._loaded:
            self.known.update(await peers.schemes(self.db))
            self._loaded = True

    def get(self, peer: str) -> str | None:
        """The scheme this peer is known to accept, if any."""
        return self.known.get(peer)

    def learn(self, peer: str, scheme: str) -> None:
        """The peer accepted a request signed with `scheme`."""
        if self.known.get(peer) != scheme:
            self.known[peer] = scheme
            self._learned[peer] = scheme

    def take_learned(self) -> dict[str, str]:
        """The schemes learned since the last call, to be stored."""
        learned, self._learned = self._learned, {}
        return learned
