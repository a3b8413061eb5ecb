"""Inbox ingest: N distinct, validly signed Create{Note} replies to one post.

    python bench/bench_inbox.py            # N=5000, 32 connections
    python bench/bench_inbox.py --quick    # N=300 smoke run

What happens:
1. A fresh instance folder: one member, two posts (A is measured, B takes the warm-up).
2. A tiny key server (stdlib http.server in a thread, 127.0.0.1) serves the actor documents of
   `--actors` remote actors with RSA-2048 keys, so the server fetches each key once, then caches it.
3. N requests are built and signed (draft-cavage by default, `--scheme rfc9421` for RFC 9421) with
   fediverse_a2.signatures.sign_headers, in a process pool, before any timing.
4. `fediverse-a2 serve` runs as a separate process. Warm-up: one reply per actor to post B,
   until B's replies collection shows them all (keys fetched and cached, actors stored).
5. Timed: the N requests over 32 keep-alive connections (a raw asyncio HTTP/1.1 client, so the
   client costs little), then GET /posts/A/replies every 20 ms until totalItems == N.
   Throughput = N / (time from the first request until every reply is visible).
   The accept rate (N / time until the last 202) is printed as well.
6. Reference: the same request bytes, same client, against bench/_bare.py (bare Starlette +
   uvicorn, reads the body, answers 202) in its own process, measured before and after the
   server under test; the mean of the two is the reference rate.

The federation rate limit (3000 a minute per remote domain by default) would refuse most of
the N requests, all coming from 127.0.0.1; the bench sets it to 10,000,000 a minute, so the
limiter still runs on every request but never refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HOST,
    HttpConn,
    Report,
    bare_proc,
    blast,
    children_of,
    cpu_seconds,
    family_cpu_seconds,
    free_port,
    get_request,
    post_request,
    proc_status,
    serve_proc,
    start_profiler,
    stop_profiler,
    workdir,
    write_config,
)

AP = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {"toot": "http://joinmastodon.org/ns#", "sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
]

# -- the remote side ------------------------------------------------------------------------

_PRIVATE: dict[str, object] = {}


def _init_signer(pems: dict[str, bytes]) -> None:
    from cryptography.hazmat.primitives import serialization

    for name, pem in pems.items():
        _PRIVATE[name] = serialization.load_pem_private_key(pem, password=None)


def _sign(job: tuple[str, str, str, bytes, str]) -> dict[str, str]:
    from fediverse_a2.signatures import sign_headers

    name, key_id, url, body, scheme = job
    return sign_headers("POST", url, body, key_id, _PRIVATE[name], scheme=scheme)  # type: ignore[arg-type]


class KeyServer:
    """Actor documents for the remote actors, on 127.0.0.1 (stdlib server in a thread)."""

    def __init__(self, actors: int) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.keys = {f"a{i}": rsa.generate_private_key(public_exponent=65537, key_size=2048) for i in range(actors)}
        self.pems = {
            n: k.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            for n, k in self.keys.items()
        }
        self.docs = {f"/users/{n}": orjson.dumps(self.actor_doc(n, k)) for n, k in self.keys.items()}
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.hits += 1
                body = owner.docs.get(self.path.split("#")[0])
                self.send_response(200 if body else 404)
                body = body or b"{}"
                self.send_header("Content-Type", AP)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((HOST, self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def uri(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def actor_doc(self, name: str, key: object) -> dict[str, object]:
        from cryptography.hazmat.primitives import serialization

        uri = self.uri(name)
        pem = (
            key.public_key()
            .public_bytes(  # type: ignore[attr-defined]
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return {
            "@context": CONTEXT,
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "name": f"Actor {name}",
            "summary": "<p>Ambtenaar</p>",
            "url": f"{self.base}/@{name}",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem},
        }

    def create_reply(self, name: str, serial: int, in_reply_to: str) -> bytes:
        note_id = f"{self.base}/users/{name}/statuses/{serial}"
        content = f'<p>Reactie nummer {serial} op het bericht, met een <a href="{self.base}/tags/a2">#a2</a> tag.</p>'
        note = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": in_reply_to,
            "published": "2026-11-28T10:00:00Z",
            "url": f"{self.base}/@{name}/{serial}",
            "attributedTo": self.uri(name),
            "to": [PUBLIC],
            "cc": [f"{self.uri(name)}/followers"],
            "sensitive": False,
            "content": content,
            "contentMap": {"nl": content},
            "tag": [{"type": "Hashtag", "href": f"{self.base}/tags/a2", "name": "#a2"}],
            "attachment": [],
        }
        activity = {
            "@context": CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": self.uri(name),
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
        return orjson.dumps(activity)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def build_requests(
    ks: KeyServer, port: int, post_url: str, serials: range, scheme: str, pool: ProcessPoolExecutor
) -> list[bytes]:
    url = f"http://{HOST}:{port}/inbox"
    names = list(ks.keys)
    jobs, bodies = [], []
    for serial in serials:
        name = names[serial % len(names)]
        body = ks.create_reply(name, serial, post_url)
        bodies.append(body)
        jobs.append((name, f"{ks.uri(name)}#main-key", url, body, scheme))
    out = []
    for body, signed in zip(bodies, pool.map(_sign, jobs, chunksize=64), strict=False):
        out.append(post_request("/inbox", {**signed, "Content-Type": AP}, body))
    return out


# -- the run --------------------------------------------------------------------------------


async def replies_total(conn: HttpConn, port: int, post_id: int) -> int:
    status, _, body = await conn.send(get_request(port, f"/posts/{post_id}/replies", AP))
    return int(orjson.loads(body)["totalItems"]) if status == 200 else -1


async def wait_total(port: int, post_id: int, want: int, timeout: float) -> float:
    """Poll the replies collection until totalItems == want; returns the time it was seen."""
    conn = await HttpConn.open(port)
    try:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if await replies_total(conn, port, post_id) >= want:
                return time.perf_counter()
            await asyncio.sleep(0.02)
        raise RuntimeError(f"replies of post {post_id} did not reach {want} within {timeout} s")
    finally:
        await conn.close()


async def seed(config: Path) -> tuple[int, int]:
    from fediverse_a2.config import load_config
    from fediverse_a2.runtime import Runtime
    from fediverse_a2.services.members import add_member
    from fediverse_a2.services.posts import publish_post

    rt = await Runtime.open(load_config(config))
    try:
        await add_member(rt, "alice", "Alice de Vries")
        a = await publish_post(rt, "alice", "Bericht A", "Het gemeten bericht.")
        b = await publish_post(rt, "alice", "Bericht B", "Het opwarmbericht.")
    finally:
        await rt.close()
    return int(a.rsplit("/", 1)[1]), int(b.rsplit("/", 1)[1])


async def run_reference(folder: Path, make: object, conns: int, label: str, rep: Report, *extra: str) -> float:
    port = free_port()
    requests = make(port)  # type: ignore[operator]
    with bare_proc(port, folder / f"bare-{label}.log", *extra) as proc:
        proc.start("/")
        await blast(port, requests[: min(200, len(requests))], conns)  # warm the connections up
        cpu0 = cpu_seconds(proc.pid)
        elapsed, statuses = await blast(port, requests, conns)
        cpu = cpu_seconds(proc.pid) - cpu0
    rate = len(requests) / elapsed
    rep.line(
        f"reference ({label}): {len(requests)} POSTs in {elapsed:.2f} s = {rate:,.0f}/s; "
        f"server CPU {cpu / len(requests) * 1e6:.0f} us/request; statuses {dict(statuses)}"
    )
    return rate


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--actors", type=int, default=8)
    ap.add_argument("--scheme", choices=("cavage", "rfc9421"), default="cavage")
    ap.add_argument("--background", choices=("auto", "process", "inline"), help="server.background for serve")
    ap.add_argument("--quick", action="store_true", help="N=300 smoke run, nothing saved")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="", help="suffix for the results file")
    ap.add_argument("--profile", metavar="FILE", help="record the server with py-spy (collapsed stacks) into FILE")
    ap.add_argument("--profile-worker", metavar="FILE", help="the same for serve's worker process, if it has one")
    args = ap.parse_args()
    n = 300 if args.quick else args.n
    rep = Report("bench_inbox", save=not (args.quick or args.no_save))
    rep.line(
        f"N={n} connections={args.connections} actors={args.actors} scheme={args.scheme}"
        f" background={args.background or 'auto (default)'}"
    )

    ks = KeyServer(args.actors)
    pool = ProcessPoolExecutor(2, initializer=_init_signer, initargs=(ks.pems,))
    try:
        with workdir("inbox") as folder:
            port = free_port()
            config = write_config(
                folder / "a2",
                port,
                federation={
                    "mode": "open",
                    "allow_private_network": True,
                    "inbox_rate_limit": 10_000_000,
                },
                **({"server": {"background": args.background}} if args.background else {}),
            )
            post_a, post_b = await seed(config)
            base = f"http://{HOST}:{port}"
            t = time.perf_counter()
            warm = build_requests(
                ks, port, f"{base}/posts/{post_b}", range(10**6, 10**6 + args.actors), args.scheme, pool
            )
            measured = build_requests(ks, port, f"{base}/posts/{post_a}", range(n), args.scheme, pool)
            rep.line(f"(signed {len(warm) + len(measured)} requests in {time.perf_counter() - t:.1f} s, before timing)")

            def for_bare(p: int) -> list[bytes]:
                # Same bytes; only the Host line names the reference's port.
                old, new = f"Host: {HOST}:{port}\r\n".encode(), f"Host: {HOST}:{p}\r\n".encode()
                return [r.replace(old, new, 1) for r in measured]

            ref1 = await run_reference(folder, for_bare, args.connections, "before", rep)

            with serve_proc(config, port, folder / "serve.log") as proc:
                proc.start("/.well-known/nodeinfo")
                _, wst = await blast(port, warm, min(args.connections, len(warm)))
                await wait_total(port, post_b, len(warm), 60)
                rep.line(
                    f"warm-up: {len(warm)} replies from {args.actors} actors {dict(wst)}; key server hits {ks.hits}"
                )
                spy = start_profiler(proc.pid, args.profile) if args.profile else None
                worker_pids = [p for p in children_of(proc.pid) if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
                spy_worker = (
                    start_profiler(worker_pids[0], args.profile_worker) if args.profile_worker and worker_pids else None
                )
                cpu0 = family_cpu_seconds(proc.pid)
                started = time.perf_counter()
                accept_s, statuses = await blast(port, measured, args.connections)
                done_at = await wait_total(port, post_a, n, 600)
                for running in (spy, spy_worker):
                    if running is not None:
                        stop_profiler(running)
                total_s = done_at - started
                cpu1 = family_cpu_seconds(proc.pid)
                split = {p: cpu1[p] - cpu0.get(p, 0.0) for p in cpu1}
                cpu = sum(split.values())
                rep.line(
                    "server CPU by process: "
                    + ", ".join(
                        f"{'serve' if p == proc.pid else 'child ' + str(p)} {c / n * 1e6:.0f} us/reply"
                        for p, c in split.items()
                    )
                )
                hwm = proc_status(proc.pid).get("VmHWM", 0)
                conn = await HttpConn.open(port)
                final = await replies_total(conn, port, post_a)
                await conn.close()
            ref2 = await run_reference(folder, for_bare, args.connections, "after", rep)
            # For context: the same bare app on uvicorn's pure-Python stack (h11, asyncio loop).
            ref_h11 = await run_reference(
                folder, for_bare, args.connections, "h11+asyncio", rep, "--http", "h11", "--loop", "asyncio"
            )
            import sqlite3

            db = sqlite3.connect(folder / "a2" / "data" / "db.sqlite3")
            stored = db.execute("SELECT COUNT(*) FROM comments WHERE post_id = ?", (post_a,)).fetchone()[0]
            states = dict(db.execute("SELECT state, COUNT(*) FROM inbox_items GROUP BY state").fetchall())
            db.close()
    finally:
        pool.shutdown()
        ks.close()

    ref = (ref1 + ref2) / 2
    accept_rate, stored_rate = n / accept_s, n / total_s
    five = sum(v for k, v in statuses.items() if k >= 500 or k < 0)
    rep.line(f"server: {n} POSTs accepted in {accept_s:.2f} s = {accept_rate:,.0f}/s; statuses {dict(statuses)}")
    rep.line(
        f"server: all {n} stored and visible after {total_s:.2f} s = {stored_rate:,.0f}/s "
        f"(replies totalItems {final}, comments rows {stored}, inbox_items {states})"
    )
    rep.line(f"server CPU {cpu / n * 1e6:.0f} us/request (ingest + processing); peak RSS {hwm / 1024:.0f} MB")
    rep.line(
        f"reference: {ref:,.0f}/s (mean of {ref1:,.0f} and {ref2:,.0f}); on h11+asyncio {ref_h11:,.0f}/s "
        f"(stored-rate/that = {stored_rate / ref_h11:.2f})"
    )
    ok = stored == n and final == n and five == 0
    rep.line(
        f"RESULT stored-rate/reference = {stored_rate / ref:.2f}  (accept-rate/reference = {accept_rate / ref:.2f}); "
        f"target >= 0.40: {'MET' if stored_rate / ref >= 0.4 and ok else 'NOT MET'}; "
        f"every reply stored: {stored == n}; 5xx/errors: {five}"
    )
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
