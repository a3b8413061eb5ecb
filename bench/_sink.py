"""The fan-out sink: a raw asyncio HTTP/1.1 server on many 127.0.0.1 ports (one "host" each).

It answers every POST with 202 at once, counts them per port, and verifies the signature of
every `--verify-every`-th request with fediverse_a2.signatures.verify_request against the
member's public key. A control port answers GET /stats with JSON. Started by bench_fanout.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from fediverse_a2.signatures import PublicKey, SignatureError, verify_request

RESPONSE = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


class Stats:
    def __init__(self, verify_every: int, key: PublicKey) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.verify_every = verify_every
        self.key = key
        self.verified = 0
        self.bad: list[str] = []
        self.schemes: dict[str, int] = {}
        self.paths: set[str] = set()
        self.duplicates = 0
        self.checks: set[asyncio.Task[None]] = set()  # verifications in flight (kept referenced)

    async def lookup(self, key_id: str, refresh: bool) -> PublicKey:
        if key_id != self.key.key_id:
            raise SignatureError(f"unknown key {key_id}")
        return self.key

    async def verify(self, port: int, head: bytes, body: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
        try:
            v = await verify_request(method, f"http://127.0.0.1:{port}{path}", _Multi(headers), body, self.lookup)
            self.verified += 1
            self.schemes[v.scheme] = self.schemes.get(v.scheme, 0) + 1
        except SignatureError as exc:
            self.bad.append(exc.reason)


class _Multi:
    """A header mapping that yields repeated lines, as the verifier expects."""

    def __init__(self, items: list[tuple[str, ...]]) -> None:
        self._items = items

    def items(self):
        return iter(self._items)


class SinkProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats, port: int) -> None:
        self.stats, self.port = stats, port
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            low = head.lower()
            i = low.find(b"\r\ncontent-length:")
            if i >= 0:
                j = low.find(b"\r\n", i + 2)
                length = int(head[i + 17 : j if j >= 0 else len(head)].strip())
            total = end + 4 + length
            if len(self.buf) < total:
                return
            body = self.buf[end + 4 : total]
            self.buf = self.buf[total:]
            self.handle(head, body)

    def handle(self, head: bytes, body: bytes) -> None:
        st = self.stats
        now = time.time()
        if head.startswith(b"GET /stats"):
            payload = json.dumps(
                {
                    "count": st.count,
                    "first": st.first,
                    "last": st.last,
                    "verified": st.verified,
                    "bad": st.bad[:5],
                    "bad_count": len(st.bad),
                    "schemes": st.schemes,
                    "distinct": len(st.paths),
                    "duplicates": st.duplicates,
                }
            ).encode()
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            return
        if head.startswith(b"POST /reset"):
            st.count, st.first, st.last, st.verified, st.bad, st.schemes = 0, 0.0, 0.0, 0, [], {}
            st.paths, st.duplicates = set(), 0
            assert self.transport is not None
            self.transport.write(RESPONSE)
            return
        st.count += 1
        st.first = st.first or now
        st.last = now
        path = f"{self.port}{head[5 : head.find(b' ', 5)].decode()}"
        if path in st.paths:
            st.duplicates += 1
        st.paths.add(path)
        assert self.transport is not None
        self.transport.write(RESPONSE)
        if st.verify_every and st.count % st.verify_every == 1:
            task = asyncio.ensure_future(st.verify(self.port, head, body))
            st.checks.add(task)
            task.add_done_callback(st.checks.discard)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", type=int, required=True, help="how many inbox ports")
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--control-port", type=int, required=True)
    ap.add_argument("--public-pem", required=True)
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--owner", required=True)
    ap.add_argument("--verify-every", type=int, default=50)
    ap.add_argument("--exclude", type=int, action="append", default=[], help="a port others will listen on")
    args = ap.parse_args()
    pem = Path(args.public_pem).read_bytes()
    stats = Stats(args.verify_every, PublicKey(args.key_id, args.owner, serialization.load_pem_public_key(pem)))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    ports = []
    servers = []
    held = []
    while len(ports) < args.ports:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if port in args.exclude or port == args.control_port:
            held.append(sock)  # keep it bound, so the next bind gets another port
            continue
        ports.append(port)
        servers.append(await loop.create_server(lambda p=port: SinkProtocol(stats, p), sock=sock, backlog=64))
    ctl = socket.socket()
    ctl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ctl.bind(("127.0.0.1", args.control_port))
    servers.append(await loop.create_server(lambda: SinkProtocol(stats, args.control_port), sock=ctl))
    for sock in held:
        sock.close()
    Path(args.ports_file).write_text(json.dumps(ports))
    try:
        await asyncio.sleep(3600)  # the bench stops us long before
    finally:
        for s in servers:
            s.close()


if __name__ == "__main__":
    asyncio.run(main())
