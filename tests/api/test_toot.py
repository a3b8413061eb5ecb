"""`toot`, a command-line client we did not write, run as its own process: `toot login` registers
it and prints the authorisation address, the member signs in and approves in the browser (the
forms driven over HTTP), the code shown on the page is typed back; then toot posts a status
with an image and its description, reads the home and public timelines, answers carol's
comment, likes carol's post and reads the notifications. Carol's server receives what it did."""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from api_client import authorize_code
from app_scene import PASSWORD, Scene, scene_world
from fake_mastodon import FakeMastodon, received_about
from helpers import LiveServer
from media_samples import photo
from webclient import WebUser

TOOT = Path(sys.executable).with_name("toot")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, FakeMastodon, Scene]]:
    async with scene_world(tmp_path) as world:
        yield world


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "NO_COLOR": "1",
            "BROWSER": "true"}  # fmt: skip


class _Output:
    """What a process has printed so far, read as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.text = ""
        self.start = 0

    async def until(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """Read on until `pattern` appears after what an earlier call found."""
        while True:
            found = pattern.search(self.text, self.start)
            if found:
                self.start = found.end()
                return found
            chunk = await asyncio.wait_for(self.stream.read(4096), 30)
            if not chunk:
                raise AssertionError(f"toot ended before {pattern.pattern!r}: {self.text}")
            self.text += chunk.decode()


async def toot_login(a2: LiveServer, home: Path) -> None:
    """`toot login`, answered as a member at a terminal with a browser beside it."""
    proc = await asyncio.create_subprocess_exec(
        str(TOOT), "login", "--instance", a2.base_url, env=_env(home),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    output = _Output(proc.stdout)
    try:
        url = (await output.until(re.compile(r"(http://\S+/oauth/authorize\S+)"))).group(1)
        await output.until(re.compile(r"Open link in default browser"))
        proc.stdin.write(b"n\n")
        async with WebUser(a2.base_url) as web:
            consent = await authorize_code(web, url, "alice", PASSWORD)
        # toot registered urn:ietf:wg:oauth:2.0:oob: the page shows the code to type back
        code = html.unescape(re.search(r'id="oauth-code"[^>]*value="([^"]+)"', consent.location).group(1))  # type: ignore[union-attr]
        await output.until(re.compile(r"Authorization code"))
        proc.stdin.write(code.encode() + b"\n")
        await proc.stdin.drain()
        rest = await asyncio.wait_for(proc.stdout.read(), 30)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, rest.decode()
        assert "Successfully logged in" in rest.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def toot(home: Path, *args: str) -> Any:
    """One toot command with --json; its JSON answer."""
    proc = await asyncio.create_subprocess_exec(
        str(TOOT), *args, "--json", env=_env(home), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, (args, err.decode(), out.decode())
    return orjson.loads(out)


async def test_toot_posts_reads_answers_likes_and_is_told(
    world: tuple[LiveServer, FakeMastodon, Scene], tmp_path: Path
) -> None:
    a2, fake, scene = world
    home = tmp_path / "toot"
    home.mkdir()
    await toot_login(a2, home)
    me = await toot(home, "whoami")
    assert me["acct"] == "alice"

    picture = tmp_path / "fiets.jpg"
    picture.write_bytes(photo())
    status = await toot(home, "post", "Met de fiets naar het stadhuis", "--media", str(picture),
                        "--description", "Een fiets tegen een gracht", "--language", "nl")  # fmt: skip
    assert status["media_attachments"][0]["description"] == "Een fiets tegen een gracht"
    assert status["content"].startswith("<p>Met de fiets naar het stadhuis</p>")

    timeline = await toot(home, "timelines", "home", "--no-pager")
    assert status["id"] in [s["id"] for s in timeline] and scene.carols_post["id"] in [s["uri"] for s in timeline]
    public = await toot(home, "timelines", "public", "--local", "--no-pager")
    assert status["id"] in [s["id"] for s in public]

    blog = next(s for s in timeline if s["url"] == scene.blog_url)
    thread = await toot(home, "thread", blog["id"])
    remark = next(s for s in thread["descendants"] if s["uri"] == scene.remark["id"])
    answer = await toot(home, "post", "Ik ook!", "--reply-to", remark["id"])
    assert answer["in_reply_to_id"] == remark["id"]

    carols = next(s for s in timeline if s["uri"] == scene.carols_post["id"])
    assert (await toot(home, "favourite", carols["id"]))["favourited"] is True

    told = await toot(home, "notifications")
    assert {n["type"] for n in told} >= {"mention", "follow"}
    assert next(n for n in told if n["type"] == "mention")["status"]["id"] == remark["id"]

    note = (await received_about(fake, "Create", status["uri"]))["object"]
    assert note["attachment"][0]["name"] == "Een fiets tegen een gracht"
    assert (await received_about(fake, "Create", answer["uri"]))["object"]["inReplyTo"] == scene.remark["id"]
    assert (await received_about(fake, "Like", scene.carols_post["id"]))["actor"] == a2.rt.urls.actor("alice")
