"""`fediverse-a2 event add` as a real process: the event's URL printed last, its page served, its times in
Europe/Amsterdam; bad calls end in one line on stderr and store nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from event_samples import utc
from fediverse_a2.config import load_config
from fediverse_a2.runtime import Runtime
from helpers import AP, ServiceProcess, cli, db_value, last_line, write_config


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, "http://127.0.0.1:8999")
    cli(path, "member", "add", "alice", "--name", "Alice de Vries")
    return path


async def test_event_add_prints_its_url_and_the_event_is_served(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path / "a2")
    server.cli("member", "add", "alice", "--name", "Alice de Vries")
    proc = server.cli(
        "event", "add", "alice", "--title", "Kennisdag open data", "--start", "2031-10-25T22:00",
        "--end", "2031-10-26T04:00", "--location", "Stadhuis Utrecht", "--body", "Met **lunch**.",
    )  # fmt: skip
    url = last_line(proc)
    assert url.startswith(f"{server.base_url}/events/")
    # 22:00 summer time to 04:00 winter time (the clocks go back that night): 20:00 to 03:00 UTC.
    starts = await db_value(server, "SELECT starts_at FROM events")
    ends = await db_value(server, "SELECT ends_at FROM events")
    assert starts == utc(2031, 10, 25, 20)
    assert ends == utc(2031, 10, 26, 3)
    try:
        await server.start()
        async with httpx.AsyncClient(timeout=10) as client:
            page = await client.get(url, headers={"Accept": "text/html"})
            doc = (await client.get(url, headers={"Accept": AP})).json()
    finally:
        server.stop()
    assert page.status_code == 200 and "Kennisdag open data" in page.text and "Stadhuis Utrecht" in page.text
    assert "<strong>lunch</strong>" in page.text
    assert doc["type"] == "Event" and doc["id"] == url and doc["location"]["name"] == "Stadhuis Utrecht"
    assert (doc["startTime"], doc["endTime"]) == ("2031-10-25T20:00:00Z", "2031-10-26T03:00:00Z")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--start", "2031-06-14T17:00", "--end", "2031-06-14T10:00"], "ends before it starts"),
        (["--start", "2031-03-30T02:30", "--end", "2031-03-30T05:00"], "does not exist in Europe/Amsterdam"),
        (["--start", "volgende week", "--end", "2031-06-14T10:00"], "--start is not a date and time"),
        (["--start", "2031-06-14T10:00", "--end", "2031-06-14T11:00", "--title", " "], "--title must not be empty"),
    ],
)
async def test_bad_event_add_is_one_line_and_stores_nothing(config: Path, args: list[str], says: str) -> None:
    full = ["event", "add", "alice", "--title", "Overleg", *args]
    line = _one_line_error(cli(config, *full, check=False))
    assert says in line
    rt = await Runtime.open(load_config(config))
    try:
        assert await rt.db.fetchval("SELECT COUNT(*) FROM posts") == 0
        assert await rt.db.fetchval("SELECT COUNT(*) FROM activities") == 0
    finally:
        await rt.close()


def test_event_add_usage_errors(config: Path) -> None:
    line = _one_line_error(
        cli(config, "event", "add", "alice", "--title", "X", "--start", "2031-06-14T10:00", check=False), 2
    )
    assert "--end" in line
    unknown = ["event", "add", "nobody", "--title", "X", "--start", "2031-06-14T10:00", "--end", "2031-06-14T11:00"]
    line = _one_line_error(cli(config, *unknown, check=False))
    assert "no member named 'nobody'" in line
