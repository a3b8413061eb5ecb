"""Self test of the Fedify peer: two peers of the same Fedify version federate on 127.0.0.1.

This proves the peer itself (follow/Accept, note delivery, replies, signature
verification, the control API) before anything is concluded about fediverse-a2.
"""

from __future__ import annotations

import uuid

import pytest

from .fedify_interop import Peer, start_peer, stop_process

pytestmark = pytest.mark.interop

CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"


def test_peer_to_peer(peer_pair: tuple[Peer, Peer]) -> None:
    a, b = peer_pair
    diag = a.diagnostics

    # Lookup: A's Fedify dereferences B's actor and imports its keys.
    found = a.post("/control/lookup", {"url": b.actor_url})
    assert found["ok"] and found["key_usable"], found
    assert found["object"]["id"] == b.actor_url
    assert {m["algorithm"] for m in found["assertion_methods"]} >= {"RSASSA-PKCS1-v1_5", "Ed25519"}
    by_handle = a.post("/control/lookup", {"url": b.handle})
    assert by_handle["object"]["id"] == b.actor_url

    # Follow -> Accept.
    follow = a.post("/control/follow", {"actor": b.actor_url})
    b.wait_activity(lambda x: x["type"] == "Follow" and x["id"] == follow["id"], "A's Follow")
    accept = a.wait_activity(lambda x: x["type"] == "Accept" and x["actor"] == b.actor_url, "B's Accept",
                             extra=b.diagnostics)
    assert accept["object"]["id"] == follow["id"]
    assert any(f["actor"] == b.actor_url and f["state"] == "accepted" for f in a.inbox()["following"])
    assert any(f["id"] == a.actor_url for f in b.inbox()["followers"])

    # B posts to its followers; A receives the Create.
    text = f"selftest note {uuid.uuid4()}"
    note = b.post("/control/note", {"content": f"<p>{text}</p>", "to_followers": True})
    assert note["ok"] and note["requests"], note
    created = a.wait_activity(lambda x: x["type"] == "Create" and (x.get("object_parsed") or {}).get("id") == note["id"],
                              "B's Create(Note)", extra=b.diagnostics)
    assert text in created["object_parsed"]["content"]

    # The note is dereferenceable through Fedify's object dispatcher.
    looked = a.post("/control/lookup", {"url": note["id"]})
    assert looked["object"]["type"] == "Note" and text in looked["object"]["content"]

    # A replies; B receives Create(Note) with inReplyTo.
    reply_text = f"selftest reply {uuid.uuid4()}"
    reply = a.post("/control/reply", {"in_reply_to": note["id"], "content": f"<p>{reply_text}</p>", "to": b.actor_url})
    got = b.wait_activity(lambda x: x["type"] == "Create" and (x.get("object_parsed") or {}).get("id") == reply["id"],
                          "A's reply", extra=diag)
    assert got["object_parsed"]["inReplyTo"] == note["id"]
    assert got["object_parsed"]["attributedTo"] == a.actor_url

    # Every activity both sides received carried an HTTP signature that
    # Fedify's verifyRequest() accepts, in the scheme the version signs with.
    expected = RFC9421 if a.rfc9421_capable else CAVAGE
    for p in (a, b):
        for act in p.activities():
            hs = act.get("http_signature") or {}
            assert hs.get("verified") is True, act
            assert hs.get("scheme") == expected, act
            assert act["verified_by"] is not None, act
        log = p.log()
        assert log["inbox_failures"] == [], log["inbox_failures"]
        assert log["blocked_fetches"] == [], log["blocked_fetches"]
        assert [e for e in log["errors"] if e.get("level") in ("error", "fatal") or e.get("source") != "fedify-log"] == []

    # Fedify >= 1.6 remembers which spec worked per origin (double-knocking).
    if a.rfc9421_capable:
        assert a.specs()["remembered"].get(b.base_url) == RFC9421
        assert b.specs()["remembered"].get(a.base_url) == RFC9421
    else:
        assert a.specs()["remembered"] == {}

    # Undo(Follow) removes A from B's followers.
    a.post("/control/unfollow", {"actor": b.actor_url})
    b.wait_activity(lambda x: x["type"] == "Undo" and x["actor"] == a.actor_url, "A's Undo(Follow)")
    assert not any(f["id"] == a.actor_url for f in b.inbox()["followers"])


def test_cross_version_double_knock(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fedify 1.10 (RFC 9421 first) talking to Fedify 1.5 (draft-cavage only).

    Documents the double-knock behaviour that fediverse-a2 must play along
    with: Fedify 1.10 only falls back to draft-cavage when the *inbox POST*
    is answered with a 4xx.  Fedify 1.5 cannot verify the RFC 9421 signature,
    but it accepts the activity anyway through its Linked Data signature, so it
    answers 202 and Fedify 1.10 remembers RFC 9421 for that origin.
    """
    new = start_peer("fedify-1.10", tmp_path_factory.mktemp("x-new"), "peer-new")
    try:
        old = start_peer("fedify-1.5", tmp_path_factory.mktemp("x-old"), "peer-old")
        try:
            follow = new.post("/control/follow", {"actor": old.actor_url})
            got = old.wait_activity(lambda x: x["type"] == "Follow" and x["id"] == follow["id"], "1.10's Follow",
                                    extra=new.diagnostics)
            assert got["signature"]["scheme"] == RFC9421
            assert got["http_signature"]["verified"] is False  # 1.5 cannot check RFC 9421 ...
            assert got["verified_by"] == "ld-signatures"  # ... and accepted the LD signature instead
            assert new.specs()["remembered"].get(old.base_url) == RFC9421
            accept = new.wait_activity(lambda x: x["type"] == "Accept" and x["actor"] == old.actor_url,
                                       "1.5's Accept", extra=old.diagnostics)
            assert accept["signature"]["scheme"] == CAVAGE
            assert accept["http_signature"] == {**accept["http_signature"], "verified": True, "scheme": CAVAGE}
        finally:
            stop_process(old.proc)
    finally:
        stop_process(new.proc)
