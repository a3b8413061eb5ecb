"""`server.access_log`: a real `serve` writes no line per request (and so no client address) unless asked."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from helpers import ServiceProcess

REQUEST_LINE = re.compile(r'127\.0\.0\.1:\d+ - "GET /privacy\?probe=\w+ HTTP/1\.1" 200')


@pytest.mark.parametrize("access_log", [False, True])
async def test_access_log_is_written_only_when_turned_on(tmp_path: Path, access_log: bool) -> None:
    server = ServiceProcess(tmp_path / "a2", server={"access_log": access_log, "background": "inline"})
    try:
        await server.start()
        async with httpx.AsyncClient(timeout=10) as client:
            for probe in ("first", "second"):
                r = await client.get(f"{server.base_url}/privacy?probe={probe}")
                assert r.status_code == 200
    finally:
        server.stop()  # uvicorn flushes its log on the way out
    log = server.log.read_text()
    assert "fediverse-a2 serving" in log  # the process did log (its start), so silence means something
    assert len(REQUEST_LINE.findall(log)) == (2 if access_log else 0), log
