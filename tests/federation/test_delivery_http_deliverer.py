"""The deliverer on the delivery client: the guard at delivery, keep-alive across a round,
signatures (here and from signing processes) verified by the receiving end."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_a2.config import DeliveryConfig
from fediverse_a2.federation.delivery import Deliverer
from fediverse_a2.federation.delivery.signing import Signer
from fediverse_a2.httpclient import poster_of
from fediverse_a2.services.members import add_member
from fediverse_a2.services.posts import publish_post
from fediverse_a2.signatures import PublicKey, SignatureError, verify_request
from fediverse_a2.store import follows
from helpers import LiveServer, free_socket, live_server, serving, wait_for


class VerifyingSink:
    """Inboxes that check every signature against alice's key, and count what they got."""

    def __init__(self) -> None:
        self.sock = free_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.key: PublicKey | None = None
        self.hits: Counter[str] = Counter()
        self.schemes: Counter[str] = Counter()
        self.bad: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    async def lookup(self, key_id: str, refresh: bool) -> PublicKey:
        assert self.key is not None and key_id == self.key.key_id
        return self.key

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        try:
            verified = await verify_request("POST", str(request.url), request.headers, body, self.lookup)
            self.schemes[verified.scheme] += 1
        except SignatureError as exc:
            self.bad.append(exc.reason)
            return Response(status_code=401)
        self.hits[request.url.path] += 1
        return Response(status_code=202)


async def _followers(a2: LiveServer, sink: VerifyingSink, n: int) -> None:
    member_id = await a2.rt.db.fetchval("SELECT id FROM members WHERE username = 'alice'")
    async with a2.rt.db.transaction() as tx:
        for i in range(n):
            await follows.add_follower(
                tx, member_id, f"{sink.base}/users/u{i}", f"{sink.base}/users/u{i}/inbox", None, "127.0.0.1", None
            )


async def _alice(a2: LiveServer, sink: VerifyingSink) -> None:
    await add_member(a2.rt, "alice", "Alice")
    key = a2.rt.keys.ensure("alice")
    sink.key = PublicKey(a2.rt.urls.key("alice"), a2.rt.urls.actor("alice"), key.public_key())


async def test_deliveries_to_a_private_address_are_refused_without_allow_private_network(tmp_path: Path) -> None:
    async with (
        live_server(tmp_path / "a2", federation={"allow_private_network": False}) as a2,
        serving(VerifyingSink()) as sink,
    ):
        await _alice(a2, sink)
        await _followers(a2, sink, 3)
        await publish_post(a2.rt, "alice", "Post", "Tekst")
        assert await Deliverer(a2.rt).run_once() == 3
        rows = await a2.rt.db.fetchall("SELECT state, last_error FROM deliveries")
        assert all(
            r["state"] == "pending" and "refused: 127.0.0.1 is a loopback address" in r["last_error"] for r in rows
        )
        assert sink.hits == Counter() and poster_of(a2.rt.http).connections_made == 0


async def test_a_round_reuses_connections_and_every_signature_verifies(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2", delivery={"signing_processes": 0}) as a2, serving(VerifyingSink()) as sink:
        await _alice(a2, sink)
        await _followers(a2, sink, 40)
        await publish_post(a2.rt, "alice", "Post", "Tekst")
        deliverer = Deliverer(a2.rt)
        assert deliverer.presigner.pool is None
        assert await deliverer.run_once() == 40
        assert sink.bad == [] and len(sink.hits) == 40 and sink.schemes == Counter({"rfc9421": 40})
        # One host: at most delivery.per_host connections, each kept for the next request.
        made = poster_of(a2.rt.http).connections_made
        assert 1 <= made <= a2.rt.config.delivery.per_host
        await publish_post(a2.rt, "alice", "Tweede", "Tekst")
        assert await deliverer.run_once() == 40
        assert poster_of(a2.rt.http).connections_made == made and sink.bad == []


async def test_signing_processes_sign_what_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with live_server(tmp_path / "a2", delivery={"signing_processes": 1}) as a2, serving(VerifyingSink()) as sink:
        await _alice(a2, sink)
        await _followers(a2, sink, 70)
        deliverer = Deliverer(a2.rt)
        try:
            assert deliverer.presigner.pool is not None and not deliverer.presigner.pool.auto
            await publish_post(a2.rt, "alice", "Post", "Tekst")
            # The first batch is signed here while the processes start.
            assert await deliverer.run_once() == 70
            await wait_for(lambda: _ready(deliverer), what="the signing process")
            signed_here = []
            original = Signer.headers

            def counting(self: Signer, *args: Any, **kwargs: Any) -> dict[str, str]:
                signed_here.append(args[1])
                return original(self, *args, **kwargs)

            monkeypatch.setattr(Signer, "headers", counting)
            await publish_post(a2.rt, "alice", "Tweede", "Tekst")
            assert await deliverer.run_once() == 70
            assert signed_here == []  # all 70 came from the signing process
            assert sink.bad == [] and sum(sink.hits.values()) == 140
            states = await a2.rt.db.fetchall("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
            assert [(r["state"], r["n"]) for r in states] == [("sent", 140)]
        finally:
            deliverer.close()


async def _ready(deliverer: Deliverer) -> bool:
    await asyncio.sleep(0)
    return deliverer.presigner.pool is not None and deliverer.presigner.pool.ready


def test_signing_processes_auto_follows_the_cores() -> None:
    auto = DeliveryConfig()
    assert auto.signing_processes == -1
    assert [auto.signing_processes_here(n) for n in (None, 1, 2, 4, 16)] == [0, 0, 1, 2, 2]
    assert DeliveryConfig(signing_processes=3).signing_processes_here(1) == 3
    assert DeliveryConfig(signing_processes=0).signing_processes_here(8) == 0
