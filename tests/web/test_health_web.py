"""/healthz, /metrics and /admin/health through real HTTP.

/healthz: the database and the queues as they are in the tables. /metrics: Prometheus' text
format (read back with prometheus-client's own parser), counting what the inbox accepted and
refused and why, delivery outcomes against real inboxes on 127.0.0.1, and request latency per
route group; only for a direct loopback peer, or with `metrics.token` only for its bearer.
/admin/health: the same numbers for admins, with the failing domains.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_mastodon import AP, FakeMastodon, running
from fediverse_a2.services.members import add_member
from fediverse_a2.store import activities, deliveries, domain_health
from fediverse_a2.store import inbox as inbox_store
from fediverse_a2.web.health import route_group
from helpers import LiveServer, cli, free_socket, live_server, serving, write_config
from html_check import check_html
from webclient import WebUser, member_with_password

PASSWORD = "correct horse battery"
TOKEN = "s3cret-metrics-token-0123456789"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels (prometheus-client's own parser)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _metrics(server: LiveServer, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with server.client() as client:
        r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _samples(r.text)


@pytest.fixture
async def a2(tmp_path: Path, database_url: str | None) -> AsyncIterator[LiveServer]:
    async with live_server(tmp_path / "a2", database=database_url) as server:
        yield server


def test_requests_are_grouped_by_route_never_by_path() -> None:
    assert route_group("POST", "/inbox") == route_group("POST", "/users/alice/inbox") == "inbox"
    assert route_group("GET", "/users/alice") == route_group("GET", "/posts/12") == "objects"
    assert route_group("GET", "/users/alice/feed.atom") == route_group("GET", "/feed.atom") == "feeds"
    assert route_group("GET", "/.well-known/webfinger") == route_group("GET", "/nodeinfo/2.1") == "discovery"
    assert route_group("GET", "/media/abc.png") == route_group("GET", "/static/style.css") == "files"
    assert route_group("GET", "/admin/health") == route_group("POST", "/moderation/blocks") == "admin"
    assert route_group("GET", "/metrics") == route_group("GET", "/healthz") == "monitoring"
    assert route_group("GET", "/") == route_group("GET", "/anything/else?x=1") == "pages"
    assert route_group("GET", "") == "pages"


# -- /healthz --------------------------------------------------------------------------------


async def test_healthz_tells_the_database_and_the_queues(a2: LiveServer) -> None:
    now = time.time()
    member = await add_member(a2.rt, "alice", "Alice")
    activity = await activities.add(a2.rt.db, "https://a2.test/activities/1", member.id, "Create", None, "{}")
    targets = [(f"https://r{n}.test/inbox", f"r{n}.test", None) for n in range(3)]
    await deliveries.enqueue(a2.rt.db, activity, targets, now - 100)
    await a2.rt.db.execute("UPDATE deliveries SET created_at = ?", (now - 100,))
    # Two in work (leased) and one due since 100 s, waiting for a worker; the oldest is 100 s old.
    assert len(await deliveries.claim(a2.rt.db, now, 60, 2, "someone")) == 2
    for n in range(3):
        assert await inbox_store.add(a2.rt.db, f"https://r.test/a/{n}", "https://r.test/u", "r.test", "{}")
    await a2.rt.db.execute("UPDATE inbox_items SET received_at = ?", (now - 50,))
    assert len(await inbox_store.claim(a2.rt.db, now, 60, 3, "someone")) == 3  # all in work: no lag
    async with a2.client() as client:
        r = await client.get("/healthz")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok" and isinstance(body["schema"], int)
    inbox, out, mail = body["queues"]["inbox"], body["queues"]["deliveries"], body["queues"]["mail"]
    assert inbox["depth"] == 3 and 50 <= inbox["oldest_age_seconds"] < 50 + 60 and inbox["lag_seconds"] == 0
    assert out["depth"] == 3 and out["oldest_age_seconds"] >= 100 and 100 <= out["lag_seconds"] < 100 + 60
    assert mail == {"depth": 0, "oldest_age_seconds": 0.0, "lag_seconds": 0.0}
    # Handed back (a worker stopped): the inbox items wait for a worker since their lease ended.
    await a2.rt.db.execute("UPDATE inbox_items SET locked_until = ?, lease_owner = NULL", (now - 20,))
    async with a2.client() as client:
        inbox = (await client.get("/healthz")).json()["queues"]["inbox"]
    assert 20 <= inbox["lag_seconds"] < 20 + 60


async def test_healthz_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2") as a2:
        await a2.rt.db.close()
        async with a2.client() as client:
            r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "error" and r.json()["database"] == "unavailable"


# -- /metrics: what is counted -------------------------------------------------------------------


async def test_metrics_count_inbox_results_and_refusals_by_reason(a2: LiveServer) -> None:
    await add_member(a2.rt, "alice", "Alice")
    fake = FakeMastodon()
    fake.add_user("carla", "Carla")
    async with running(fake):
        note = fake.note("carla", "<p>Hallo</p>", None)
        create = fake.create("carla", note)
        assert (await fake.send("carla", f"{a2.base_url}/inbox", create)).status_code == 202
        assert (await fake.send("carla", f"{a2.base_url}/inbox", create)).status_code == 202  # again
        assert (await fake.send("carla", f"{a2.base_url}/users/nobody/inbox", create)).status_code == 404
        async with a2.client() as client:
            unsigned = await client.post("/inbox", content=b'{"type": "Create"}', headers={"Content-Type": AP})
            assert unsigned.status_code == 401
            text = await client.post("/inbox", content=b"hallo", headers={"Content-Type": "text/plain"})
            assert text.status_code == 415
    before = await _metrics(a2)
    assert before[("fediverse_a2_inbox_accepted_total", (("result", "new"),))] == 1
    assert before[("fediverse_a2_inbox_accepted_total", (("result", "duplicate"),))] == 1
    refused = {labels[0][1]: v for (name, labels), v in before.items() if name == "fediverse_a2_inbox_refused_total"}
    assert refused == {"no_such_member": 1, "signature": 1, "content_type": 1}
    # Latency per route group: the five inbox POSTs, by status class.
    assert before[("fediverse_a2_http_request_duration_seconds_count", (("group", "inbox"),))] == 5
    assert before[("fediverse_a2_http_responses_total", (("group", "inbox"), ("status", "2xx")))] == 2
    assert before[("fediverse_a2_http_responses_total", (("group", "inbox"), ("status", "4xx")))] == 3
    assert before[("fediverse_a2_queue_depth", (("queue", "inbox"),))] == 1  # the one stored, unprocessed
    assert before[("fediverse_a2_database_up", ())] == 1
    # The scrape itself is counted for the next one.
    after = await _metrics(a2)
    assert after[("fediverse_a2_http_request_duration_seconds_count", (("group", "monitoring"),))] == 1
    fake.sock.close()


class Inboxes:
    """Inboxes on 127.0.0.1 that answer a fixed status by path."""

    STATUS: ClassVar[dict[str, int]] = {"/ok": 202, "/busy": 503, "/gone": 410, "/refuses": 400}

    def __init__(self) -> None:
        self.sock = free_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])

    async def inbox(self, request: Request) -> Response:
        await request.body()
        return Response(status_code=self.STATUS[request.url.path])


async def test_metrics_count_delivery_outcomes(a2: LiveServer) -> None:
    member = await add_member(a2.rt, "alice", "Alice")
    activity = await activities.add(a2.rt.db, f"{a2.base_url}/activities/1", member.id, "Create", None, "{}")
    inboxes = Inboxes()
    targets = [(f"{inboxes.base}{path}", "127.0.0.1", None) for path in Inboxes.STATUS]
    await deliveries.enqueue(a2.rt.db, activity, targets, time.time())
    async with serving(inboxes):
        assert await a2.workers.deliverer.run_once() == 4
    counted = await _metrics(a2)
    outcomes = {labels[0][1]: v for (name, labels), v in counted.items() if name == "fediverse_a2_deliveries_total"}
    assert outcomes == {"sent": 1, "retry": 1, "gone": 1, "failed": 1}
    assert counted[("fediverse_a2_queue_depth", (("queue", "deliveries"),))] == 1  # the retry waits
    assert counted[("fediverse_a2_domains_failing", ())] == 1  # the one that answered 503 (a failure day)


# -- /metrics: who may read it --------------------------------------------------------------------


async def test_metrics_answer_a_direct_loopback_peer_only(a2: LiveServer) -> None:
    assert await _metrics(a2)  # a scraper on this host, straight to serve
    async with a2.client() as client:
        # Through a reverse proxy every peer is the proxy, on loopback: the header gives it away.
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            r = await client.get("/metrics", headers={header: "203.0.113.9"})
            assert r.status_code == 403 and "metrics.token" in r.text, header
            assert "fediverse_a2" not in r.text


async def test_with_a_token_metrics_answer_only_its_bearer(tmp_path: Path) -> None:
    async with live_server(tmp_path / "a2", metrics={"token": TOKEN}) as a2, a2.client() as client:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}):  # fmt: skip
            r = await client.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"].startswith("Bearer") and "fediverse_a2" not in r.text
        # The token is the protection: with it, a proxied request is answered too.
        samples = await _metrics(a2, Authorization=f"Bearer {TOKEN}", **{"X-Forwarded-For": "203.0.113.9"})
        assert samples[("fediverse_a2_database_up", ())] == 1


def test_a_short_metrics_token_is_refused_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "a2", "http://127.0.0.1:8000", metrics={"token": "short"})
    proc = cli(config, "member", "list", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "fediverse-a2: config key metrics.token must be at least 16 characters, without spaces"
    )


# -- /admin/health ----------------------------------------------------------------------------------


async def test_the_admin_page_shows_the_numbers_and_the_failing_domains(a2: LiveServer) -> None:
    await member_with_password(a2, "ria", "Ria Beheer", PASSWORD, role="admin")
    await member_with_password(a2, "bob", "Bob Lid", PASSWORD)
    member = await add_member(a2.rt, "alice", "Alice")
    activity = await activities.add(a2.rt.db, f"{a2.base_url}/activities/1", member.id, "Create", None, "{}")
    await deliveries.enqueue(a2.rt.db, activity, [("https://down.example/inbox", "down.example", None)], 1.0)
    claimed = await deliveries.claim(a2.rt.db, time.time(), 60, 10, "me")
    retry = deliveries.Result(claimed[0].id, deliveries.DeliveryState.PENDING, 3, time.time() + 600, 503, "HTTP 503")
    await deliveries.record(a2.rt.db, [retry], time.time())
    await domain_health.set_unavailable(a2.rt.db, "dead.example", True, time.time())
    a2.rt.metrics.inbox_refused("policy")

    async with httpx.AsyncClient(base_url=a2.base_url) as visitor:
        r = await visitor.get("/admin/health")
        assert r.status_code == 303 and r.headers["location"].endswith("/login?next=/admin/health")
    web = WebUser(a2.base_url)
    async with web:
        assert (await web.login("bob", PASSWORD)).status_code == 303
        assert (await web.get("/admin/health")).status_code == 403
    web = WebUser(a2.base_url)
    async with web:
        assert (await web.login("ria", PASSWORD)).status_code == 303
        page = (await web.get("/admin/health")).text
        check_html(page)
        assert "<h1>Gezondheid</h1>" in page and "bereikbaar" in page
        for domain, text in (("down.example", "HTTP 503"), ("dead.example", "ja")):
            assert f'<th scope="row">{domain}</th>' in page and text in page
        assert "<code>policy</code>" in page  # the inbox refusals counted so far
        english = (await web.get("/admin/health?lang=en")).text
        assert "<h1>Health</h1>" in english and "Servers deliveries fail to" in english
        assert 'href="/admin/health" aria-current="page"' in english
