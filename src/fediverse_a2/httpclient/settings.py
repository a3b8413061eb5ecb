"""Limits of every outbound request, and the error a refused or failed request raises."""

from __future__ import annotations

from dataclasses import dataclass

from ..hosts import Origin

__all__ = ["FetchError", "FetchSettings"]


@dataclass(frozen=True)
class FetchSettings:
    """Limits and rules for every outbound request."""

    allow_private_network: bool = False
    max_bytes: int = 1_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # per socket read
    total_timeout: float = 30.0  # whole request including the body
    max_redirects: int = 3
    user_agent: str = "fediverse-a2/0.1"
    max_connections: int = 200
    max_connections_per_host: int = 8  # enforced by the delivery engine, not the pool
    # This instance's own origins: a request there is refused, since it would be the
    # service fetching itself (whatever spelling of its own address the URL uses).
    self_origins: frozenset[Origin] = frozenset()
    # This instance's listening sockets, (address, port) as bound, and this machine's own
    # addresses (for a listener on every address): a name that resolves to an address reaching
    # one of them is this instance too, whatever the name (hosts.reaches_listener decides).
    listeners: frozenset[tuple[str, int]] = frozenset()
    local_addresses: frozenset[str] = frozenset()
    # Extra trusted CA certificates (PEM), beside the default bundle: private PKI roots.
    ca_file: str | None = None


class FetchError(Exception):
    """An outbound request was refused or failed; `reason` is short and human readable."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __str__(self) -> str:
        return self.reason
