"""Self test of tests/relay_harness.py against the real ActivityRelay 0.3.5, without fediverse-a2.

Fake subscribers (`FakeInstance`: a Starlette app on 127.0.0.1 behind a TlsFront on
https://127.0.0.N) follow the relay, get accepted, and relay a post to each other. Every
request the relay sends them is checked with `httpsig` (draft-cavage) against the relay
actor's key. The rest of the tests pin down what the relay checks (actor type, NodeInfo,
software bans, the signature scheme, where posts may come from), as measured.

The relay tests need `.venv-relay` (tests/relay/install.sh) and skip without it, unless
FEDIVERSE_A2_RELAY=1 (CI), when they fail. The last test checks the TlsFront alone.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import itertools
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpsig
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from httpsig.utils import parse_signature_header
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay_harness import (  # the *_fixture imports register the harness fixtures in this module
    ACTIVITY_JSON,
    LoopbackCA,
    Party,
    Relay,
    party_factory_fixture,  # noqa: F401
    relay_ca_fixture,  # noqa: F401
    relay_fixture,  # noqa: F401
    wait_for,
)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SIGNED_HEADERS = ["(request-target)", "host", "date", "digest", "content-type"]


@dataclass
class Arrival:
    """One POST that reached a fake inbox, and what checking its signature found."""

    path: str
    activity: dict[str, Any]
    headers: dict[str, str]
    signature: dict[str, str]
    verified: bool
    problem: str | None = None

    @property
    def type(self) -> str:
        return str(self.activity.get("type"))


@dataclass
class FakeInstance:
    """A tiny ActivityPub server: instance actor (`Application` by default), alice (Person), a Group, NodeInfo."""

    ca: LoopbackCA
    software: str | None = "fediverse-a2"
    origin: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    fetches: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # GETs of actors: path, headers
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ids: Any = field(default_factory=itertools.count)

    # -- identities --------------------------------------------------------------------
    @property
    def actor(self) -> str:
        return f"{self.origin}/actor"

    @property
    def shared_inbox(self) -> str:
        return f"{self.origin}/inbox"

    @property
    def alice(self) -> str:
        return f"{self.origin}/users/alice"

    @property
    def bob(self) -> str:
        """A Person without a shared inbox: posts from him do not come from the subscribed inbox."""
        return f"{self.origin}/users/bob"

    @property
    def group(self) -> str:
        return f"{self.origin}/groups/staff"

    def new_id(self, kind: str) -> str:
        return f"{self.origin}/{kind}/{next(self.ids)}"

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def private_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    def actor_document(self, actor_id: str, actor_type: str, username: str, shared: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": actor_type,
            "preferredUsername": username,
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": self.public_pem()},
        }
        if shared:
            doc["endpoints"] = {"sharedInbox": self.shared_inbox}
        return doc

    # -- the app -------------------------------------------------------------------------
    @property
    def app(self) -> Starlette:
        async def actor(request: Request) -> Response:
            self.fetches.append((request.url.path, dict(request.headers)))
            docs = {
                "/actor": self.actor_document(self.actor, "Application", self.origin.split("//", 1)[1]),
                "/users/alice": self.actor_document(self.alice, "Person", "alice"),
                "/users/bob": self.actor_document(self.bob, "Person", "bob", shared=False),
                "/groups/staff": self.actor_document(self.group, "Group", "staff"),
            }
            doc = docs.get(request.url.path)
            if doc is None:
                return JSONResponse({"error": "not found"}, 404)
            return JSONResponse(doc, media_type=ACTIVITY_JSON)

        async def well_known_nodeinfo(request: Request) -> Response:
            if self.software is None:
                return JSONResponse({"error": "no nodeinfo here"}, 404)
            href = f"{self.origin}/nodeinfo/2.0"
            return JSONResponse({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": href}]})

        async def nodeinfo(request: Request) -> Response:
            return JSONResponse(
                {
                    "version": "2.0",
                    "software": {"name": self.software, "version": "0.1.0"},
                    "protocols": ["activitypub"],
                    "services": {"inbound": [], "outbound": []},
                    "openRegistrations": False,
                    "usage": {"users": {"total": 2}},
                    "metadata": {},
                }
            )

        async def note(request: Request) -> Response:
            doc = self.notes.get(str(request.url).split("?", 1)[0])
            if doc is None:
                return JSONResponse({"error": "not found"}, 404)
            return JSONResponse(doc, media_type=ACTIVITY_JSON)

        async def inbox(request: Request) -> Response:
            body = await request.body()
            self.arrivals.append(await self.check(request, body))
            return Response(status_code=202)

        return Starlette(
            routes=[
                Route("/actor", actor),
                Route("/users/{name}", actor),
                Route("/groups/{name}", actor),
                Route("/.well-known/nodeinfo", well_known_nodeinfo),
                Route("/nodeinfo/2.0", nodeinfo),
                Route("/notes/{n}", note),
                Route("/inbox", inbox, methods=["POST"]),
                Route("/users/{name}/inbox", inbox, methods=["POST"]),
            ]
        )

    async def check(self, request: Request, body: bytes) -> Arrival:
        """Record a POST and verify its draft-cavage signature (httpsig) against the signer's key."""
        headers = dict(request.headers)
        try:
            activity = json.loads(body)
        except ValueError:
            activity = {"unparsed": body.decode("utf-8", "replace")}
        arrival = Arrival(request.url.path, activity, headers, {}, False)
        try:
            arrival.signature = parse_signature_header(headers["signature"])
            key_id = arrival.signature["keyid"]
            async with self.ca.async_client() as client:
                got = await client.get(key_id.split("#", 1)[0], headers={"Accept": ACTIVITY_JSON})
                got.raise_for_status()
            public_pem = got.json()["publicKey"]["publicKeyPem"]
            digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            if headers.get("digest") != digest:
                raise ValueError(f"digest {headers.get('digest')!r} does not match the body ({digest})")
            verifier = httpsig.HeaderVerifier(
                headers,
                public_pem,
                required_headers=["(request-target)", "host", "date", "digest"],
                method=request.method,
                path=request.url.path,
                sign_header="signature",
            )
            arrival.verified = bool(verifier.verify())
            if not arrival.verified:
                arrival.problem = "signature does not verify"
        except Exception as exc:
            arrival.problem = f"{type(exc).__name__}: {exc}"
        return arrival

    # -- sending -------------------------------------------------------------------------
    def post(self, url: str, activity: dict[str, Any], signer: str | None = None) -> httpx.Response:
        """POST `activity` to `url`, signed draft-cavage rsa-sha256 (httpsig) as `signer` (default: its actor)."""
        body = json.dumps(activity).encode("utf-8")
        host = urllib.parse.urlsplit(url).netloc  # no port: https on 443
        path = urllib.parse.urlsplit(url).path
        headers = {
            "host": host,
            "date": email.utils.formatdate(usegmt=True),
            "digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"),
            "content-type": ACTIVITY_JSON,
        }
        key_id = f"{signer or activity['actor']}#main-key"
        signer_ = httpsig.HeaderSigner(
            key_id, self.private_pem(), algorithm="rsa-sha256", headers=SIGNED_HEADERS, sign_header="signature"
        )
        signed = dict(signer_.sign(headers, host=host, method="POST", path=path))
        with self.ca.client() as client:
            return client.post(url, content=body, headers=signed)

    def post_rfc9421(self, url: str, activity: dict[str, Any]) -> httpx.Response:
        """POST `activity` signed with RFC 9421 (rsa-v1_5-sha256) only, as fediverse-a2 tries first."""
        body = json.dumps(activity).encode("utf-8")
        content_digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"
        key_id = f"{activity['actor']}#main-key"
        params = (
            f'("@method" "@target-uri" "content-digest");created={int(time.time())};'
            f'keyid="{key_id}";alg="rsa-v1_5-sha256"'
        )
        base = (
            f'"@method": POST\n"@target-uri": {url}\n"content-digest": {content_digest}\n"@signature-params": {params}'
        )
        sig = self.key.sign(base.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        headers = {
            "content-type": ACTIVITY_JSON,
            "content-digest": content_digest,
            "signature-input": f"sig1={params}",
            "signature": f"sig1=:{base64.b64encode(sig).decode('ascii')}:",
        }
        with self.ca.client() as client:
            return client.post(url, content=body, headers=headers)

    # -- activities ----------------------------------------------------------------------
    def follow(self, relay: Relay, obj: str | None = None, actor: str | None = None) -> dict[str, Any]:
        target = obj or relay.actor
        return {
            "@context": AS_CONTEXT,
            "id": self.new_id("follows"),
            "type": "Follow",
            "actor": actor or self.actor,
            "object": target,
            "to": [target],
        }

    def create_note(self, text: str, author: str | None = None) -> dict[str, Any]:
        author = author or self.alice
        note_id = self.new_id("notes")
        note = {
            "@context": AS_CONTEXT,
            "id": note_id,
            "type": "Note",
            "attributedTo": author,
            "content": f"<p>{text}</p>",
            "published": "2026-12-02T12:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{author}/followers"],
        }
        self.notes[note_id] = note
        return {
            "@context": AS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": author,
            "published": note["published"],
            "to": [PUBLIC],
            "cc": [f"{author}/followers"],
            "object": {k: v for k, v in note.items() if k != "@context"},
        }

    def received(self, kind: str, pred: Callable[[Arrival], bool] = lambda a: True) -> list[Arrival]:
        return [a for a in self.arrivals if a.type == kind and pred(a)]

    def describe(self) -> str:
        lines = [f"{self.origin} received {len(self.arrivals)}:"]
        lines += [
            f"  {a.path} {a.type} verified={a.verified} {a.problem or ''} {json.dumps(a.activity)}"
            for a in self.arrivals
        ]
        return "\n".join(lines)


def subscriber(make: Callable[[Any], Party], ca: LoopbackCA, software: str | None = "fediverse-a2") -> FakeInstance:
    fake = FakeInstance(ca, software)
    fake.origin = make(fake.app).origin
    return fake


def diag(relay: Relay, *fakes: FakeInstance) -> Callable[[], str]:
    return lambda: "\n".join([*(f.describe() for f in fakes), relay.log_tail()])


def wait_arrival(
    fake: FakeInstance, kind: str, relay: Relay, pred: Callable[[Arrival], bool] = lambda a: True, timeout: float = 15
) -> Arrival:
    found: list[Arrival] = wait_for(
        lambda: fake.received(kind, pred), f"{kind} at {fake.origin}", timeout, diag(relay, fake)
    )
    return found[0]


def assert_signed_by_relay(arrival: Arrival, relay: Relay) -> None:
    assert arrival.verified, arrival.problem
    assert arrival.signature["keyid"] == f"{relay.actor}#main-key"
    # The relay signs rsa-sha256 for every software but gotosocial, friendica, misskey and kin (hs2019).
    assert arrival.signature["algorithm"] == "rsa-sha256"
    assert arrival.signature["headers"].split() == [
        "content-type",
        "host",
        "date",
        "(request-target)",
        "digest",
        "content-length",
    ]
    # The relay signs `host` as the URL's host name, no port; it also sends it so on 443.
    assert ":" not in arrival.headers["host"]


def subscribe(fake: FakeInstance, relay: Relay, obj: str | None = None) -> tuple[dict[str, Any], Arrival]:
    follow = fake.follow(relay, obj)
    resp = fake.post(relay.inbox, follow)
    assert resp.status_code == 202, (resp.status_code, resp.text, relay.log_tail())
    accept = wait_arrival(fake, "Accept", relay, lambda a: a.activity["object"]["id"] == follow["id"])
    return follow, accept


def fetch_json(url: str, ca: LoopbackCA) -> Any:
    with ca.client() as client:
        got = client.get(url, headers={"Accept": ACTIVITY_JSON})
    got.raise_for_status()
    return got.json()


def followers_of(relay: Relay, ca: LoopbackCA) -> list[str]:
    return list(fetch_json(f"{relay.origin}/followers", ca)["items"])


# --- the flow fediverse-a2 needs ------------------------------------------------------------


def test_litepub_follow_then_create_is_announced(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    a = subscriber(party_factory, relay_ca, "fediverse-a2")
    b = subscriber(party_factory, relay_ca, "mastodon")

    follow_a, accept_a = subscribe(a, relay)
    assert_signed_by_relay(accept_a, relay)
    assert accept_a.path == "/inbox"  # the shared inbox of the instance actor
    assert accept_a.activity["actor"] == relay.actor
    # The Accept names the relay's actor as its object's object: match it by the Follow's id.
    assert accept_a.activity["object"] == {
        "id": follow_a["id"],
        "type": "Follow",
        "object": relay.actor,
        "actor": a.actor,
    }
    # Software other than "mastodon" is followed back by the relay.
    follow_back = wait_arrival(a, "Follow", relay)
    assert_signed_by_relay(follow_back, relay)
    assert follow_back.activity["actor"] == relay.actor
    assert follow_back.activity["object"] == a.actor
    # Accepting that follow is allowed; the relay has no handler for Accept and answers 202.
    accept_back = {
        "@context": AS_CONTEXT,
        "id": a.new_id("accepts"),
        "type": "Accept",
        "actor": a.actor,
        "object": follow_back.activity,
    }
    assert a.post(relay.inbox, accept_back).status_code == 202

    # The relay fetched the Follow's actor with a signed GET (draft-cavage rsa-sha256); NodeInfo unsigned.
    path, headers = next((p, h) for p, h in a.fetches if p == "/actor")
    signature = parse_signature_header(headers["signature"])
    assert signature["keyid"] == f"{relay.actor}#main-key"
    assert (signature["algorithm"], signature["headers"]) == ("rsa-sha256", "host date (request-target)")
    relay_key = fetch_json(relay.actor, relay_ca)["publicKey"]["publicKeyPem"]
    verifier = httpsig.HeaderVerifier(
        headers, relay_key, ["(request-target)", "host", "date"], "GET", path, None, "signature"
    )
    assert verifier.verify()

    _, accept_b = subscribe(b, relay)
    assert_signed_by_relay(accept_b, relay)
    assert sorted(followers_of(relay, relay_ca)) == sorted([a.actor, b.actor])

    create = a.create_note("Hello from a, through the relay")
    resp = a.post(relay.inbox, create)
    assert resp.status_code == 202, (resp.status_code, resp.text)

    announce = wait_arrival(b, "Announce", relay)
    assert_signed_by_relay(announce, relay)
    assert announce.path == "/inbox"
    activity = announce.activity
    assert activity["actor"] == relay.actor
    assert activity["object"] == create["object"]["id"]  # a bare id: the receiver fetches the note
    assert activity["to"] == [f"{relay.origin}/followers"]
    assert activity["id"].startswith(f"{relay.origin}/activities/")
    # "mastodon" is not followed back; the relay does not send a post back to where it came from.
    time.sleep(1.0)
    assert b.received("Follow") == [], b.describe()
    assert a.received("Announce") == [], a.describe()


def test_mastodon_style_follow_of_public(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    c = subscriber(party_factory, relay_ca)
    follow, accept = subscribe(c, relay, obj=PUBLIC)
    assert_signed_by_relay(accept, relay)
    # Accepted like a LitePub follow: the Accept's object is rebuilt, naming the relay's actor, not as:Public.
    assert accept.activity["object"]["id"] == follow["id"]
    assert accept.activity["object"]["object"] == relay.actor
    assert followers_of(relay, relay_ca) == [c.actor]


# --- what the relay checks, measured ------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "group"])
def test_follow_from_person_or_group_is_rejected(
    who: str, relay: Relay, relay_ca: LoopbackCA, party_factory: Any
) -> None:
    d = subscriber(party_factory, relay_ca)
    follow = d.follow(relay, actor=getattr(d, who))
    assert d.post(relay.inbox, follow).status_code == 202
    reject = wait_arrival(d, "Reject", relay)
    assert_signed_by_relay(reject, relay)
    assert reject.activity["object"]["id"] == follow["id"]
    assert followers_of(relay, relay_ca) == []


def test_banned_software_is_rejected(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    # No software is banned in a new relay; `activityrelay ban add --software NAME` bans by NodeInfo name.
    relay.cli("ban", "add", "--software", "fediverse-a2")
    e = subscriber(party_factory, relay_ca, "fediverse-a2")
    follow = e.follow(relay)
    assert e.post(relay.inbox, follow).status_code == 202
    reject = wait_arrival(e, "Reject", relay)
    assert reject.activity["object"]["id"] == follow["id"]


def test_follow_without_nodeinfo_fails(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    f = subscriber(party_factory, relay_ca, software=None)
    resp = f.post(relay.inbox, f.follow(relay))
    # NodeInfo is fetched (https://HOST/.well-known/nodeinfo) before anything else; its error status is returned.
    assert resp.status_code == 404, (resp.status_code, resp.text)
    assert followers_of(relay, relay_ca) == []


def test_rfc9421_signature_gets_400(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    g = subscriber(party_factory, relay_ca)
    resp = g.post_rfc9421(relay.inbox, g.follow(relay))
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert resp.json() == {"error": "missing signature header"}
    # ... so the draft-cavage fallback (double knock) must follow, and it is accepted.
    subscribe(g, relay)


def test_posts_only_from_the_subscribed_inbox(relay: Relay, relay_ca: LoopbackCA, party_factory: Any) -> None:
    h = subscriber(party_factory, relay_ca)
    outsider = subscriber(party_factory, relay_ca)
    # Not subscribed at all: 401.
    resp = outsider.post(relay.inbox, outsider.create_note("not subscribed"))
    assert (resp.status_code, resp.json()) == (401, {"error": "access denied"})

    subscribe(h, relay)
    # bob has no sharedInbox, so his inbox is not the subscribed one: 401 as well.
    resp = h.post(relay.inbox, h.create_note("from bob", author=h.bob))
    assert (resp.status_code, resp.json()) == (401, {"error": "access denied"})
    # alice shares the instance actor's inbox: accepted.
    assert h.post(relay.inbox, h.create_note("from alice")).status_code == 202


# --- the harness itself (needs no relay) ------------------------------------------------------


def test_tls_front_pipes_bytes_and_keeps_the_host_header(relay_ca: LoopbackCA, party_factory: Any) -> None:
    async def echo(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"host": request.headers["host"], "path": request.url.path, "body": body.decode()})

    party = party_factory(Starlette(routes=[Route("/echo/{rest:path}", echo, methods=["GET", "POST"])]))
    assert party.origin.startswith("https://127.0.0.") and party.front.port == 443
    big = "x" * 300_000  # several reads and writes through the pipe
    with relay_ca.client() as client:
        got = client.post(party.url("/echo/a?b=c"), content=big.encode())
        assert got.json() == {"host": party.address, "path": "/echo/a", "body": big}
        # A second request on the same (kept-alive) connection.
        assert client.get(party.url("/echo/again")).json()["path"] == "/echo/again"
    assert party.front.connections == 1
    # Only the test CA is trusted for it: a client without that CA refuses the certificate.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"), httpx.Client() as plain:
        plain.get(party.url("/echo/x"))
