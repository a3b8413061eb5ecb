"""fediverse-a2 federates with Fedify, an ActivityPub implementation it did not write.

Each test runs against every pinned Fedify version (ids fedify-1.5, fedify-1.10, fedify-2):
the peer is a real Fedify server on 127.0.0.1 that verifies every signature
with Fedify's own code; fediverse-a2 runs as a `serve` subprocess.

The tests share one fediverse-a2 and one peer per Fedify version and build on
each other's state only through idempotent helpers, so each can also run alone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from .fedify_interop import A2, Peer, id_of, strip_tags, wait_for

pytestmark = pytest.mark.interop

CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"
AS_PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}


def both(peer: Peer, a2: A2) -> str:
    return peer.diagnostics() + "\n" + a2.diagnostics()


def assert_verified_by_fedify(peer: Peer, act: dict[str, Any], a2: A2) -> None:
    """The activity reached Fedify's inbox listener (so Fedify authenticated it), and its
    HTTP signature on its own also passes Fedify's verifyRequest()."""
    assert act["verified_by"] is not None, f"no verification path recorded: {json.dumps(act, indent=1)}"
    hs = act.get("http_signature") or {}
    assert hs.get("verified") is True, (
        f"Fedify's verifyRequest() rejects fediverse-a2's HTTP signature: {json.dumps(hs, indent=1)}\n"
        f"signature headers seen: {json.dumps(act.get('signature'), indent=1)}\n{both(peer, a2)}"
    )
    assert hs.get("key_owner") == a2.actor_url("alice"), hs
    if not peer.rfc9421_capable:
        assert hs.get("scheme") == CAVAGE, hs


def ensure_peer_follows_alice(peer: Peer, a2: A2) -> dict[str, Any]:
    """The peer follows alice and has her Accept; returns the Accept inbox entry."""
    alice = a2.actor_url("alice")

    state = {f["actor"]: f["state"] for f in peer.inbox()["following"]}
    if state.get(alice) not in ("accepted", "pending"):
        result = peer.post("/control/follow", {"actor": alice})
        last = result["requests"][-1]  # after a possible double knock
        assert isinstance(last["status"], int) and last["status"] < 300, result
    return peer.wait_activity(
        lambda a: a["type"] == "Accept" and a["actor"] == alice, "alice's signed Accept", extra=a2.diagnostics
    )


def replies_of(a2: A2, post_url: str) -> list[str]:
    """Ids in the Note's `replies` collection (following `first` / page links)."""
    note = a2.get_json(post_url)
    coll: Any = note.get("replies")
    if coll is None:
        return []
    if isinstance(coll, str):
        coll = a2.get_json(coll)
    items: list[Any] = list(coll.get("orderedItems") or coll.get("items") or [])
    page: Any = coll.get("first")
    seen = 0
    while page is not None and seen < 10:
        seen += 1
        if isinstance(page, str):
            page = a2.get_json(page)
        items += list(page.get("orderedItems") or page.get("items") or [])
        page = page.get("next")
    return [i for i in (id_of(x) for x in items) if i]


# 1 ----------------------------------------------------------------------------


def test_lookup_member(peer: Peer, a2: A2) -> None:
    alice = a2.actor_url("alice")
    found = peer.post("/control/lookup", {"url": alice}, expect_ok=False)
    assert found.get("ok"), f"Fedify could not look up {alice}: {json.dumps(found, indent=1)[:4000]}\n{both(peer, a2)}"
    obj = found["object"]
    assert obj["id"] == alice
    assert obj["type"] in ("Person", "Service", "Application", "Group", "Organization")
    actor = found["actor"]
    assert actor["inbox"] and actor["inbox"].startswith(a2.base_url), actor
    assert actor["preferred_username"] == "alice", actor
    assert found["key_usable"], (
        f"Fedify cannot use alice's publicKey for HTTP signatures: {found.get('problems')}\n"
        f"{json.dumps(found.get('public_keys'), indent=1)}"
    )
    key = found["public_keys"][0]
    assert key["owner"] == alice and key["fetched_algorithm"] == "RSASSA-PKCS1-v1_5", key
    assert peer.log()["blocked_fetches"] == [], "Fedify needed something off-loopback (a JSON-LD context?)"


def test_lookup_member_by_handle(peer: Peer, a2: A2) -> None:
    """WebFinger acct:alice@127.0.0.1:PORT -> rel=self -> the same actor."""
    found = peer.post("/control/lookup", {"url": a2.handle("alice")}, expect_ok=False)
    assert found.get("ok"), f"{json.dumps(found, indent=1)[:3000]}\n{both(peer, a2)}"
    assert found["webfinger"]["href"] == a2.actor_url("alice")
    assert found["object"]["id"] == a2.actor_url("alice")


# 2 ----------------------------------------------------------------------------


def test_follow_member_gets_signed_accept(peer: Peer, a2: A2) -> None:
    accept = ensure_peer_follows_alice(peer, a2)
    assert_verified_by_fedify(peer, accept, a2)
    follow_ids = {f["follow_id"] for f in peer.inbox()["following"] if f["actor"] == a2.actor_url("alice")}
    assert id_of(accept["raw"].get("object")) in follow_ids, accept["raw"]
    assert (accept.get("note") or "").startswith("follow of"), accept

    # Fedify >= 1.6 signs the first delivery with RFC 9421 and falls back to
    # draft-cavage on a 4xx; whatever it remembers must have really worked.
    if peer.rfc9421_capable:
        check_double_knock(peer, a2)


def check_double_knock(peer: Peer, a2: A2) -> None:
    posts = [o for o in peer.log()["outgoing"] if o["method"] == "POST" and o["url"].startswith(a2.base_url)]
    assert posts, "the peer never POSTed to fediverse-a2"
    remembered = peer.specs()["remembered"].get(a2.base_url)
    assert remembered in (RFC9421, CAVAGE), peer.specs()
    first = posts[0]
    assert first["signature"]["scheme"] == RFC9421, first  # Fedify 1.10's first knock
    ok = [p for p in posts if isinstance(p["status"], int) and 200 <= p["status"] < 300]
    assert ok, f"no delivery to fediverse-a2 succeeded: {json.dumps(posts, indent=1)}"
    # The remembered spec is the one that got the last 2xx; later deliveries use it directly.
    assert ok[-1]["signature"]["scheme"] == remembered, (remembered, ok[-1])
    if remembered == CAVAGE:
        rejected = [p for p in posts if p["signature"]["scheme"] == RFC9421 and p["status"] in (400, 401, 403)]
        assert rejected, f"fell back to cavage without a 4xx on RFC 9421? {json.dumps(posts, indent=1)}"


# 3 ----------------------------------------------------------------------------


def test_member_post_reaches_peer(peer: Peer, a2: A2) -> None:
    ensure_peer_follows_alice(peer, a2)
    title = f"Interop {peer.version_id} {uuid.uuid4().hex[:8]}"
    body = f"Hallo Fedify, dit is een test {uuid.uuid4()}."
    post_url = a2.cli_last_line("post", "alice", "--title", title, "--body", body)
    assert post_url.startswith(a2.base_url + "/posts/"), post_url

    create = peer.wait_activity(
        lambda a: (
            a["type"] == "Create"
            and ((a.get("object_parsed") or {}).get("id") == post_url or (a.get("object") or {}).get("id") == post_url)
        ),
        f"Create for {post_url}",
        extra=a2.diagnostics,
    )
    assert_verified_by_fedify(peer, create, a2)
    assert create["actor"] == a2.actor_url("alice")
    parsed = create.get("object_parsed")
    assert parsed is not None, f"Fedify could not parse the Create's object: {create.get('object_parse_error')}"
    assert parsed["attributedTo"] == a2.actor_url("alice")
    assert body.split(",")[0] in strip_tags(parsed["content"] or ""), parsed
    assert AS_PUBLIC & set(parsed["to"] + parsed["cc"]), parsed


# 4 ----------------------------------------------------------------------------


def test_peer_reply_becomes_comment(peer: Peer, a2: A2) -> None:
    ensure_peer_follows_alice(peer, a2)
    post_url = a2.cli_last_line(
        "post", "alice", "--title", f"Reageer {uuid.uuid4().hex[:8]}", "--body", "Wat vind jij hiervan?"
    )

    # Fedify dereferences the post (Note) by its id.
    looked = peer.post("/control/lookup", {"url": post_url}, expect_ok=False)
    assert looked.get("ok"), f"{json.dumps(looked, indent=1)[:3000]}\n{both(peer, a2)}"
    assert looked["object"]["type"] in ("Note", "Article"), looked["object"]
    assert looked["object"]["id"] == post_url

    text = f"Mooi stuk, groet van Fedify {uuid.uuid4().hex[:10]}"
    reply = peer.post(
        "/control/reply", {"in_reply_to": post_url, "content": f"<p>{text}</p>", "to": a2.actor_url("alice")}
    )
    statuses = [r["status"] for r in reply["requests"]]
    assert statuses and all(isinstance(s, int) and s < 300 for s in statuses[-1:]), reply

    wait_for(
        lambda: reply["id"] in replies_of(a2, post_url),
        f"{reply['id']} in the replies collection of {post_url}",
        lambda: both(peer, a2),
    )

    def html_shows_comment() -> bool:
        res = a2.get(post_url, accept="text/html")
        page = strip_tags(res.text) if res.status == 200 else ""
        return text in page and f"Reactie van Fedify {peer.fedify_version} peer op" in page

    wait_for(
        html_shows_comment,
        "the comment on the HTML post page ('Reactie van NAME op DATE')",
        lambda: a2.get(post_url, accept="text/html").text[-3000:] + "\n" + both(peer, a2),
    )


# 5 ----------------------------------------------------------------------------


def test_member_follows_peer_timeline_and_comment(peer: Peer, a2: A2) -> None:
    alice = a2.actor_url("alice")
    out = a2.cli("follow", "alice", peer.actor_url).stdout
    assert peer.actor_url in out or "follow" in out, out

    follow = peer.wait_activity(
        lambda a: a["type"] == "Follow" and a["actor"] == alice, "alice's Follow", extra=a2.diagnostics
    )
    assert_verified_by_fedify(peer, follow, a2)
    wait_for(
        lambda: any(f["id"] == alice for f in peer.inbox()["followers"]),
        "alice among the peer's followers",
        lambda: both(peer, a2),
    )
    # Give fediverse-a2 the peer's Accept; the peer sends it right after the Follow.
    wait_for(
        lambda: any(s.get("label", "").startswith("Accept") and s.get("ok") for s in peer.log()["sent"]),
        "the peer's Accept to be delivered",
        lambda: both(peer, a2),
    )

    text = f"Notitie van de Fedify peer {uuid.uuid4().hex[:10]}"
    note = peer.post("/control/note", {"content": f"<p>{text}</p>", "to_followers": True})
    assert any(r["url"].startswith(a2.base_url) and r["status"] in (200, 201, 202, 204) for r in note["requests"]), (
        f"the peer's Create did not reach fediverse-a2: {json.dumps(note, indent=1)}"
    )

    def on_timeline() -> bool:
        res = a2.cli("timeline", "alice", check=False)
        return res.returncode == 0 and (text in res.stdout or note["id"] in res.stdout)

    wait_for(
        on_timeline,
        "the peer's note on alice's timeline",
        lambda: a2.cli("timeline", "alice", check=False).stdout[-2000:] + "\n" + both(peer, a2),
        interval=0.25,
    )

    body = f"Reactie uit fediverse-a2 {uuid.uuid4().hex[:10]}"
    comment_url = a2.cli_last_line("comment", "alice", note["id"], "--body", body)
    assert comment_url.startswith(a2.base_url), comment_url

    got = peer.wait_activity(
        lambda a: (
            a["type"] == "Create"
            and (
                (a.get("object_parsed") or {}).get("id") == comment_url
                or (a.get("object") or {}).get("id") == comment_url
            )
        ),
        f"Create for the comment {comment_url}",
        extra=a2.diagnostics,
    )
    assert_verified_by_fedify(peer, got, a2)
    parsed = got.get("object_parsed") or {}
    assert parsed.get("inReplyTo") == note["id"], got
    assert parsed.get("attributedTo") == alice, got
    assert body in strip_tags(parsed.get("content") or ""), got


# signature schemes ---------------------------------------------------------------


def test_signature_schemes(peer: Peer, a2: A2) -> None:
    """Which HTTP signature schemes were used, in both directions, as far as observable."""
    ensure_peer_follows_alice(peer, a2)
    alice = a2.actor_url("alice")
    inbound = [a for a in peer.activities() if a["actor"] == alice]
    assert inbound, "nothing from alice reached the peer"
    schemes = set()
    for act in inbound:
        hs = act.get("http_signature") or {}
        assert hs.get("verified") is True, act
        schemes.add(hs["scheme"])
    print(f"{peer.version_id}: fediverse-a2 -> Fedify verified with {sorted(schemes)}")
    if peer.rfc9421_capable:
        assert schemes <= {RFC9421, CAVAGE} and schemes, schemes
    else:
        # Fedify 1.5 verifies draft-cavage only, so that is what reached its listeners.
        assert schemes == {CAVAGE}, schemes
    # Anything the peer's inbox refused from fediverse-a2 must be a signature
    # Fedify could not check (e.g. an RFC 9421 first knock to Fedify 1.5),
    # answered 401 so that fediverse-a2 can retry with draft-cavage.
    refused = [r for r in peer.log()["inbox_failures"] if (r.get("activity") or {}).get("actor") == alice]
    for r in refused:
        assert r["status"] == 401, r
        if not peer.rfc9421_capable:
            assert r["signature"]["scheme"] == RFC9421, r
        else:
            pytest.fail(f"Fedify {peer.fedify_version} refused a request from fediverse-a2: {json.dumps(r, indent=1)}")
    if refused:
        print(
            f"{peer.version_id}: refused first knocks from fediverse-a2: "
            f"{[(r['activity']['type'], r['signature']['scheme'], r['status']) for r in refused]}"
        )

    # Peer -> fediverse-a2.
    if peer.rfc9421_capable:
        check_double_knock(peer, a2)
        print(f"{peer.version_id}: Fedify remembers {peer.specs()['remembered'].get(a2.base_url)} for {a2.base_url}")
    else:
        posts = [o for o in peer.log()["outgoing"] if o["method"] == "POST" and o["url"].startswith(a2.base_url)]
        assert posts and all(p["signature"]["scheme"] == CAVAGE for p in posts), posts
        assert peer.specs()["remembered"] == {}

    # Fedify never needed anything off-loopback (e.g. a JSON-LD context it does
    # not preload) to process what fediverse-a2 served or sent.
    log = peer.log()
    assert log["blocked_fetches"] == [], log["blocked_fetches"]
    for e in log["errors"]:
        print(f"{peer.version_id} peer reported: [{e.get('source')}] {e.get('message')}")
