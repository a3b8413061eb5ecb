"""Ingest on more than one process: PostgreSQL with 2 web + 2 worker processes against one SQLite `serve`.

    python bench/bench_scale.py            # N=5000, 32 connections, 3 rounds of each setup
    python bench/bench_scale.py --quick    # N=300, one round, nothing saved

The measure is bench_inbox.py's (its code is imported, not copied): N distinct, validly
signed Create{Note} replies to one post from `--actors` remote actors over keep-alive
connections; rate = N / time from the first request until every reply is stored, visible
(the post's replies collection says totalItems == N) and every inbox item processed.

Two setups, each on a fresh instance, measured alternately (sqlite, postgresql, sqlite, ...):
- sqlite: one `fediverse-a2 serve` with the default config (on a machine with more than one
  core that is a web process plus its `worker` child: server.background = "auto").
- postgresql: `fediverse-a2 serve --workers 2` (two web processes on one port through
  SO_REUSEPORT, under a supervisor) with server.background = "none", plus two
  `fediverse-a2 worker` processes. The server is a throwaway cluster started by sourcing
  .ci/postgres.sh (fsync and synchronous_commit off, as for the tests), or `--database-url`
  (a fresh database is created on that server for each round and dropped afterwards).

CPU is read from /proc for each process group (web, workers, the PostgreSQL server with its
backends) and for this client process, and given per reply. All of them share the machine's
cores: the notes printed at the end say what that means for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HOST,
    HttpConn,
    Proc,
    Report,
    blast,
    children_of,
    cpu_seconds,
    free_port,
    median,
    spawn,
    start_profiler,
    stop_profiler,
    workdir,
    worker_proc,
    write_config,
)
from bench_inbox import KeyServer, _init_signer, build_requests, replies_total, seed, wait_total
from fediverse_a2.store.connect import open_database
from fediverse_a2.store.db import Database

ROOT = Path(__file__).resolve().parent.parent
FEDERATION = {"mode": "open", "allow_private_network": True, "inbox_rate_limit": 10_000_000}
SETUPS = ("sqlite", "postgresql")

# -- PostgreSQL ---------------------------------------------------------------------------------


class Postgres:
    """A throwaway cluster: .ci/postgres.sh sourced in a shell that then waits on its stdin.

    Closing that stdin ends the shell, whose EXIT trap stops the cluster and removes its folder.
    """

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "FEDIVERSE_A2_TEST_POSTGRES"}
        script = '. .ci/postgres.sh || exit 1; echo "URL=$FEDIVERSE_A2_TEST_POSTGRES"; read -r _'
        self.shell = subprocess.Popen(
            ["bash", "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
        )
        assert self.shell.stdout is not None
        line = self.shell.stdout.readline().strip()
        if not line.startswith("URL=postgresql://"):
            self.close()
            raise RuntimeError("could not start PostgreSQL through .ci/postgres.sh (its messages are above)")
        self.url = line.removeprefix("URL=")

    def close(self) -> None:
        if self.shell.stdin is not None:
            self.shell.stdin.close()
        try:
            self.shell.wait(60)
        except subprocess.TimeoutExpired:
            self.shell.kill()
            self.shell.wait(10)


async def _admin(url: str, statement: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[str]:
    """A new database on the server (its URL), dropped afterwards."""
    name = f"a2_bench_{uuid.uuid4().hex[:12]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def postmaster_pid(url: str) -> int:
    """The server's postmaster: the parent of the backend serving a connection (read while it is open)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return _parent(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


# -- CPU of process groups ------------------------------------------------------------------------


def _reaped(pid: int) -> float:
    """cutime + cstime: the CPU of the children that ended and were waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes, of their running children and of the children they reaped."""
    total = 0.0
    for pid in pids:
        for p in [pid, *children_of(pid)]:
            with contextlib.suppress(OSError):
                total += cpu_seconds(p)
        with contextlib.suppress(OSError):
            total += _reaped(pid)
    return total


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (every process, ours or not), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# -- one round ------------------------------------------------------------------------------------


@dataclass
class Run:
    setup: str
    n: int
    accept_s: float = 0.0
    total_s: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)  # group -> CPU seconds in the timed part
    visible: int = 0
    comments: int = 0
    states: dict[str, int] = field(default_factory=dict)
    statements: list[tuple[int, str]] = field(default_factory=list)  # PostgreSQL: (calls, query), timed part

    @property
    def rate(self) -> float:
        return self.n / self.total_s

    @property
    def errors(self) -> int:
        return sum(v for k, v in self.statuses.items() if k >= 500 or k < 0)

    def ok(self, warm: int) -> bool:
        return (
            self.visible == self.n
            and self.comments == self.n
            and self.states == {"done": self.n + warm}
            and self.errors == 0
        )


class Bench:
    """What every round shares: the remote actors, the signing pool, the options."""

    def __init__(self, args: argparse.Namespace, ks: KeyServer, pool: ProcessPoolExecutor) -> None:
        self.args, self.ks, self.pool = args, ks, pool
        self.serial = 0  # every round's replies get new serials (new activity ids)

    @property
    def warm_n(self) -> int:
        # Several per actor, over several connections: every web process meets every actor
        # (and fetches its key, or reads it from the database) before the timed part.
        return self.args.actors * 4

    def requests(self, port: int, post_id: int, count: int) -> list[bytes]:
        first, self.serial = self.serial, self.serial + count
        url = f"http://{HOST}:{port}/posts/{post_id}"
        return build_requests(self.ks, port, url, range(first, first + count), self.args.scheme, self.pool)

    async def measure(
        self, run: Run, port: int, db: Database, post_a: int, post_b: int, groups: dict[str, list[int]]
    ) -> None:
        """Warm up on post B, then time N replies to post A until stored, visible and processed."""
        warm = self.requests(port, post_b, self.warm_n)
        measured = self.requests(port, post_a, run.n)
        await blast(port, warm, min(self.args.connections, len(warm)))
        await wait_total(port, post_b, len(warm), 60)
        await _until_processed(db, 60)
        counting = db.dialect == "postgresql" and await _statements_reset(db)
        prefix = f"{self.args.profile}-{run.setup}"
        spies = [start_profiler(pid, f"{prefix}-{name}.txt") for name, pid in self.profiled(groups)]
        before = {name: tree_cpu(pids) for name, pids in groups.items()}
        client, machine = _own_cpu(), machine_cpu()
        started = time.perf_counter()
        run.accept_s, run.statuses = await blast(port, measured, self.args.connections)
        visible_at = await wait_total(port, post_a, run.n, 600)
        processed_at = await _until_processed(db, 600)
        run.total_s = max(visible_at, processed_at) - started
        run.cpu = {name: tree_cpu(pids) - before[name] for name, pids in groups.items()}
        for spy in spies:
            stop_profiler(spy)
        if counting:
            run.statements = await _statements(db)
        run.cpu["client (this process)"] = _own_cpu() - client
        # What else ran meanwhile: other people's processes on a shared machine, py-spy, and
        # kernel time not charged to any process.
        run.cpu["rest of the machine"] = max(0.0, machine_cpu() - machine - sum(run.cpu.values()))
        conn = await HttpConn.open(port)
        run.visible = await replies_total(conn, port, post_a)
        await conn.close()
        run.comments = int(await db.fetchval("SELECT COUNT(*) FROM comments WHERE post_id = ?", (post_a,)))
        rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM inbox_items GROUP BY state")
        run.states = {r["state"]: int(r["n"]) for r in rows}

    def profiled(self, groups: dict[str, list[int]]) -> list[tuple[str, int]]:
        """With --profile: one web process and one worker of this setup, for py-spy."""
        if not self.args.profile:
            return []
        web, worker = (pids for name, pids in groups.items() if name.startswith(("web", "worker")))
        # Under the supervisor the web processes are its children: take one of them.
        children = children_of(web[0])
        web_pid = children[0] if len(children) > 1 else web[0]
        return [("web", web_pid), ("worker", worker[0])]

    async def sqlite(self, folder: Path) -> Run:
        """One `serve` on SQLite, default config."""
        run = Run("sqlite", self.args.n)
        port = free_port()
        config = write_config(folder, port, federation=FEDERATION)
        post_a, post_b = await seed(config)
        argv = _command(config, "serve", "--host", HOST, "--port", str(port))
        db = await open_database(str(folder / "data" / "db.sqlite3"))
        try:
            with Proc(argv, port, folder / "serve.log") as serve:
                serve.start("/.well-known/nodeinfo")
                worker = await _worker_child(serve.pid)
                groups = {"web: serve": [serve.pid], "worker: serve's child": [worker]}
                await self.measure(run, port, db, post_a, post_b, groups)
        finally:
            await db.close()
        return run

    async def postgresql(self, folder: Path, server: str) -> Run:
        """`serve --workers 2` (background none) and two `worker` processes on one database."""
        run = Run("postgresql", self.args.n)
        port = free_port()
        async with fresh_database(server) as url:
            config = write_config(
                folder,
                port,
                storage={"database": url, "keys_dir": "keys"},
                federation=FEDERATION,
                server={"background": "none"},
            )
            post_a, post_b = await seed(config)
            argv = _command(config, "serve", "--host", HOST, "--port", str(port), "--workers", "2")
            db = await open_database(url)
            workers = [worker_proc(config, folder / f"worker-{i}.log") for i in range(2)]
            try:
                with Proc(argv, port, folder / "serve.log") as serve:
                    serve.start("/.well-known/nodeinfo")
                    for w in workers:
                        spawn(w)
                    await _workers_running(workers)
                    groups = {
                        "web: supervisor + 2 serve": [serve.pid],
                        "workers: 2 worker": [w.pid for w in workers],
                        "postgresql server": [await postmaster_pid(server)],
                    }
                    await self.measure(run, port, db, post_a, post_b, groups)
            finally:
                for w in workers:
                    w.stop()
                await db.close()
        return run


def _command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "fediverse_a2", "--config", str(config), *args]


async def _statements_reset(db: Database) -> bool:
    """Start counting statements (pg_stat_statements, when the server preloads it)."""
    try:
        await db.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await db.fetchval("SELECT pg_stat_statements_reset()")
    except Exception as exc:  # not preloaded: no counts, the rest of the bench runs as before
        print(f"(no statement counts: {str(exc).splitlines()[0][:100]})")
        return False
    return True


# What the bench itself asks while it waits (polling), not counted as the server's work per reply.
POLLING = ("FROM inbox_items WHERE state = 'queued'", "pg_stat_statements")


async def _statements(db: Database) -> list[tuple[int, str]]:
    """Calls per statement in this database since the reset, most called first."""
    rows = await db.fetchall(
        "SELECT calls, query FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC"
    )
    return [(int(r["calls"]), " ".join(str(r["query"]).split())) for r in rows]


async def _until_processed(db: Database, timeout: float) -> float:
    """Poll until no inbox item is queued; returns the time that was seen."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not await db.fetchval("SELECT COUNT(*) FROM inbox_items WHERE state = 'queued'"):
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise RuntimeError(f"inbox items still queued after {timeout} s")


async def _poll(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30.0) -> Any:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


async def _worker_child(pid: int) -> int:
    """The `worker` child that `serve` starts beside its web process."""

    async def find() -> int | None:
        for child in children_of(pid):
            with contextlib.suppress(OSError):
                if b"worker" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                    return child
        return None

    return int(await _poll(find, "serve's worker child"))


async def _workers_running(workers: list[Proc]) -> None:
    async def running() -> bool:
        for w in workers:
            if w.proc is not None and w.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{w.log.read_text()[-3000:]}")
        return all("worker running" in w.log.read_text() for w in workers)

    await _poll(running, "both worker processes to run")


# -- the report -----------------------------------------------------------------------------------


def _per_reply(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:,.0f} us"


def report_run(rep: Report, run: Run, warm: int) -> None:
    server_cpu = sum(c for g, c in run.cpu.items() if not g.startswith(("client", "rest")))
    rep.line(
        f"{run.setup:<10} {run.n} replies: accepted in {run.accept_s:.2f} s ({run.n / run.accept_s:,.0f}/s), "
        f"stored + visible + processed in {run.total_s:.2f} s = {run.rate:,.0f}/s; statuses {dict(run.statuses)}; "
        f"totalItems {run.visible}, comments {run.comments}, inbox_items {run.states}"
        + ("" if run.ok(warm) else "  ** NOT ALL STORED/PROCESSED **")
    )
    rep.line(
        "           CPU per reply: "
        + ", ".join(f"{g} {_per_reply(c, run.n)}" for g, c in run.cpu.items())
        + f"; server side total {_per_reply(server_cpu, run.n)}"
        + f" = {server_cpu / run.total_s:.2f} cores busy on average"
        + f" (the rest of the machine: {run.cpu.get('rest of the machine', 0.0) / run.total_s:.2f} cores)"
    )
    if run.statements:
        served = [(c, q) for c, q in run.statements if not any(p in q for p in POLLING)]
        total = sum(c for c, _ in served)
        rep.line(
            f"           PostgreSQL statements per reply (pg_stat_statements, timed part, the bench's own polling "
            f"left out): {total / run.n:.2f}; the most called:"
        )
        for calls, query in served[:14]:
            rep.line(f"             {calls / run.n:5.2f}  {query[:150]}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--actors", type=int, default=8)
    ap.add_argument("--scheme", choices=("cavage", "rfc9421"), default="cavage")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each setup, alternating")
    ap.add_argument("--only", choices=SETUPS, help="measure one setup only")
    ap.add_argument("--database-url", help="a PostgreSQL server to use instead of a throwaway one")
    ap.add_argument(
        "--profile", metavar="PREFIX", help="py-spy one web process and one worker: PREFIX-SETUP-web.txt, ..."
    )
    ap.add_argument("--quick", action="store_true", help="N=300, one round, nothing saved")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--tag", default="", help="suffix for the results file")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 300, 1
    rep = Report("bench_scale", save=not (args.quick or args.no_save))
    rep.line(
        f"N={args.n} connections={args.connections} actors={args.actors} scheme={args.scheme} rounds={args.rounds}"
    )
    setups = [args.only] if args.only else list(SETUPS)
    postgres = Postgres() if "postgresql" in setups and not args.database_url else None
    server = args.database_url or (postgres.url if postgres else "")
    if server:
        version = await _admin(server, "SHOW server_version")
        settings = [await _admin(server, f"SHOW {s}") for s in ("fsync", "synchronous_commit")]
        rep.line(f"PostgreSQL {version} (fsync {settings[0]}, synchronous_commit {settings[1]})")
    ks = KeyServer(args.actors)
    pool = ProcessPoolExecutor(2, initializer=_init_signer, initargs=(ks.pems,))
    bench = Bench(args, ks, pool)
    runs: list[Run] = []
    try:
        for i in range(args.rounds):
            for setup in setups:
                with workdir(f"scale-{setup}") as folder:
                    if setup == "sqlite":
                        run = await bench.sqlite(folder / "a2")
                    else:
                        run = await bench.postgresql(folder / "a2", server)
                runs.append(run)
                rep.line(f"-- round {i + 1}")
                report_run(rep, run, bench.warm_n)
    finally:
        pool.shutdown()
        ks.close()
        if postgres is not None:
            postgres.close()

    rep.line()
    rates = {s: [r.rate for r in runs if r.setup == s] for s in setups}
    for s in setups:
        rep.line(
            f"{s:<10} median {median(rates[s]):,.0f}/s over {len(rates[s])} rounds "
            f"({', '.join(f'{v:,.0f}' for v in rates[s])})"
        )
    all_ok = all(r.ok(bench.warm_n) for r in runs)
    if len(setups) == 2:
        ratio = median(rates["postgresql"]) / median(rates["sqlite"])
        rep.line(
            f"RESULT postgresql (2 web + 2 worker) / sqlite (1 serve) = {ratio:.2f}; "
            f"PG faster: {'YES' if ratio > 1 else 'NO'}; every reply stored and processed once, no 5xx: {all_ok}"
        )
    rep.line(f"(machine: {os.cpu_count()} cores, shared by the server processes, PostgreSQL and this client)")
    rep.write(args.tag)


if __name__ == "__main__":
    asyncio.run(main())
