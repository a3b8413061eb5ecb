"""Self test of the Fedify peer: two peers of the same Fedify version federate on 127.0.0.1.

This proves the peer itself (follow/Accept, note delivery, replies, signature
verification, the control API) before anything is concluded about fediverse-a2.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .fedify_interop import Peer, start_peer, stop_process, wait_for

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
    accept = a.wait_activity(
        lambda x: x["type"] == "Accept" and x["actor"] == b.actor_url, "B's Accept", extra=b.diagnostics
    )
    assert accept["object"]["id"] == follow["id"]
    assert any(f["actor"] == b.actor_url and f["state"] == "accepted" for f in a.inbox()["following"])
    assert any(f["id"] == a.actor_url for f in b.inbox()["followers"])

    # B posts to its followers; A receives the Create.
    text = f"selftest note {uuid.uuid4()}"
    note = b.post("/control/note", {"content": f"<p>{text}</p>", "to_followers": True})
    assert note["ok"] and note["requests"], note
    created = a.wait_activity(
        lambda x: x["type"] == "Create" and (x.get("object_parsed") or {}).get("id") == note["id"],
        "B's Create(Note)",
        extra=b.diagnostics,
    )
    assert text in created["object_parsed"]["content"]

    # The note is dereferenceable through Fedify's object dispatcher.
    looked = a.post("/control/lookup", {"url": note["id"]})
    assert looked["object"]["type"] == "Note" and text in looked["object"]["content"]

    # A replies; B receives Create(Note) with inReplyTo.
    reply_text = f"selftest reply {uuid.uuid4()}"
    reply = a.post("/control/reply", {"in_reply_to": note["id"], "content": f"<p>{reply_text}</p>", "to": b.actor_url})
    got = b.wait_activity(
        lambda x: x["type"] == "Create" and (x.get("object_parsed") or {}).get("id") == reply["id"],
        "A's reply",
        extra=diag,
    )
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
        assert [
            e for e in log["errors"] if e.get("level") in ("error", "fatal") or e.get("source") != "fedify-log"
        ] == []

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


# The pinned versions that sign with RFC 9421 first and double-knock.
DOUBLE_KNOCKERS = ["fedify-1.10", "fedify-2"]


@pytest.mark.parametrize("new_id", DOUBLE_KNOCKERS)
def test_cross_version_double_knock(new_id: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fedify 1.10 / 2.x (RFC 9421 first) talking to Fedify 1.5 (draft-cavage only).

    Documents the double-knock behaviour that fediverse-a2 must play along
    with: Fedify >= 1.6 only falls back to draft-cavage when the *inbox POST*
    is answered with a 4xx (Fedify 2.1+ first tries to satisfy an RFC 9421
    `Accept-Signature` challenge in that 4xx, if there is one).  Fedify 1.5
    cannot verify the RFC 9421 signature, but it accepts the activity anyway
    through its Linked Data signature, so it answers 202 and the newer Fedify
    remembers RFC 9421 for that origin.
    """
    new = start_peer(new_id, tmp_path_factory.mktemp("x-new"), "peer-new")
    try:
        old = start_peer("fedify-1.5", tmp_path_factory.mktemp("x-old"), "peer-old")
        try:
            follow = new.post("/control/follow", {"actor": old.actor_url})
            got = old.wait_activity(
                lambda x: x["type"] == "Follow" and x["id"] == follow["id"], f"{new_id}'s Follow", extra=new.diagnostics
            )
            assert got["signature"]["scheme"] == RFC9421
            assert got["http_signature"]["verified"] is False  # 1.5 cannot check RFC 9421 ...
            assert got["verified_by"] == "ld-signatures"  # ... and accepted the LD signature instead
            assert new.specs()["remembered"].get(old.base_url) == RFC9421
            # One knock was enough: a single POST, signed with RFC 9421.
            posts = [o for o in follow["requests"] if o["method"] == "POST"]
            assert [o["signature"]["scheme"] for o in posts] == [RFC9421], posts
            accept = new.wait_activity(
                lambda x: x["type"] == "Accept" and x["actor"] == old.actor_url, "1.5's Accept", extra=old.diagnostics
            )
            assert accept["signature"]["scheme"] == CAVAGE
            assert accept["http_signature"] == {**accept["http_signature"], "verified": True, "scheme": CAVAGE}
        finally:
            stop_process(old.proc)
    finally:
        stop_process(new.proc)


@pytest.mark.parametrize("new_id", DOUBLE_KNOCKERS)
def test_first_knock_draft_cavage(new_id: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`--first-knock draft-cavage-http-signatures-12` (Fedify's `firstKnock` option) makes a
    double-knocking Fedify sign with draft-cavage first; Fedify 1.5 verifies that HTTP
    signature itself, and the sender remembers draft-cavage for that origin."""
    new = start_peer(new_id, tmp_path_factory.mktemp("k-new"), "peer-new", first_knock=CAVAGE)
    try:
        assert new.get("/control/health")["signs_first_with"] == CAVAGE
        old = start_peer("fedify-1.5", tmp_path_factory.mktemp("k-old"), "peer-old")
        try:
            follow = new.post("/control/follow", {"actor": old.actor_url})
            posts = [o for o in follow["requests"] if o["method"] == "POST"]
            assert [o["signature"]["scheme"] for o in posts] == [CAVAGE], posts
            got = old.wait_activity(
                lambda x: x["type"] == "Follow" and x["id"] == follow["id"], f"{new_id}'s Follow", extra=new.diagnostics
            )
            assert got["signature"]["scheme"] == CAVAGE
            assert got["http_signature"] == {
                **got["http_signature"],
                "verified": True,
                "scheme": CAVAGE,
                "key_owner": new.actor_url,
            }
            assert new.specs() == {**new.specs(), "first_knock": CAVAGE}
            assert new.specs()["remembered"].get(old.base_url) == CAVAGE
            new.wait_activity(
                lambda x: x["type"] == "Accept" and x["actor"] == old.actor_url, "1.5's Accept", extra=old.diagnostics
            )
        finally:
            stop_process(old.proc)
    finally:
        stop_process(new.proc)


def test_group_announce(fedify_version: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A peer follows a Group actor by handle (as it would follow fediverse-a2's
    `@netwerk@HOST`) and records the Group's Announce activities with their objects:
    an Announce of a Note by URL, and an Announce of a member's Create (FEP-1b12 style)."""
    tmp = tmp_path_factory.mktemp(f"{fedify_version}-group")
    group = start_peer(fedify_version, tmp, "group", username="netwerk", actor_type="Group")
    try:
        member = start_peer(fedify_version, tmp, "member")
        try:
            diag = lambda: member.diagnostics() + "\n" + group.diagnostics()  # noqa: E731
            found = member.post("/control/lookup", {"url": group.handle})
            assert found["object"]["type"] == "Group" and found["object"]["id"] == group.actor_url, found
            member.post("/control/follow", {"actor": group.handle})
            member.wait_activity(
                lambda x: x["type"] == "Accept" and x["actor"] == group.actor_url,
                "the Group's Accept",
                extra=group.diagnostics,
            )
            following = {f["actor"]: f for f in member.inbox()["following"]}
            assert following[group.actor_url]["state"] == "accepted"
            assert following[group.actor_url]["actor_type"] == "Group"

            # The member posts to the group; the group boosts the note, then the Create.
            text = f"group post {uuid.uuid4()}"
            note = member.post(
                "/control/note", {"content": f"<p>{text}</p>", "to_followers": False, "to_actors": [group.actor_url]}
            )
            group.wait_activity(
                lambda x: (x.get("object_parsed") or {}).get("id") == note["id"],
                "the member's post",
                extra=member.diagnostics,
            )

            by_url = group.post("/control/announce", {"object": note["id"]})
            embedded = group.post("/control/announce", {"object": note["create_id"], "embed": True})

            def announce(aid: str) -> dict[str, Any]:
                return wait_for(
                    lambda: next((a for a in member.announces() if a["id"] == aid), None),
                    f"the Group's Announce {aid}",
                    diag,
                )

            of_note = announce(by_url["id"])
            assert of_note["actor"] == group.actor_url
            assert of_note["object"]["id"] == note["id"]
            parsed = of_note["object_parsed"]
            assert parsed["type"] == "Note" and text in parsed["content"], parsed
            assert of_note["announced"]["object_type"] == "Note"
            assert of_note["announced"]["note"]["id"] == note["id"]

            of_create = announce(embedded["id"])
            wire = of_create["object"]  # as sent: the Create embedded, with its Note
            assert wire["type"] == "Create" and wire["id"] == note["create_id"], wire
            assert wire["object"]["id"] == note["id"], wire
            parsed = of_create["object_parsed"]  # as Fedify parsed it
            assert parsed["type"] == "Create" and parsed["actor"] == member.actor_url, parsed
            reached = of_create["announced"]["note"]
            assert reached["id"] == note["id"] and text in reached["content"], reached
            assert reached["attributedTo"] == member.actor_url, reached

            # Announces are inbox activities too, verified like every other.
            for a in (of_note, of_create):
                assert a["verified_by"] is not None and a["http_signature"]["verified"] is True, a
            assert all("raw" not in a for a in member.get("/control/announces?raw=0")["announces"])

            # Undo(Announce) flags the recorded Announce.
            undo = group.post("/control/unannounce", {"id": by_url["id"]})
            wait_for(
                lambda: (
                    next((a.get("undone_by") for a in member.announces() if a["id"] == by_url["id"]), None)
                    == undo["id"]
                ),
                "the Undo(Announce) to be recorded",
                diag,
            )
            for p in (member, group):
                log = p.log()
                assert log["inbox_failures"] == [] and log["blocked_fetches"] == [], diag()
                assert [
                    e for e in log["errors"] if e.get("level") in ("error", "fatal") or e.get("source") != "fedify-log"
                ] == [], diag()
        finally:
            stop_process(member.proc)
    finally:
        stop_process(group.proc)
