"""Shared fixtures: a temporary instance folder, an opened Runtime, the storage backends, and the
check that no process a test started outlives the run."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.resource_tracker
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import pg
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from helpers import write_config
from pg import DatabaseFactory

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of PostgreSQL variants (`-m postgresql` runs only those)."""
    config.addinivalue_line("markers", "postgresql: runs against the PostgreSQL test server")
    config.addinivalue_line(
        "markers", "slow: takes minutes; under pytest-xdist it starts first, so it does not end the run alone"
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that runs on the PostgreSQL backend; under pytest-xdist, keep the tests that
    share a fixture wider than a test together on one worker, and hand those groups out first."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
    if config.getoption("dist", "no") == "no":
        return
    grouped: set[str] = set()
    for item in items:
        group = _shared_group(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        if item.get_closest_marker("xdist_group") is not None:
            grouped.add(item.nodeid)
    # The long units of work start first (the slow tests, then the groups): the run then does not
    # end with one worker busy on one of them while the other has nothing left to do.
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, item.nodeid not in grouped))


def _shared_group(item: pytest.Item) -> str | None:
    """The widest fixture of ours wider than one test that `item` uses, as an xdist group name: its
    folder or module for a session fixture, the test's module for a module fixture; None if none.
    (A worker is a process of its own: a shared fixture split over two workers is made twice.)"""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    groups = []
    for definitions in info.name2fixturedefs.values():
        fixture = definitions[-1]
        if fixture.scope == "function" or not fixture.baseid or fixture.argname == "no_process_outlives_the_run":
            continue  # plugins' own (tmp_path_factory, event loops) and the run-wide check
        groups.append(fixture.baseid if fixture.scope in ("session", "package") else item.nodeid.split("::")[0])
    return min(groups, key=len) if groups else None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test; PostgreSQL needs FEDIVERSE_A2_TEST_POSTGRES."""
    name: str = request.param
    if name == "postgresql" and not pg.postgres_available():
        reason = f"{pg.ENV} is not set (source .ci/postgres.sh to start a test server)"
        if os.environ.get("CI") == "true":
            # CI must test both backends: a missing server is an error, not a skip.
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return name


@pytest.fixture
async def database_factory(backend: str) -> AsyncIterator[DatabaseFactory]:
    """Make fresh databases for this backend (None: each instance's own SQLite file); drops them after."""
    made: list[str] = []

    async def make() -> str | None:
        if backend == "sqlite":
            return None
        made.append(await pg.create_database())
        return made[-1]

    try:
        yield make
    finally:
        for url in made:
            await pg.drop_database(url)


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> str | None:
    """A fresh database URL on PostgreSQL, or None for the default SQLite file."""
    return await database_factory()


@pytest.fixture
async def rt(tmp_path: Path, database_url: str | None) -> AsyncIterator[Runtime]:
    """A Runtime on a fresh database in a temp folder (no server), on each backend."""
    runtime = await Runtime.open(load_config(write_config(tmp_path, "http://a2.test", database=database_url)))
    try:
        yield runtime
    finally:
        await runtime.close()


# -- no child process outlives the run ----------------------------------------------------------

_PR_SET_CHILD_SUBREAPER = 36
_STRAGGLERS_SECONDS = 15.0  # what a killed parent's children may take to notice and end


def _become_subreaper() -> bool:
    """Adopt the orphans of our children (the processes of a `serve` killed with SIGKILL), so a
    process left behind is still ours to see (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def _children() -> dict[int, str]:
    """This process's living children (zombies are reaped on the way) and their command lines."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    found: dict[int, str] = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{pid}/stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                        found[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def _own_tracker() -> int | None:
    """multiprocessing's resource tracker of this process: it ends when this process does."""
    return getattr(multiprocessing.resource_tracker._resource_tracker, "_pid", None)


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_run() -> Iterator[None]:
    """Fail the run if any process a test started (or one those started) is still running at its end."""
    if not _become_subreaper():
        yield
        return
    before = set(_children())
    yield
    deadline = time.monotonic() + _STRAGGLERS_SECONDS
    while True:
        left = {pid: cmd for pid, cmd in _children().items() if pid not in before and pid != _own_tracker()}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in left:  # never leave them to pile up, whatever the verdict
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _children()
    assert not left, "processes started by the tests are still running:\n" + "\n".join(
        f"  {pid}: {cmd}" for pid, cmd in sorted(left.items())
    )
