"""Fedify follows fediverse-a2's network group (@netwerk, a FEP-1b12 Group) and sees its boosts.

Runs against every pinned Fedify version, like test_fedify.py, on the same shared instance.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from .fedify_interop import A2, Peer, wait_for

pytestmark = pytest.mark.interop


def test_follow_the_network_group_and_receive_its_announces(peer: Peer, a2: A2) -> None:
    netwerk = a2.actor_url("netwerk")
    found = peer.post("/control/lookup", {"url": a2.handle("netwerk")}, expect_ok=False)
    assert found.get("ok"), json.dumps(found, indent=1)[:4000]
    assert found["object"]["id"] == netwerk and found["object"]["type"] == "Group"
    assert found["key_usable"], found.get("problems")

    state = {f["actor"]: f["state"] for f in peer.inbox()["following"]}
    if state.get(netwerk) not in ("accepted", "pending"):
        peer.post("/control/follow", {"actor": netwerk})
    accept = peer.wait_activity(
        lambda a: a["type"] == "Accept" and a["actor"] == netwerk, "the group's signed Accept", extra=a2.diagnostics
    )
    assert accept["verified_by"] is not None
    assert (accept.get("http_signature") or {}).get("key_owner") == netwerk, accept.get("http_signature")

    title = f"Netwerk {peer.version_id} {uuid.uuid4().hex[:8]}"
    post_url = a2.cli_last_line("post", "alice", "--title", title, "--body", "Voor het hele netwerk.")

    def boosted() -> dict[str, Any] | None:
        return next(
            (a for a in peer.announces() if a["actor"] == netwerk and a["announced"]["object_id"] == post_url), None
        )

    announce = wait_for(boosted, f"the group's Announce of {post_url}", a2.diagnostics)
    assert announce["verified_by"] is not None
    assert announce["announced"]["object_type"] == "Note"
    assert title in (announce["announced"]["note"] or {}).get("content", ""), announce["announced"]
